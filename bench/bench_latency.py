"""Far from Twilio (issue #17): every user-visible path at 0, 150 and 300 ms per request, with the
number of round trips it waits for in sequence, against the same path at no latency in the same run.

`python bench/bench_latency.py [--runs 3] [--latencies 0,0.15,0.3] [--paging-items 1000]`

In-process, like the pilot tests: the app (`make_app` with a client factory) against the
in-process emulator over a temporary SQLite file with the demo data (Demo Store's `catalog` map
holds 10,000 items), at 80×24. Every request goes through `RoundTripRecorder`
(syncmap_tui/emulator/round_trips.py), which delays it by the latency (half each way) and records
when it started and ended; a path's *sequential round trips* are the longest chain of its requests
in which each began after the one before ended (requests sent together count once). HOME and XDG_*
are a temporary folder; start-up and the deep link run twice, with no tree cache (a first run,
as from a fresh clone) and with the cache the run before left.

Paths, each timed from the user's action until what it waits for is on the screen:
- start-up: the app starts until the navigator shows the services (with a cache: the cached ones,
  then the server's listing).
- deep link `demo-store catalog sku-00042`: the app starts until the item's JSON is in the editor.
- expand a service: space on Demo Store until its maps are in the tree (cached), then the server's.
- open a map: enter on `catalog` until its first page is in the table.
- open an item: enter on a row until the item is in the editor.
- jump: to `sku-05` until the table's cursor is on sku-05000 (the page before it may come in too).
- save: ctrl+s on an edited item until the saved revision is the editor's base.
- conflict: ctrl+s on an edit whose item another writer changed, until the conflict dialog shows.
- paging: page down every 0.3 s through `--paging-items` items from the top of `catalog`, at 80×24
  and at 200×60 (a page down moves ~4 rows and ~50 rows); a
  *loading row* is any moment (checked every 10 ms) at which the last loaded row is in view while
  the server has more.

Targets (issue #17): deep link ≤ the no-latency time + 2 round trips; open a map and open an item
1 round trip; save 1; the conflict dialog after ≤ 2; paging at 150 ms: no loading row seen.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from _support import isolated_home

from syncmap_tui.config import Target
from syncmap_tui.emulator import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
from syncmap_tui.emulator.app import create_app
from syncmap_tui.emulator.inprocess import emulator_transport
from syncmap_tui.emulator.round_trips import RoundTripRecorder
from syncmap_tui.emulator.seed import seed_demo
from syncmap_tui.emulator.store import SyncStore
from syncmap_tui.sync.auth import Credentials
from syncmap_tui.sync.client import SyncClient
from syncmap_tui.tree_cache import TreeCache
from syncmap_tui.ui.app import DeepLink, make_app
from syncmap_tui.ui.main_screen import MainScreen
from syncmap_tui.ui.widgets.navigator import MapEntry, ServiceEntry

EMBEDDED = Target(label="bench", base_url=None, credentials=None, is_embedded_emulator=True, source="default")
SIZE = (80, 24)
EMULATOR_URL = "http://emulator.test"
SERVICE, MAP, KEY = "demo-store", "catalog", "sku-00042"
JUMP_PREFIX, JUMP_FIRST = "sku-05", "sku-05000"
PAGE_DOWN_EVERY_S = 0.3
PAGING_LATENCY = 0.15
PAGING_SIZES = ((80, 24), (200, 60))
"""A page down moves the table by its height: ~4 rows at 80×24 (the editor below it), ~50 at 200×60."""
WAIT_LIMIT_S = 60.0

DEEP_LINKS = ("deep link, no cache", "deep link, cached tree")
PATHS = ("start-up, no cache", "start-up, cached tree", "  then the server's", *DEEP_LINKS,
         "expand a service", "  then the server's maps", "open a map", "open an item", "jump",
         "save", "conflict", "paging")
ROUND_TRIP_TARGETS = {"open a map": 1, "open an item": 1, "save": 1, "conflict": 2}
"""The most sequential round trips each path may wait for (issue #17)."""
DEEP_LINK_EXTRA_ROUND_TRIPS = 2
"""The deep link may take the no-latency time plus this many round trips."""


@dataclass
class Figures:
    seconds: list[float] = field(default_factory=list)
    round_trips: list[int] = field(default_factory=list)
    requests: list[int] = field(default_factory=list)

    def add(self, seconds: float, round_trips: int, requests: int) -> None:
        self.seconds.append(seconds)
        self.round_trips.append(round_trips)
        self.requests.append(requests)

    @property
    def time(self) -> float:
        return statistics.median(self.seconds) if self.seconds else float("nan")

    @property
    def trips(self) -> int:
        """The most of any run: a target on round trips holds in every run."""
        return max(self.round_trips) if self.round_trips else -1


class Rig:
    """One emulator store, and a fresh client for each app, through a recorder at `latency`."""

    def __init__(self, store: SyncStore) -> None:
        self.store = store
        self.app = create_app(store, account_sid=DEFAULT_ACCOUNT_SID, auth_token=DEFAULT_AUTH_TOKEN)
        self.credentials = Credentials.auth_token(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN)
        self.recorder: RoundTripRecorder | None = None

    def build(self, latency: float, *link: str):
        self.recorder = RoundTripRecorder(emulator_transport(self.app), latency=latency)
        recorder = self.recorder

        def client_factory(_target: Target) -> SyncClient:
            return SyncClient(self.credentials, base_url=EMULATOR_URL, transport=recorder)

        return make_app(EMBEDDED, deep_link=DeepLink(*link), client_factory=client_factory)

    def other_writer(self) -> SyncClient:
        return SyncClient(self.credentials, base_url=EMULATOR_URL, transport=emulator_transport(self.app))


async def wait_until(pilot, condition, what: str) -> None:
    deadline = time.perf_counter() + WAIT_LIMIT_S
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"never saw: {what}")
        await pilot.pause(0.002)


