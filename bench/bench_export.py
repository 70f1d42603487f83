"""Export and import of a 10,000-item map, against listing it (and, for the import, against bare creates).

`python bench/bench_export.py [--runs 5]`

One `python -m syncmap_tui emulator --port 0 --seed` process on loopback (no rate limit) serves
every side; the client side runs in this process, as `syncmap-tui export`/`import` would.

- Export: `transfer.export_map` of the seeded catalog map (10,000 items) into a file written as
  the command writes it (0600, atomically), against listing the same map with
  `SyncClient.list_items(page_size=100)`, interleaved, medians. Target: ≤ 1.5× the listing (an
  export is a listing plus a line of JSON an item).
- Import into an empty map (10,000 creates, one after another), against the floor: the same
  10,000 `create_item` calls in a loop, into another empty map. Target: ≤ 1.3× the floor.
- The same import run again (every item already there: nothing to write), against the listing.
  Target: ≤ 2× the listing (it reads the map, then the file).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from _support import EmulatorProcess, Result, report

from syncmap_tui.emulator import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
from syncmap_tui.private_files import replacing_atomically
from syncmap_tui.sync.auth import Credentials
from syncmap_tui.sync.client import SyncClient
from syncmap_tui.transfer import Importer, export_map, read_export

SERVICE, MAP = "demo-store", "catalog"
TARGET_EXPORT_RATIO = 1.5
TARGET_IMPORT_RATIO = 1.3
TARGET_RERUN_RATIO = 2.0


async def timed(coroutine) -> float:
    began = time.perf_counter()
    await coroutine
    return time.perf_counter() - began


async def cpu_timed(coroutine) -> tuple[float, float]:
    """Wall time and this process's CPU time: the CPU figure is the client's own cost, which a busy
    machine slows less than it slows the wait for the emulator."""
    began, cpu_began = time.perf_counter(), time.process_time()
    await coroutine
    return time.perf_counter() - began, time.process_time() - cpu_began


async def list_all(client: SyncClient, service_sid: str, map_sid: str) -> int:
    return sum([1 async for _ in client.list_items(service_sid, map_sid, page_size=100)])


async def export_to(client: SyncClient, service, sync_map, path: Path) -> int:
    with replacing_atomically(path) as file:
        return await export_map(client, service, sync_map, lambda line: file.write(line.encode("utf-8")),
                                now=datetime.now(timezone.utc))


async def import_from(client: SyncClient, service_sid: str, map_sid: str, content: bytes) -> object:
    header, items = read_export(io.BytesIO(content))
    importer = Importer(client, service_sid, map_sid, header=header)
    await importer.read_map()
    summary = await importer.run(items)
    assert summary.ok, summary.lines()
    return summary


async def create_all(client: SyncClient, service_sid: str, map_sid: str, content: bytes) -> None:
    _, items = read_export(io.BytesIO(content))
    for item in list(items):
        await client.create_item(service_sid, map_sid, item.key, item.data)


async def measure(url: str, runs: int) -> list[Result]:
    credentials = Credentials.auth_token(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN)
    async with SyncClient(credentials, base_url=url) as client:
        service = await client.fetch_service(SERVICE)
        sync_map = await client.fetch_map(service.sid, MAP)
        listings, exports = [], []
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "catalog.jsonl"
            for _ in range(runs):
                listings.append(await cpu_timed(list_all(client, service.sid, sync_map.sid)))
                exports.append(await cpu_timed(export_to(client, service, sync_map, path)))
            content = path.read_bytes()
        count = content.count(b"\n") - 1
        print(f"exported {count:,} items, {len(content):,} bytes", file=sys.stderr)

        into_import = await client.create_map(service.sid, unique_name="bench-import")
        into_floor = await client.create_map(service.sid, unique_name="bench-floor")
        floor = await timed(create_all(client, service.sid, into_floor.sid, content))
        first = await timed(import_from(client, service.sid, into_import.sid, content))
        reruns = [await timed(import_from(client, service.sid, into_import.sid, content)) for _ in range(runs)]
        rerun = statistics.median(reruns)
        listing = statistics.median(wall for wall, _ in listings)
        export = statistics.median(wall for wall, _ in exports)
        listing_cpu = statistics.median(cpu for _, cpu in listings)
        export_cpu = statistics.median(cpu for _, cpu in exports)
    return [
        Result(f"export {count:,} items to a file, median", export, listing, "s", f"≤ {TARGET_EXPORT_RATIO}× list",
               export <= TARGET_EXPORT_RATIO * listing, "reference: listing them"),
        Result("  client CPU time of each, median", export_cpu, listing_cpu, "s", "(reported)", None),
        Result(f"import {count:,} items into an empty map", first, floor, "s", f"≤ {TARGET_IMPORT_RATIO}× floor",
               first <= TARGET_IMPORT_RATIO * floor, "reference: the same creates in a bare loop"),
        Result("  the same import against the listing", first, listing, "s", "(reported)", None),
        Result("import again (all items already there), median", rerun, listing, "s", f"≤ {TARGET_RERUN_RATIO}× list",
               rerun <= TARGET_RERUN_RATIO * listing, "reference: listing them"),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with EmulatorProcess("--seed") as emulator:
        results = asyncio.run(measure(emulator.url, args.runs))
    return report(results)


if __name__ == "__main__":
    raise SystemExit(main())
