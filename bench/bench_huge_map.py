"""A 100,000-item map: first page, jumps, memory while scrolling, what is fetched, and the SQL plan.

`python bench/bench_huge_map.py [--scroll 10000] [--stock-gc]`

In-process, like the pilot tests: the app (`make_app` with a client factory, and `manage_gc` as
the app's own process has it: collections held during start-up, which is then frozen) against the
in-process emulator over a temporary SQLite file holding a 100,000-item map (made with
`SyncStore.create_items`, one transaction) and a 100-item map. A transport wrapper counts the
requests and the items the server sends. The reference of each timed operation is the same
operation on the 100-item map, in the same run.

- first page: `open map` until its first rows are in the table and drawn. Target ≤ 0.3 s.
- jump: jump to keys spread over the map (start, middle, end, a missing key) until the table
  starts there. Target: the slowest ≤ 0.3 s.
- scrolling: page down through `--scroll` items from the start of the map; memory is the RSS
  growth from the first page to the end. Target: ≤ 50 MB and bounded: the table keeps at most
  ItemTable's MAX_ROWS rows and the second half of the scroll adds ≤ 5 MB. Paging back up with
  the keyboard must reach the first item again.
- never the whole map: items fetched paging down (target: no more than the items scrolled past
  plus two pages of look-ahead), and in the whole run, paging back up included (target: < 50 %
  of the map).
- the store's listing query is checked with EXPLAIN QUERY PLAN: a search on the primary key,
  no table scan and no temporary B-tree for the ORDER BY.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _support import Result, report

import httpx

from syncmap_tui.config import Target
from syncmap_tui.emulator import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
from syncmap_tui.emulator.app import create_app
from syncmap_tui.emulator.inprocess import emulator_transport
from syncmap_tui.emulator.store import SyncStore
from syncmap_tui.sync.auth import Credentials
from syncmap_tui.sync.client import SyncClient
from syncmap_tui.ui.app import make_app
from syncmap_tui.ui.main_screen import MainScreen
from syncmap_tui.ui.widgets import item_table
from syncmap_tui.ui.widgets.navigator import MapEntry

HUGE, SMALL = 100_000, 100
TARGET_FIRST_PAGE_S = 0.3
TARGET_JUMP_S = 0.3
TARGET_GROWTH_MB = 50
TARGET_SECOND_HALF_MB = 5
"""Bounded: the second half of the scroll adds (next to) nothing."""
TARGET_FETCHED_FRACTION = 0.5
EMBEDDED = Target(label="bench", base_url=None, credentials=None, is_embedded_emulator=True, source="default")


def key_of(index: int) -> str:
    return f"item-{index:06d}"


def data_of(index: int) -> str:
    return json.dumps(
        {"sku": f"SKU-{index:06d}", "name": f"Product {index}", "price_cents": 99 + index % 10_000, "tags": ["bench"]},
        separators=(",", ":"),
    )


class CountingTransport(httpx.AsyncBaseTransport):
    """Counts requests, and the items in every list of items the server sends."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests = 0
        self.items = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        response = await self.inner.handle_async_request(request)
        if request.method == "GET" and request.url.path.endswith("/Items"):
            body = await response.aread()
            self.items += len(json.loads(body).get("items", []))
        return response


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def query_plans(store: SyncStore, statements: list[str]) -> dict[str, list[str]]:
    """EXPLAIN QUERY PLAN of each shape of item listing the app made (first page, From, page token, desc)."""
    plans: dict[str, list[str]] = {}
    for statement in statements:
        if not (statement.lstrip().upper().startswith("SELECT ITEM_KEY") and "LIMIT" in statement.upper()):
            continue
        shape = re.sub(r"'[^']*'|\b\d+\b", "?", statement)
        if shape not in plans:
            plans[shape] = [row[-1] for row in store._db.execute(f"EXPLAIN QUERY PLAN {statement}").fetchall()]
    return plans


async def wait_until(pilot, condition, timeout: float = 30.0) -> None:
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the app did not get there in time")
        await pilot.pause(0.002)


async def open_map(pilot, screen: MainScreen, entry: MapEntry) -> float:
    """Seconds from asking to open the map until its first rows are in the table and drawn."""
    table = screen.item_table
    began = time.perf_counter()
    screen.open_map_from_palette(entry)
    await wait_until(pilot, lambda: screen.current_map is entry and table.row_count > 0 and not table.page_pending
                     and next(iter(table.items), None) is not None)
    await pilot.pause()
    return time.perf_counter() - began


