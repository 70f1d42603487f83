"""`syncmap-tui export` and `syncmap-tui import`: the command lines over `transfer`.

Output: an export's lines go to the file (or stdout); progress (only to a terminal), the summary
and errors go to stderr, so that `syncmap-tui export S M > file` keeps the file clean. Exit
status: 0 done, 1 some items failed (or `--on-conflict fail` stopped), 2 nothing was done (bad
arguments, no connection, a bad file, a read-only target), 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from contextlib import nullcontext
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, TYPE_CHECKING

from syncmap_tui.cli import add_connection_flags, target_from_args
from syncmap_tui.config import Target
from syncmap_tui.ui.literal import visible, visible_lines

if TYPE_CHECKING:
    from syncmap_tui.sync.client import SyncClient
    from syncmap_tui.sync.errors import SyncError
    from syncmap_tui.sync.models import Service, SyncMap

EXIT_OK, EXIT_FAILURES, EXIT_NOTHING_DONE, EXIT_INTERRUPTED = 0, 1, 2, 130

EXPORT_EPILOG = """\
Writes JSON Lines: a header line (where the items came from), then one item a line with key,
data, revision, date_created, date_updated and date_expires. With -o the file is replaced
atomically when the export is complete, readable by you alone (0600): item data is often
personal data.
"""

IMPORT_EPILOG = """\
Creates the file's items that the map lacks, with the TTL that remains until their date_expires
(items already expired are skipped and counted). An item the map already holds with the same data
is done already, so an interrupted import can be run again: it neither duplicates nor overwrites.
Into the map the file came from (a restore), an item that differs is updated only if it is still
the item exported at the file's revision: a file edited after the export applies its edits, a
change made since the export is kept. Into another map, an item that differs gets --on-conflict:
skip (default), fail (stop there), or overwrite, which still sends If-Match on the revision it
has just read, so a change made during the import is kept.
"""


def _parser(command: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"syncmap-tui {command}",
        description="Write a map's items to a JSON Lines file." if command == "export"
        else "Create or update a map's items from a file written by `syncmap-tui export`.",
        epilog=EXPORT_EPILOG if command == "export" else IMPORT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("service", help="service SID, unique name or friendly name")
    parser.add_argument("map", help="map SID or unique name")
    if command == "export":
        parser.add_argument("-o", "--output", type=Path, help="file to write (default: standard output)")
    else:
        parser.add_argument("file", type=Path, help="a file written by `syncmap-tui export`")
        parser.add_argument("--dry-run", action="store_true", help="send no write; say what would be done")
        from syncmap_tui.transfer import ON_CONFLICT_CHOICES

        parser.add_argument("--on-conflict", choices=ON_CONFLICT_CHOICES, default="skip",
                            help="for an item of another map that holds other data (default: skip)")
    add_connection_flags(parser)
    return parser


def run_transfer_command(command: str, argv: list[str]) -> int:
    args = _parser(command).parse_args(argv)
    target = target_from_args(args)
    if target is None:
        return EXIT_NOTHING_DONE
    progress = Progress(sys.stderr)
    try:
        if command == "export":
            return asyncio.run(_export(target, args, progress))
        return asyncio.run(_import(target, args, progress))
    except KeyboardInterrupt:
        progress.done()
        _say("Interrupted." + (" Run the same import again: it goes on where this one stopped." if command == "import" else ""))
        return EXIT_INTERRUPTED


def _say(text: str) -> None:
    print(visible_lines(text), file=sys.stderr)


class Progress:
    """One line rewritten in place on a terminal; nothing when stderr is a file or a pipe."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.shown = False
        self.enabled = stream.isatty()

    def show(self, text: str) -> None:
        if self.enabled:
            self.stream.write("\r\x1b[2K" + visible(text))
            self.stream.flush()
            self.shown = True

    def done(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()
            self.shown = False


async def _open(target: Target, service_name: str, map_name: str) -> tuple[SyncClient, Service, SyncMap] | None:
    """The client, the service and the map, or None after saying why not."""
    from syncmap_tui.connection import open_client
    from syncmap_tui.sync.errors import SyncError

    client = await asyncio.to_thread(open_client, target)
    try:
        service = await find_service(client, service_name)
        if service is None:
            _say(f"syncmap-tui: no service {service_name!r} on {target.label}.")
            await client.aclose()
            return None
        sync_map = await client.fetch_map(service.sid, map_name)
    except SyncError as exc:
        _say(f"syncmap-tui: {exc}")
        await client.aclose()
        return None
    return client, service, sync_map


async def find_service(client: SyncClient, name: str) -> Service | None:
    """A service by SID or unique name (one request), else by any name the editor's deep links take;
    a name that several services answer to is refused: an import must not guess where it writes."""
    from syncmap_tui.sync.errors import NotFound

    try:
        return await client.fetch_service(name)
    except NotFound:
        pass
    matches = [service async for service in client.list_services() if service.answers_to(name)]
    if len(matches) > 1:
        raise _ambiguous(name, [m.sid for m in matches])
    return matches[0] if matches else None


def _ambiguous(name: str, sids: list[str]) -> SyncError:
    from syncmap_tui.sync.errors import SyncError

    return SyncError(f"{len(sids)} services are named {name!r} ({', '.join(sids)}): give a SID")


async def _export(target: Target, args: argparse.Namespace, progress: Progress) -> int:
    from syncmap_tui.private_files import replacing_atomically
    from syncmap_tui.sync.errors import SyncError
    from syncmap_tui.transfer import export_map

    opened = await _open(target, args.service, args.map)
    if opened is None:
        return EXIT_NOTHING_DONE
    client, service, sync_map = opened
    started = time.perf_counter()
    lines_written = 0

    def write(line: str) -> None:
        nonlocal lines_written
        file.write(line.encode("utf-8"))
        lines_written += 1

    try:
        sink = replacing_atomically(args.output) if args.output is not None else nullcontext(sys.stdout.buffer)
        with sink as file:
            count = await export_map(
                client, service, sync_map, write,
                now=datetime.now(timezone.utc),
                progress=lambda n: progress.show(f"exported {n:,} items…"),
            )
            if args.output is None:
                file.flush()
    except SyncError as exc:
        progress.done()
        if args.output:
            kept = "; the file was left as it was."
        elif lines_written == 0:
            kept = "; nothing was written to standard output."
        else:
            # Standard output cannot be taken back, and the format has no end marker: say it is partial.
            kept = (f"; standard output got the header and {lines_written - 1:,} items, an incomplete "
                    "export: do not import it as the whole map.")
        _say(f"syncmap-tui: the export stopped: {exc}{kept}")
        return EXIT_FAILURES
    except OSError as exc:
        progress.done()
        _say(f"syncmap-tui: cannot write the export: {exc.strerror or exc}.")
        return EXIT_FAILURES
    finally:
        await client.aclose()
    progress.done()
    where = str(args.output) if args.output is not None else "standard output"
    _say(f"Exported {count:,} items of map {sync_map.display_name!r} (service {service.display_name!r}) "
         f"to {where} in {time.perf_counter() - started:.1f} s.")
    return EXIT_OK


async def _import(target: Target, args: argparse.Namespace, progress: Progress) -> int:
    from syncmap_tui.sync.errors import SyncError
    from syncmap_tui.transfer import ExportFileError, Importer, check_export_file, read_export

    if target.read_only and not args.dry_run:
        _say(f"syncmap-tui: {target.label} is read-only: an import writes. (--dry-run sends no write.)")
        return EXIT_NOTHING_DONE
    try:
        header, count = check_export_file(args.file)
    except ExportFileError as exc:
        _say(f"syncmap-tui: {args.file}: {exc.message}. Nothing was imported.")
        return EXIT_NOTHING_DONE
    except OSError as exc:
        _say(f"syncmap-tui: cannot read {args.file}: {exc.strerror or exc}.")
        return EXIT_NOTHING_DONE
    opened = await _open(target, args.service, args.map)
    if opened is None:
        return EXIT_NOTHING_DONE
    client, service, sync_map = opened
    if service.saves_call_webhook and not args.dry_run:
        _say(f"Note: service {service.display_name!r} calls its webhook on every REST write: "
             "once for each item this import writes.")
    importer = Importer(client, service.sid, sync_map.sid, header=header, on_conflict=args.on_conflict,
                        dry_run=args.dry_run)
    started = time.perf_counter()
    try:
        await importer.read_map(lambda n: progress.show(f"reading the map: {n:,} items…"))
        with open(args.file, "rb") as file:
            _, items = read_export(file)
            await importer.run(items, lambda s: progress.show(f"{s.read:,} of {count:,} items…"))
    except (SyncError, ExportFileError) as exc:  # a read failed, or the file changed since it was checked
        progress.done()
        importer.summary.interrupted = True
        _say(f"syncmap-tui: the import stopped: {exc}")
        _say("\n".join(importer.summary.lines()))
        return EXIT_FAILURES
    except (KeyboardInterrupt, asyncio.CancelledError):  # ctrl+c: asyncio.run cancels this task
        progress.done()
        importer.summary.interrupted = True
        _say("\n".join(importer.summary.lines()))
        raise
    finally:
        await client.aclose()
    progress.done()
    _say("\n".join(importer.summary.lines()) + f"\n  ({time.perf_counter() - started:.1f} s)")
    return EXIT_OK if importer.summary.ok else EXIT_FAILURES
