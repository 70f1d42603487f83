"""Find in values over a 10,000-item map, against listing the same map, in one run.

`python bench/bench_find.py [--runs 3]`

One emulator process (`syncmap-tui emulator --seed`: demo-store › catalog holds 10,000 items) on
loopback. Interleaved, medians:

- reference: listing the map with our client, 100 items a page, nothing else done;
- the scan the app runs (sync/find.py `scan_map`), paced as in the app (at most 10 pages a second,
  MIN_SECONDS_BETWEEN_PAGES, to leave half of Twilio's per-map read budget to the service's clients),
  for a text query and a path test; its floor is 100 pages × 0.1 s = 10 s, whatever the server;
- the same scans unpaced: the listing plus the matching, so their ratio to the reference is what
  testing every item costs. Target: unpaced ≤ 1.5× the listing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time

from _support import EmulatorProcess, Result, report

from syncmap_tui.emulator import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
from syncmap_tui.sync.auth import Credentials
from syncmap_tui.sync.client import SyncClient
from syncmap_tui.sync.find import MIN_SECONDS_BETWEEN_PAGES, parse_query, scan_map

SERVICE, MAP = "demo-store", "catalog"
MAP_ITEMS = 10_000
TARGET_MATCHING_RATIO = 1.5
QUERIES = {"text": "sku-09999", "path test": "price_cents=1999"}


async def list_all(client: SyncClient, service_sid: str, map_sid: str) -> tuple[float, int]:
    began = time.perf_counter()
    count = 0
    async for _ in client.list_items(service_sid, map_sid, page_size=100):
        count += 1
    return time.perf_counter() - began, count


async def scan(client: SyncClient, service_sid: str, map_sid: str, text: str, pace: float) -> tuple[float, int, int]:
    query = parse_query(text)
    assert query is not None
    began = time.perf_counter()
    scanned = found = 0
    async for step in scan_map(client, service_sid, map_sid, query, min_seconds_between_pages=pace):
        scanned, found = step.scanned, found + len(step.matches)
    return time.perf_counter() - began, scanned, found


async def measure(url: str, runs: int) -> list[Result]:
    credentials = Credentials.auth_token(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN)
    async with SyncClient(credentials, base_url=url) as client:
        service_sid = (await client.fetch_service(SERVICE)).sid
        map_sid = (await client.fetch_map(service_sid, MAP)).sid
        listing: list[float] = []
        unpaced: dict[str, list[float]] = {name: [] for name in QUERIES}
        paced: dict[str, list[float]] = {name: [] for name in QUERIES}
        found: dict[str, int] = {}
        for run in range(runs + 1):  # the first round warms up and is not counted
            seconds, count = await list_all(client, service_sid, map_sid)
            assert count == MAP_ITEMS, count
            if run:
                listing.append(seconds)
            for name, text in QUERIES.items():
                seconds, scanned, found[name] = await scan(client, service_sid, map_sid, text, 0.0)
                assert scanned == MAP_ITEMS, scanned
                if run:
                    unpaced[name].append(seconds)
            print(f"run {run}: list {listing[-1] if run else seconds:.2f} s; "
                  + ", ".join(f"{n} unpaced {unpaced[n][-1]:.2f} s" for n in QUERIES if run), flush=True)
        for name, text in QUERIES.items():  # once each: 10 s apiece by design
            seconds, scanned, _ = await scan(client, service_sid, map_sid, text, MIN_SECONDS_BETWEEN_PAGES)
            assert scanned == MAP_ITEMS, scanned
            paced[name].append(seconds)
    list_s = statistics.median(listing)
    results = [Result("list 10,000 items (100 a page), median", list_s, None, "s", "(reference)", None)]
    for name, text in QUERIES.items():
        scan_s = statistics.median(unpaced[name])
        results.append(Result(
            f"scan 10,000 items, {name} {text!r}, unpaced", scan_s, list_s, "s", f"≤ {TARGET_MATCHING_RATIO}× listing",
            scan_s <= TARGET_MATCHING_RATIO * list_s, f"{found[name]} found; matching costs {scan_s - list_s:+.2f} s",
        ))
        results.append(Result(
            f"  as the app runs it (≤ {1 / MIN_SECONDS_BETWEEN_PAGES:.0f} pages/s)", paced[name][0], list_s, "s",
            "(reported)", None, f"floor {MAP_ITEMS // 100 * MIN_SECONDS_BETWEEN_PAGES:.0f} s by the pacing",
        ))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with EmulatorProcess("--seed") as emulator:
        print(f"emulator at {emulator.url}", flush=True)
        results = asyncio.run(measure(emulator.url, args.runs))
    return report(results)


if __name__ == "__main__":
    sys.exit(main())