async def settle(app) -> None:
    """Until no worker runs; a worker waiting on a dialog nobody answers would hang the bench."""
    try:
        await asyncio.wait_for(app.workers.wait_for_complete(), WAIT_LIMIT_S)
    except asyncio.TimeoutError:
        raise TimeoutError(f"workers still running; the screen is {app.screen!r}") from None


def main_screen(app) -> MainScreen:
    return next(s for s in app.screen_stack if isinstance(s, MainScreen))


def services_shown(screen: MainScreen) -> bool:
    return any(isinstance(node.data, ServiceEntry) for node in screen.navigator.root.children)


def fresh_services_shown(screen: MainScreen) -> bool:
    return services_shown(screen) and not getattr(screen.navigator, "refreshing", False)


def item_shown(screen: MainScreen, key: str) -> bool:
    return screen.open_item is not None and screen.open_item.key == key and screen.editor.text != ""


async def measure_path(pilot, recorder: RoundTripRecorder, figures: Figures, act, done, what: str) -> None:
    """Time `act` until `done`; the round trips are those the user waited for (ended by then), the
    requests all that the path sent (a read-ahead too)."""
    mark = recorder.mark()
    began = time.perf_counter()
    await act()
    await wait_until(pilot, done, what)
    shown = time.perf_counter()
    await settle(pilot.app)  # what the path still sends is its own, not the next path's
    figures.add(shown - began, recorder.round_trips_until(mark, shown), len(recorder.since(mark)))


def forget_the_tree() -> None:
    """No tree cache: the app starts as on its first run."""
    TreeCache().path.unlink(missing_ok=True)


async def tree_written() -> None:
    """Until the app before has written the tree cache (it does so in a thread, without waiting)."""
    deadline = time.perf_counter() + WAIT_LIMIT_S
    while TreeCache().load(EMULATOR_URL, DEFAULT_ACCOUNT_SID) is None:
        if time.perf_counter() > deadline:
            raise TimeoutError("the tree cache was never written")
        await asyncio.sleep(0.01)


