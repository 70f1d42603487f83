"""Copy out over SSH: the item's JSON, its key, its update as curl or twilio-cli (OSC 52), and its JSON
saved to a file. Which item: the table's row when the table has the focus, else the open item.

The open item is copied as the editor holds it (unsaved edits included, and the notification says so)
with the revision the editor loaded: a command run after someone else's save is refused with 412
rather than writing over it. Any other row is copied as it was listed.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from textual.notifications import SeverityLevel

from syncmap_tui.drafts import json_file_name
from syncmap_tui.private_files import create_new, write_atomically
from syncmap_tui.sync.editing import parse_optional_ttl
from syncmap_tui.sync.models import MapItem
from syncmap_tui.sync.shell_commands import (
    ItemUpdate,
    NotExpressible,
    curl_command,
    twilio_cli_command,
    twilio_cli_offered,
)
from syncmap_tui.sync.validation import ValidationError, check_data, format_data
from syncmap_tui.ui.clipboard import copied_message, osc52_note, tmux_set_clipboard
from syncmap_tui.ui.dialogs.confirm import ConfirmDialog
from syncmap_tui.ui.dialogs.file_path import FilePathDialog

if TYPE_CHECKING:
    from syncmap_tui.ui.main_screen import MainScreen

COPIED_NOTICE_SECONDS = 10
"""Two lines to read, one of them the caveat about the terminal."""


@dataclass(frozen=True)
class CopySource:
    """The item a copy command acts on."""

    service_sid: str
    map_sid: str
    item: MapItem
    """The version loaded: its revision goes in If-Match."""
    text: str
    """The JSON as shown: the editor's text for the open item, else the row's data, formatted."""
    item_ttl_text: str = ""
    collection_ttl_text: str = ""
    edited: bool = False
    """The text differs from the loaded data (an unsaved edit)."""

    @property
    def key(self) -> str:
        return self.item.key

    def update(self) -> ItemUpdate:
        """What a save would send, as one update; ValidationError if the text or a TTL does not parse."""
        checked = check_data(self.text)
        if checked.error is not None:
            raise checked.error
        assert checked.value is not None  # no error: the text parsed
        return ItemUpdate(
            self.service_sid, self.map_sid, self.item.key, self.item.revision, checked.value,
            parse_optional_ttl(self.item_ttl_text), parse_optional_ttl(self.collection_ttl_text),
        )


class CopyFlows:
    """The screen's copy and save-to-file commands (MainScreen starts the save as a worker)."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen

    def source(self) -> CopySource | None:
        """The row when the table has the focus (or nothing is open), else the open item."""
        screen = self.screen
        editor = screen.editor_if_mounted
        open_item = editor.open_item if editor is not None else None
        table = screen.item_table
        row = table.current_item
        if editor is not None and open_item is not None and (row is None or row.key == open_item.key or not table.has_focus):
            mine = editor.mine()
            return CopySource(
                open_item.service_sid, open_item.map_sid, open_item.item, mine.text,
                mine.item_ttl, mine.collection_ttl, edited=editor.modified,
            )
        entry = screen.current_map
        if row is None or entry is None:
            return None
        return CopySource(entry.service.sid, entry.sync_map.sid, row, format_data(row.data))

    def source_or_say(self) -> CopySource | None:
        source = self.source()
        if source is None:
            self.screen.notify("Open an item or select a row first.")
        return source

    def _copy(self, what: str, text: str) -> None:
        self.screen.app.copy_to_clipboard(text)
        tmux = tmux_set_clipboard() if os.environ.get("TMUX") else None
        self.screen.notify(copied_message(what, text, osc52_note(os.environ, tmux)), timeout=COPIED_NOTICE_SECONDS)

    def _refuse(self, why: str, severity: SeverityLevel = "error") -> None:
        self.screen.notify(f"Not copied: {why}.", severity=severity, timeout=COPIED_NOTICE_SECONDS)

    def copy_item_json(self) -> None:
        source = self.source_or_say()
        if source is not None:
            what = f"the JSON of {source.key!r}" + (" (with your unsaved edit)" if source.edited else "")
            self._copy(what, source.text)

    def copy_key(self) -> None:
        source = self.source_or_say()
        if source is not None:
            self._copy(f"the key {source.key!r}", source.key)

    def copy_as_curl(self) -> None:
        source = self.source_or_say()
        if source is None:
            return
        target = self.screen.target
        base_url = target.base_url
        if base_url is None:
            self._refuse(
                "this session uses the embedded emulator, which has no URL; serve it with "
                "`syncmap-tui emulator` and connect with --base-url", "warning",
            )
            return
        uses_api_key = target.credentials is not None and target.credentials.uses_api_key
        self._copy_command("curl", source, lambda update: curl_command(base_url, update, uses_api_key=uses_api_key))

    def copy_as_twilio_cli(self) -> None:
        source = self.source_or_say()
        if source is None:
            return
        refused = twilio_cli_offered(self.screen.target.base_url)
        if refused is not None:
            self._refuse(refused, "warning")
            return
        self._copy_command("twilio-cli", source, twilio_cli_command)

    def _copy_command(self, tool: str, source: CopySource, build: Callable[[ItemUpdate], str]) -> None:
        try:
            command = build(source.update())
        except ValidationError as error:
            self._refuse(error.message)
            return
        except NotExpressible as error:
            self._refuse(str(error))
            return
        data = "your unsaved edit" if source.edited else "its data"
        self._copy(f"a {tool} update of {source.key!r} ({data}, If-Match revision {source.item.revision})", command)

    async def save_item_json(self, source: CopySource) -> None:
        """Ask where, then write the JSON (0600, whole or not at all); an existing file only if the user says so."""
        screen = self.screen
        suggested = str(Path.cwd() / json_file_name(source.key, "item"))
        answer = await screen.app.push_screen_wait(FilePathDialog(
            suggested,
            title="Save the item's JSON to a file",
            note="An existing file is replaced only if you say so. The file is readable by you alone.",
        ))
        if answer is None:
            return
        path = Path(answer).expanduser()
        if path.is_dir():
            path = path / json_file_name(source.key, "item")
        data = (source.text if source.text.endswith("\n") else source.text + "\n").encode("utf-8")
        try:
            await asyncio.to_thread(create_new, path, data)
        except FileExistsError:
            replace = await screen.app.push_screen_wait(
                ConfirmDialog("Replace the file?", [("file", str(path.resolve()))], confirm_label="Replace")
            )
            if not replace:
                screen.notify("Not saved: the file was left as it was.")
                return
            await asyncio.to_thread(write_atomically, path, data)
        edited = " (with your unsaved edit)" if source.edited else ""
        screen.notify(f"Saved the JSON of {source.key!r}{edited} to {path.resolve()}.")
