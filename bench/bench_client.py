"""Client throughput against twilio-python, and the editor's save round trip against a raw POST.

`python bench/bench_client.py [--runs 5] [--saves 200]`

One `python -m syncmap_tui emulator --port 0 --seed` process on loopback serves both sides.

- Listing: every item of the seeded 10,000-item catalog map, 100 a page, with our SyncClient
  (`list_items(..., page_size=100)`) and with the official twilio-python client
  (`client.sync.base_url = url`; `...sync_map_items.list(page_size=100)`), interleaved, medians.
  Target: ours ≥ 2× faster. Also reported: the same pages fetched with bare httpx and json.loads,
  the floor for any client that asks for a page after the previous one arrived; and each listing's
  CPU time in the client process. A listing takes the client's CPU time plus the wait for the
  emulator and the wire, a wait the same for every client; twilio-python's listing minus its own
  CPU time estimates it, and gives the CPU budget within which ours would be 2× faster.
- Save round trip: `SyncClient.update_item(..., data=..., if_match=revision)` as the editor calls
  it, against a raw `httpx.AsyncClient.post` of the same form (Data, If-Match) on a kept-alive
  connection, interleaved, median per request. Target: ours ≤ 1.2× the raw POST.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from dataclasses import dataclass

from _support import EmulatorProcess, Result, report

import httpx

from syncmap_tui.emulator import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
from syncmap_tui.sync.auth import Credentials
from syncmap_tui.sync.client import SyncClient

SERVICE, MAP, SAVED_KEY = "demo-store", "catalog", "sku-00042"
TARGET_LIST_SPEEDUP = 2.0
TARGET_SAVE_RATIO = 1.2


@dataclass
class Listing:
    seconds: float
    cpu_seconds: float
    """CPU time of this process (user and system, every thread) while listing."""
    count: int


class Stopwatch:
    def __init__(self) -> None:
        self.began, self.cpu_began = time.perf_counter(), time.process_time()

    def listing(self, count: int) -> Listing:
        return Listing(time.perf_counter() - self.began, time.process_time() - self.cpu_began, count)


async def list_ours(client: SyncClient, service_sid: str, map_sid: str) -> Listing:
    watch = Stopwatch()
    count = 0
    async for _ in client.list_items(service_sid, map_sid, page_size=100):
        count += 1
    return watch.listing(count)


async def list_raw(url: str, service_sid: str, map_sid: str) -> Listing:
    """The floor of any client that pages one request after another: httpx and json.loads, no models."""
    async with httpx.AsyncClient(base_url=url, auth=(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN), trust_env=False) as raw:
        watch = Stopwatch()
        count, next_url = 0, f"/v1/Services/{service_sid}/Maps/{map_sid}/Items?PageSize=100"
        while next_url:
            body = json.loads((await raw.get(next_url)).content)
            count += len(body["items"])
            next_url = body["meta"]["next_page_url"]
        return watch.listing(count)


def list_twilio(url: str, service_sid: str, map_sid: str) -> Listing:
    # Runs in a worker thread while the event loop waits idle, so the process's CPU time is its own.
    from twilio.rest import Client

    client = Client(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN)
    client.sync.base_url = url
    watch = Stopwatch()
    items = client.sync.v1.services(service_sid).sync_maps(map_sid).sync_map_items.list(page_size=100)
    return watch.listing(len(items))


async def save_rounds(url: str, service_sid: str, map_sid: str, saves: int) -> tuple[list[float], list[float]]:
    """Alternate batches of our update_item and a raw POST of the same form; seconds per request."""
    ours_times: list[float] = []
    raw_times: list[float] = []
    credentials = Credentials.auth_token(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN)
    async with SyncClient(credentials, base_url=url) as client, httpx.AsyncClient(
        base_url=url, auth=(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN), trust_env=False,
        headers={"Accept": "application/json"},
    ) as raw:
        path = f"/v1/Services/{service_sid}/Maps/{map_sid}/Items/{SAVED_KEY}"
        revision = (await client.fetch_item(service_sid, map_sid, SAVED_KEY)).revision
        for warm_up in (True, False):
            for batch in range(2 if warm_up else 10):
                for _ in range(5 if warm_up else saves // 20):
                    data = {"sku": SAVED_KEY, "n": batch, "note": "benchmark save"}
                    began = time.perf_counter()
                    saved = await client.update_item(service_sid, map_sid, SAVED_KEY, data=data, if_match=revision)
                    if not warm_up:
                        ours_times.append(time.perf_counter() - began)
                    revision = saved.revision
                for _ in range(5 if warm_up else saves // 20):
                    form = {"Data": json.dumps({"sku": SAVED_KEY, "n": batch, "note": "benchmark save"}, separators=(",", ":"), ensure_ascii=False)}
                    began = time.perf_counter()
                    response = await raw.post(path, data=form, headers={"If-Match": revision})
                    body = response.json()
                    if not warm_up:
                        raw_times.append(time.perf_counter() - began)
                    assert response.status_code == 200, body
                    revision = body["revision"]
    return ours_times, raw_times


async def measure(url: str, runs: int, saves: int) -> list[Result]:
    credentials = Credentials.auth_token(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN)
    async with SyncClient(credentials, base_url=url) as client:
        service_sid = (await client.fetch_service(SERVICE)).sid
        map_sid = (await client.fetch_map(service_sid, MAP)).sid
        ours: list[Listing] = []
        theirs: list[Listing] = []
        floor: list[Listing] = []
        for run in range(runs + 1):  # the first round warms both up and is not counted
            ours_run = await list_ours(client, service_sid, map_sid)
            theirs_run = await asyncio.to_thread(list_twilio, url, service_sid, map_sid)
            raw_run = await list_raw(url, service_sid, map_sid)
            assert ours_run.count == theirs_run.count == raw_run.count == 10_000, (ours_run, theirs_run, raw_run)
            if run:
                ours.append(ours_run)
                theirs.append(theirs_run)
                floor.append(raw_run)
                print(f"run {run}: ours {ours_run.seconds:.2f} s (CPU {ours_run.cpu_seconds:.2f} s), "
                      f"twilio-python {theirs_run.seconds:.2f} s (CPU {theirs_run.cpu_seconds:.2f} s), "
                      f"raw httpx loop {raw_run.seconds:.2f} s (CPU {raw_run.cpu_seconds:.2f} s)", flush=True)
    ours_saves, raw_saves = await save_rounds(url, service_sid, map_sid, saves)
    list_ours_s, list_theirs_s = median_of(ours, "seconds"), median_of(theirs, "seconds")
    save_ours_ms, save_raw_ms = statistics.median(ours_saves) * 1000, statistics.median(raw_saves) * 1000
    floor_s = median_of(floor, "seconds")
    ours_cpu, theirs_cpu, floor_cpu = (median_of(listings, "cpu_seconds") for listings in (ours, theirs, floor))
    wait = list_theirs_s - theirs_cpu
    budget = list_theirs_s / TARGET_LIST_SPEEDUP - wait
    return [
        Result("list 10,000 items (100 a page), median", list_ours_s, list_theirs_s, "s",
               f"≥ {TARGET_LIST_SPEEDUP:.0f}× faster", list_theirs_s >= TARGET_LIST_SPEEDUP * list_ours_s,
               f"reference: twilio-python; {list_theirs_s / list_ours_s:.1f}× faster"),
        Result("  floor: raw httpx page loop, no models", floor_s, list_theirs_s, "s", "(reported)", None,
               f"the most a one-page-at-a-time client can gain on twilio-python here: {list_theirs_s / floor_s:.2f}×"),
        Result("  client CPU time per listing, median", ours_cpu, theirs_cpu, "s", "(reported)", None,
               f"raw httpx loop {floor_cpu:.2f} s; the emulator and the wire take ~{wait:.2f} s of twilio-python's "
               f"{list_theirs_s:.2f} s, so {TARGET_LIST_SPEEDUP:.0f}× needs ours within {budget:.2f} s of CPU"),
        Result("editor save round trip, median", save_ours_ms, save_raw_ms, "ms", f"≤ {TARGET_SAVE_RATIO}×",
               save_ours_ms <= TARGET_SAVE_RATIO * save_raw_ms, f"reference: raw httpx POST; {len(ours_saves)} of each"),
    ]


def median_of(listings: list[Listing], field: str) -> float:
    return statistics.median(getattr(listing, field) for listing in listings)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--saves", type=int, default=200)
    args = parser.parse_args()
    with EmulatorProcess("--seed") as emulator:
        print(f"emulator at {emulator.url}", flush=True)
        results = asyncio.run(measure(emulator.url, args.runs, args.saves))
    return report(results)


if __name__ == "__main__":
    sys.exit(main())