async def startup_path(rig: Rig, latency: float, figures: dict[str, Figures], *, cached: bool) -> None:
    """The app starts until the services show, and until the server's listing shows."""
    if cached:
        await tree_written()
    else:
        forget_the_tree()
    app = rig.build(latency)
    recorder = rig.recorder
    assert recorder is not None
    mark = recorder.mark()
    began = time.perf_counter()
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        await wait_until(pilot, lambda: services_shown(screen), "the services")
        shown = time.perf_counter()
        await wait_until(pilot, lambda: fresh_services_shown(screen), "the server's listing")
        fresh = time.perf_counter()
        await settle(app)
        requests = len(recorder.since(mark))
        if cached:
            figures["start-up, cached tree"].add(shown - began, recorder.round_trips_until(mark, shown), requests)
            figures["  then the server's"].add(fresh - began, recorder.round_trips_until(mark, fresh), requests)
        else:
            figures["start-up, no cache"].add(fresh - began, recorder.round_trips_until(mark, fresh), requests)
        app.exit()


async def session_paths(rig: Rig, latency: float, figures: dict[str, Figures]) -> None:
    """Each path in turn, in one app, once the server's services show."""
    app = rig.build(latency)
    recorder = rig.recorder
    assert recorder is not None
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        await wait_until(pilot, lambda: fresh_services_shown(screen), "the server's listing")
        await settle(app)
        await pilot.pause()

        navigator = screen.navigator
        navigator.focus()
        service_node = next(n for n in navigator.root.children if n.data.service.unique_name == SERVICE)

        async def expand() -> None:
            navigator.move_cursor(service_node)
            await pilot.pause()
            await pilot.press("space")

        def maps_shown() -> bool:
            return any(isinstance(child.data, MapEntry) for child in service_node.children)

        def fresh_maps_shown() -> bool:
            return maps_shown() and service_node.data.maps_loaded

        mark = recorder.mark()
        began = time.perf_counter()
        await expand()
        await wait_until(pilot, maps_shown, "the maps")
        shown = time.perf_counter()
        await wait_until(pilot, fresh_maps_shown, "the server's maps")
        fresh = time.perf_counter()
        await settle(app)
        requests = len(recorder.since(mark))
        figures["expand a service"].add(shown - began, recorder.round_trips_until(mark, shown), requests)
        figures["  then the server's maps"].add(fresh - began, recorder.round_trips_until(mark, fresh), requests)

        map_node = next(c for c in service_node.children if c.data.sync_map.unique_name == MAP)

        async def open_map() -> None:
            navigator.move_cursor(map_node)
            await pilot.pause()
            await pilot.press("enter")

        table = screen.item_table
        await measure_path(pilot, recorder, figures["open a map"], open_map,
                           lambda: screen.current_map is not None and table.row_count > 0, "the first page")

        async def open_item() -> None:
            table.focus()
            table.move_cursor(row=3)
            await pilot.pause()
            await pilot.press("enter")

        key = "sku-00003"
        await measure_path(pilot, recorder, figures["open an item"], open_item, lambda: item_shown(screen, key), "the item")

        async def jump() -> None:
            screen.jump_from_palette(JUMP_PREFIX)

        await measure_path(pilot, recorder, figures["jump"], jump, lambda: table.current_row_key == JUMP_FIRST, "the jump")

        # Save: the item open in the editor, edited.
        saved_from = screen.open_item.loaded_revision

        async def save() -> None:
            data = dict(screen.open_item.item.data, bench=time.time())
            screen.editor.replace_text(json.dumps(data, indent=2))
            await pilot.pause()
            await pilot.press("ctrl+s")

        await measure_path(pilot, recorder, figures["save"], save,
                           lambda: screen.open_item.loaded_revision != saved_from and not screen.editor.is_dirty, "saved")

        # Conflict: another writer changes the item, then the user saves an edit of the old one.
        from syncmap_tui.ui.dialogs.conflict import ConflictDialog

        async with rig.other_writer() as other:
            item = screen.open_item.item
            await other.update_item(item.service_sid, item.map_sid, item.key, data=dict(item.data, theirs=time.time()), if_match=None)

        async def conflicting_save() -> None:
            data = dict(screen.open_item.item.data, mine=time.time())
            screen.editor.replace_text(json.dumps(data, indent=2))
            await pilot.pause()
            await pilot.press("ctrl+s")

        mark = recorder.mark()
        began = time.perf_counter()
        await conflicting_save()
        await wait_until(pilot, lambda: isinstance(app.screen, ConflictDialog), "the conflict dialog")
        shown = time.perf_counter()
        figures["conflict"].add(shown - began, recorder.round_trips_until(mark, shown), len(recorder.since(mark)))
        # Overwrite, as a user would once the dialog takes keys, so that no edit is left unsaved:
        # its draft would be offered at the next start.
        dialog = app.screen
        await wait_until(pilot, lambda: dialog.keys_accepted_from < float("inf") and not dialog.has_class("-guarded"),
                         "the dialog to take keys")
        dialog.query_one("#overwrite").focus()
        await pilot.pause()
        await pilot.press("enter")
        await settle(app)
        app.exit()


