"""Export the open map to a file, and import a file into it: the palette's side of `syncmap-tui
export` and `import` (the same `transfer` module, the same rules; see its docstring).

The palette's import always asks first: it reads the file and the map, says what it would do (a dry
run), and writes only on confirmation; conflicts are kept (`--on-conflict skip`, the command's
default). Escape cancels either one between two requests; an import cancelled or failed part-way
can be run again, and goes on where it stopped.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from syncmap_tui.config import state_dir
from syncmap_tui.drafts import file_stem
from syncmap_tui.private_files import ensure_private_dir, replacing_atomically
from syncmap_tui.sync.session import STORAGE_ERRORS
from syncmap_tui.ui import formatting

# `transfer` is imported where it is used: it brings the client and httpx (~40 ms by -X importtime),
# which the first frame goes without. Dialogs: see ui/dialogs/__init__.py.
if TYPE_CHECKING:
    from syncmap_tui.transfer import ExportHeader, ImportSummary
    from syncmap_tui.ui.main_screen import MainScreen
    from syncmap_tui.ui.widgets.navigator import MapEntry


def default_map_exports_dir() -> Path:
    """Where "Export map…" suggests writing (private, beside the drafts, not wherever the app was started)."""
    return state_dir() / "exports"


def suggested_name(entry: MapEntry, now: datetime) -> str:
    """`SERVICE-MAP-YYYYMMDD-HHMMSS.jsonl`, each name made safe as every suggested file name is (file_stem)."""
    service = entry.service.unique_name or entry.service.sid
    parts = (file_stem(service, "service", limit=60), file_stem(entry.sync_map.display_name, "map", limit=60))
    return f"{parts[0]}-{parts[1]}-{now:%Y%m%d-%H%M%S}.jsonl"


class TransferFlows:
    """The bodies of the screen's export and import workers (MainScreen starts them)."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen

    async def export_map(self) -> None:
        from syncmap_tui.transfer import export_map
        from syncmap_tui.ui.dialogs.file_path import FilePathDialog

        screen = self.screen
        entry = screen.current_map
        if entry is None or screen.client is None:
            screen.notify("Open a map first.")
            return
        folder = default_map_exports_dir()
        now = formatting.now_utc()
        answer = await screen.app.push_screen_wait(FilePathDialog(
            str(folder / suggested_name(entry, now)),
            title=f"Export map {entry.sync_map.display_name} to a file (JSON Lines)",
            note="Readable by you alone (0600). An existing file is never overwritten.",
            action="Export",
        ))
        if answer is None:
            return
        path = Path(answer).expanduser()
        client = screen.client
        try:
            if path.parent == folder:
                await asyncio.to_thread(ensure_private_dir, folder)
            with replacing_atomically(path, overwrite=False) as file:
                count = await export_map(
                    client, entry.service, entry.sync_map, lambda line: file.write(line.encode("utf-8")), now=now,
                    progress=lambda n: screen.set_activity(f"exported {n:,}…"),
                )
        except asyncio.CancelledError:
            screen.set_activity()
            screen.notify("Export cancelled; no file was written.", markup=False)
            raise
        except FileExistsError:
            screen.set_activity()
            screen.notify(f"{path} exists already; nothing was written. Choose another name.",
                          severity="error", markup=False)
            return
        except OSError as error:
            screen.set_activity()
            screen.notify(f"Writing {path} failed: {error.strerror or error}; nothing was written.",
                          severity="error", markup=False)
            return
        except STORAGE_ERRORS as error:
            screen.fail("Exporting the map", error)
            return
        screen.set_activity()
        screen.notify(f"Exported {count:,} items of {entry.sync_map.display_name!r} to {path.resolve()}.", markup=False)

    async def import_into_map(self) -> None:
        from syncmap_tui.transfer import ExportFileError, check_export_file
        from syncmap_tui.ui.dialogs.file_path import FilePathDialog

        screen = self.screen
        entry = screen.current_map
        if entry is None or screen.client is None:
            screen.notify("Open a map first.")
            return
        answer = await screen.app.push_screen_wait(FilePathDialog(
            str(default_map_exports_dir()) + "/",
            title=f"Import a file into map {entry.sync_map.display_name}",
            note="A file written by Export map… or `syncmap-tui export`. You see what it would do first.",
            action="Read it",
        ))
        if answer is None:
            return
        path = Path(answer).expanduser()
        try:
            header, count = await asyncio.to_thread(check_export_file, path)
        except ExportFileError as error:
            screen.notify(f"{path}: {error.message}. Nothing was imported.", severity="error", markup=False)
            return
        except OSError as error:
            screen.notify(f"Cannot read {path}: {error.strerror or error}.", severity="error", markup=False)
            return
        preview = await self._run_import(entry, path, header, dry_run=True)
        if preview is not None and await self._confirmed(entry, count, preview):
            await self._run_import(entry, path, header, dry_run=False)
            await screen.navigation.refresh()

    async def _confirmed(self, entry: MapEntry, count: int, preview: ImportSummary) -> bool:
        from syncmap_tui.ui.dialogs.confirm import ConfirmDialog

        screen = self.screen
        name = entry.sync_map.display_name
        fields = [("map", name), ("service", entry.service.display_name), ("preview", preview.lines()[1].strip())]
        fields.extend(("kept", problem) for problem in preview.problems[:5])
        if entry.service.saves_call_webhook:
            fields.append(("webhook", "the service's webhook is called once for each item written"))
        confirmed: bool = await screen.app.push_screen_wait(ConfirmDialog(
            f"Import {count:,} items from the file?",  # the map's name is in the fields, shown literally
            fields,
            confirm_label="Import",
            type_to_confirm=name if screen.target.production else None,
            typed_what="map name",
        ))
        return confirmed

    async def _run_import(
        self, entry: MapEntry, path: Path, header: ExportHeader | None, *, dry_run: bool
    ) -> ImportSummary | None:
        """Read the map, then apply the file (or, in a dry run, count what would be done). The
        summary, or None (said why) if it could not finish."""
        from syncmap_tui.transfer import ExportFileError, Importer, read_export

        screen = self.screen
        assert screen.client is not None
        # The UI's clock (formatting.now_utc), which says when items expire everywhere else on the screen.
        importer = Importer(screen.client, entry.service.sid, entry.sync_map.sid, header=header, dry_run=dry_run,
                            now=lambda: formatting.now_utc())
        summary = importer.summary
        doing = "checking" if dry_run else "importing"
        try:
            await importer.read_map(lambda n: screen.set_activity(f"reading the map: {n:,}…"))
            with open(path, "rb") as file:
                _, items = read_export(file)
                await importer.run(items, lambda s: screen.set_activity(f"{doing} {s.read:,}…"))
        except asyncio.CancelledError:
            self._stopped(summary, "Cancelled", None)
            raise
        except STORAGE_ERRORS as error:  # OSError (the file) is one of them
            self._stopped(summary, f"Stopped: {error}", error)
            return None
        except ExportFileError as error:  # the file changed since it was checked
            self._stopped(summary, f"Stopped: {error.message}", error)
            return None
        screen.set_activity()
        if not dry_run:
            screen.notify(_one_line(summary), severity="information" if summary.ok else "warning", timeout=12,
                          markup=False)
        return summary

    def _stopped(self, summary: ImportSummary, why: str, error: Exception | None) -> None:
        """Say what an import cut short did (a preview cut short: why it failed, if it did)."""
        screen = self.screen
        summary.interrupted = True
        screen.set_activity()
        if not summary.dry_run:
            screen.notify(f"{why}. {_one_line(summary)} Importing again goes on where this stopped.",
                          severity="warning", timeout=12, markup=False)
        elif error is not None:
            screen.fail("Reading the file and the map", error)


def _one_line(summary: ImportSummary) -> str:
    return " ".join(line.strip() for line in summary.lines())