async def jump(pilot, screen: MainScreen, prefix: str, expected_first: str) -> float:
    table = screen.item_table
    began = time.perf_counter()
    screen.jump_from_palette(prefix)
    await wait_until(pilot, lambda: next(iter(table.items), None) == expected_first)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    return time.perf_counter() - began


async def scroll_through(pilot, screen: MainScreen, count: int) -> dict:
    """Page down from the first row until the cursor has passed `count` items; memory on the way.

    Memory is the process's RSS and Python's count of allocated blocks, after a collection, at
    every 1,000 items (tracemalloc would slow the scrolling four-fold)."""
    table = screen.item_table
    table.focus()
    table.move_cursor(row=0)
    await pilot.pause()
    gc.collect()
    rss_start, blocks_start = rss_mb(), sys.getallocatedblocks()
    samples = []
    presses = 0
    began = time.perf_counter()
    while True:
        current = table.current_item
        index = int(current.key.split("-")[1]) if current else 0
        if index >= count:
            break
        await pilot.press("pagedown")
        presses += 1
        if table.page_pending:
            await pilot.app.workers.wait_for_complete()
        if index // 1000 >= len(samples):
            gc.collect()
            samples.append((index, rss_mb() - rss_start, sys.getallocatedblocks() - blocks_start, table.row_count))
    scroll_seconds = time.perf_counter() - began
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    gc.collect()
    half = next((s for s in samples if s[0] >= count // 2), samples[-1])
    return {
        "rss_growth_mb": rss_mb() - rss_start,
        "rss_growth_second_half_mb": rss_mb() - rss_start - half[1],
        "blocks_growth": sys.getallocatedblocks() - blocks_start,
        "rows_kept": table.row_count,
        "seconds": scroll_seconds,
        "seconds_per_page": scroll_seconds / max(1, presses),
        "samples": samples,
    }


async def scroll_back_to_start(pilot, screen: MainScreen) -> bool:
    """Page up until the cursor stops moving; True if it reached the map's first item."""
    table = screen.item_table
    for _ in range(5_000):
        before = table.current_item.key if table.current_item else None
        await pilot.press("pageup")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        current = table.current_item.key if table.current_item else None
        if current == key_of(0):
            return True
        if current == before and not table.page_pending:
            return False
    return False


async def measure(scroll: int, manage_gc: bool = True) -> list[Result]:
    with tempfile.TemporaryDirectory() as folder:
        store = SyncStore(Path(folder) / "huge.sqlite3")
        service = store.create_service(DEFAULT_ACCOUNT_SID, unique_name="bench", friendly_name="Bench")
        maps = {}
        for name, size in (("huge", HUGE), ("small", SMALL)):
            sync_map = store.create_map(DEFAULT_ACCOUNT_SID, service.sid, unique_name=name)
            began = time.perf_counter()
            store.create_items(DEFAULT_ACCOUNT_SID, service.sid, sync_map.sid, ((key_of(i), data_of(i), 0) for i in range(size)))
            print(f"created the {size:,}-item map in {time.perf_counter() - began:.2f} s", flush=True)
            maps[name] = sync_map
        statements: list[str] = []
        store._db.set_trace_callback(statements.append)

        counter = CountingTransport(emulator_transport(create_app(store, account_sid=DEFAULT_ACCOUNT_SID, auth_token=DEFAULT_AUTH_TOKEN)))
        credentials = Credentials.auth_token(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN)
        # manage_gc: as the real process (`App.run`) does, which run_test leaves off.
        app = make_app(EMBEDDED, client_factory=lambda _: SyncClient(credentials, base_url="http://emulator.test", transport=counter),
                       manage_gc=manage_gc)
        results: list[Result] = []
        async with app.run_test(size=(100, 40)) as pilot:
            await app.workers.wait_for_complete()
            screen = next(s for s in app.screen_stack if isinstance(s, MainScreen))
            assert screen.client is not None
            entries = {}
            for name in maps:
                api_map = await screen.client.fetch_map(service.sid, name)
                api_service = await screen.client.fetch_service(service.sid)
                entries[name] = MapEntry(api_service, api_map)

            first_small = [await open_map(pilot, screen, entries["small"]) for _ in range(3)]
            first_huge = [await open_map(pilot, screen, entries["huge"]) for _ in range(3)]
            print(f"first page: huge {[round(x, 3) for x in first_huge]} s, small {[round(x, 3) for x in first_small]} s")

            targets = [(key_of(0), key_of(0)), (key_of(50_000), key_of(50_000)), (key_of(99_990), key_of(99_990)),
                       ("item-0777", key_of(77_700)), ("item-031415x", key_of(31_416))]
            jumps_huge = [await jump(pilot, screen, prefix, first) for prefix, first in targets]
            await open_map(pilot, screen, entries["small"])
            jumps_small = [await jump(pilot, screen, prefix, first) for prefix, first in
                           [(key_of(0), key_of(0)), (key_of(50), key_of(50)), (key_of(99), key_of(99)), ("item-00007", key_of(70)), ("item-000031x", key_of(32))]]
            print(f"jumps: huge {[round(x, 3) for x in jumps_huge]} s, small {[round(x, 3) for x in jumps_small]} s")

            await open_map(pilot, screen, entries["huge"])
            fetched_before_scroll = counter.items
            scrolled = await scroll_through(pilot, screen, scroll)
            fetched_scrolling_down = counter.items - fetched_before_scroll
            for index, rss, blocks, rows in scrolled["samples"]:
                print(f"  at item {index:>6,}: RSS {rss:+6.1f} MB, allocated blocks {blocks:+9,}, table rows {rows:,}")
            back_at_start = await scroll_back_to_start(pilot, screen)
            print(f"scrolled {scroll:,} items in {scrolled['seconds']:.1f} s; back to the first item with page up: {back_at_start}")

        plans = query_plans(store, statements)
        store.close()

    for shape, plan in plans.items():
        print(f"query plan: {plan}  <- {shape.split(' FROM ')[1][:110]}")
    plan_ok = bool(plans) and all(
        any("USING PRIMARY KEY" in step or "USING INDEX" in step for step in plan)
        and not any(step.startswith("SCAN") or "TEMP B-TREE" in step for step in plan)
        for plan in plans.values()
    )
    fetched_fraction = counter.items / HUGE
    growth = max(scrolled["rss_growth_mb"], 0.0)
    max_rows = getattr(item_table, "MAX_ROWS", None)  # None: the table keeps every row it loads
    bounded = max_rows is not None and scrolled["rows_kept"] <= max_rows
    bounded = bounded and scrolled["rss_growth_second_half_mb"] <= TARGET_SECOND_HALF_MB
    results += [
        Result("first page of a 100,000-item map (median of 3)", statistics.median(first_huge), statistics.median(first_small),
               "s", f"≤ {TARGET_FIRST_PAGE_S} s", statistics.median(first_huge) <= TARGET_FIRST_PAGE_S, "reference: 100-item map"),
        Result("jump to a key, slowest of 5", max(jumps_huge), max(jumps_small), "s", f"≤ {TARGET_JUMP_S} s",
               max(jumps_huge) <= TARGET_JUMP_S, "reference: 100-item map"),
        Result(f"RSS growth paging through {scroll:,} items", growth, None, "MB",
               f"≤ {TARGET_GROWTH_MB} MB, bounded", growth <= TARGET_GROWTH_MB and bounded and back_at_start,
               f"second half +{scrolled['rss_growth_second_half_mb']:.1f} MB; table keeps {scrolled['rows_kept']:,} rows "
               f"(limit {max_rows or 'none'}); page up back to the first item: {back_at_start}"),
        Result("page down, mean time per press", scrolled["seconds_per_page"], None, "s", "(reported)", None,
               "in-process pilot, includes loading pages"),
        Result(f"items fetched paging down {scroll:,} items", fetched_scrolling_down, scroll, "items",
               "≤ scrolled + 2 pages", fetched_scrolling_down <= scroll + 200, "reference: the items scrolled past"),
        Result("items fetched, whole run (of 100,000)", counter.items, HUGE, "items", f"< {TARGET_FETCHED_FRACTION:.0%}",
               fetched_fraction < TARGET_FETCHED_FRACTION,
               f"{counter.requests} requests, paging back up to the first item included"),
        Result("item listings use the (map_id, key) index", len(plans), None, "shapes", "no scan, no temp B-tree", plan_ok,
               "; ".join(sorted({step for plan in plans.values() for step in plan}))),
    ]
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scroll", type=int, default=10_000)
    parser.add_argument("--stock-gc", action="store_true",
                        help="leave Python's collector as it is, rather than as the app's own process sets it")
    args = parser.parse_args()
    os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
    return report(asyncio.run(measure(args.scroll, manage_gc=not args.stock_gc)))


if __name__ == "__main__":
    sys.exit(main())