async def deep_link_path(rig: Rig, latency: float, figures: Figures, *, cached: bool) -> None:
    if cached:
        await tree_written()
    else:
        forget_the_tree()
    app = rig.build(latency, SERVICE, MAP, KEY)
    recorder = rig.recorder
    assert recorder is not None
    mark = recorder.mark()
    began = time.perf_counter()
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(app)
        await wait_until(pilot, lambda: item_shown(screen, KEY), "the deep-linked item")
        shown = time.perf_counter()
        await settle(app)
        figures.add(shown - began, recorder.round_trips_until(mark, shown), len(recorder.since(mark)))
        app.exit()


async def paging_path(rig: Rig, latency: float, items: int, size: tuple[int, int]) -> dict:
    """Page down every PAGE_DOWN_EVERY_S through `items` items; how often the loaded rows' end was in view."""
    app = rig.build(latency, SERVICE, MAP)
    recorder = rig.recorder
    assert recorder is not None
    async with app.run_test(size=size) as pilot:
        screen = main_screen(app)
        table = screen.item_table
        await wait_until(pilot, lambda: screen.current_map is not None and table.row_count > 0, "the first page")
        await settle(app)
        table.focus()
        table.move_cursor(row=0)
        await pilot.pause()
        seen_loading, checks, presses = 0, 0, 0
        loading_now = False
        began = time.perf_counter()
        while True:
            current = table.current_item
            index = int(current.key.split("-")[1]) if current is not None else 0
            if index >= items:
                break
            await pilot.press("pagedown")
            presses += 1
            due = began + presses * PAGE_DOWN_EVERY_S
            while time.perf_counter() < due:
                await asyncio.sleep(0.01)
                checks += 1
                view_bottom = int(table.scroll_y) + table.scrollable_content_region.height
                at_end = table.row_count - 1 <= max(view_bottom - 1, table.cursor_row) and table.has_more
                if at_end and not loading_now:
                    seen_loading += 1
                loading_now = at_end
        app.exit()
    return {"loading_rows_seen": seen_loading, "presses": presses, "rows_per_press": round(items / presses, 1),
            "requests": len(recorder.exchanges)}


async def measure(runs: int, latencies: list[float], paging_items: int) -> int:
    results: dict[float, dict[str, Figures]] = {latency: {path: Figures() for path in PATHS} for latency in latencies}
    paging: dict[tuple[float, tuple[int, int]], dict] = {}
    with tempfile.TemporaryDirectory() as folder, isolated_home("syncmap-bench-latency-"):
        store = SyncStore(Path(folder) / "bench.sqlite3")
        seed_demo(store, DEFAULT_ACCOUNT_SID)
        rig = Rig(store)
        for run in range(runs):
            for latency in latencies:  # interleaved: a noisy moment hits every latency alike
                figures = results[latency]
                await startup_path(rig, latency, figures, cached=False)
                await startup_path(rig, latency, figures, cached=True)
                await deep_link_path(rig, latency, figures["deep link, no cache"], cached=False)
                await deep_link_path(rig, latency, figures["deep link, cached tree"], cached=True)
                await session_paths(rig, latency, figures)
            print(f"run {run + 1} of {runs} done", flush=True)
        for latency in latencies:
            if latency >= PAGING_LATENCY and paging_items > 0:
                for size in PAGING_SIZES:
                    paging[latency, size] = await paging_path(rig, latency, paging_items, size)
                    print(f"paging at {latency * 1000:.0f} ms, {size[0]}×{size[1]}: {paging[latency, size]}", flush=True)
        store.close()
    return report(results, paging, latencies, paging_items)


def report(results: dict[float, dict[str, Figures]], paging: dict[tuple[float, tuple[int, int]], dict],
           latencies: list[float], paging_items: int) -> int:
    base = results[latencies[0]]
    print()
    header = f"{'path':<26}" + "".join(f"{f'{latency * 1000:.0f} ms':>26}" for latency in latencies)
    print(header)
    print(f"{'':<26}" + "".join(f"{'time (Δ vs 0)  trips/reqs':>26}" for _ in latencies))
    for path in PATHS:
        if path == "paging":
            continue
        cells = []
        for latency in latencies:
            figures = results[latency][path]
            delta = figures.time - base[path].time
            cells.append(f"{figures.time:6.3f} s ({delta:+.2f})  {figures.trips:>2} / {max(figures.requests):>2}")
        print(f"{path:<26}" + "".join(f"{cell:>26}" for cell in cells))
    print()

    for path in DEEP_LINKS:
        samples = "; ".join(f"{latency * 1000:.0f} ms: " + ", ".join(f"{x:.3f}" for x in results[latency][path].seconds)
                            for latency in latencies)
        print(f"{path}, every run (s): {samples}")
    print()

    verdicts: list[tuple[str, bool]] = []
    for latency in latencies:
        if latency == 0:
            continue
        ms = f"{latency * 1000:.0f} ms"
        for path in DEEP_LINKS:
            deep = results[latency][path]
            allowed = base[path].time + DEEP_LINK_EXTRA_ROUND_TRIPS * latency
            verdicts.append((
                f"{path} at {ms}: {deep.time:.3f} s ≤ no-latency {base[path].time:.3f} s + "
                f"{DEEP_LINK_EXTRA_ROUND_TRIPS} × {latency:.2f} s = {allowed:.3f} s ({deep.trips} sequential round trips)",
                deep.time <= allowed,
            ))
        for path, most in ROUND_TRIP_TARGETS.items():
            figures = results[latency][path]
            verdicts.append((f"{path} at {ms}: {figures.trips} sequential round trip(s) ≤ {most}", 0 <= figures.trips <= most))
    for (latency, size), outcome in paging.items():
        ms = f"{latency * 1000:.0f} ms"
        line = (f"paging {paging_items:,} items at {ms}, {size[0]}×{size[1]}, page down every {PAGE_DOWN_EVERY_S} s: "
                f"{outcome['loading_rows_seen']} loading row(s) seen in {outcome['presses']} presses "
                f"({outcome['rows_per_press']} rows each)")
        if latency == PAGING_LATENCY:
            verdicts.append((line, outcome["loading_rows_seen"] == 0))
        else:
            print(f"(reported) {line}")
    for line, met in verdicts:
        print(f"{'MET    ' if met else 'NOT MET'}  {line}")
    return 0 if all(met for _, met in verdicts) else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--latencies", default="0,0.15,0.3", help="seconds per request, comma-separated; the first is the baseline")
    parser.add_argument("--paging-items", type=int, default=1_000, help="0: no paging runs")
    args = parser.parse_args()
    latencies = [float(value) for value in args.latencies.split(",")]
    if latencies[0] != 0:
        parser.error("the first latency is the baseline and must be 0")
    os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
    return asyncio.run(measure(args.runs, latencies, args.paging_items))


if __name__ == "__main__":
    sys.exit(main())
