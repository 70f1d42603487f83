"""The item editor: JSON with live validation and a size meter, the item's metadata, and TTL fields."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.timer import Timer
from textual.widgets import Input, Static, TextArea

from syncmap_tui.sync.merge import json_equal
from syncmap_tui.sync.models import MapItem
from syncmap_tui.sync.session import EditSession, Mine
from syncmap_tui.sync.validation import (
    MAX_DATA_BYTES,
    DataCheck,
    ValidationError,
    check_data,
    encode_data,
    format_data,
    key_warning,
    wire_size,
)
from syncmap_tui.ui import formatting
from syncmap_tui.ui.display import key_text
from syncmap_tui.ui.formatting import (
    format_expiry,
    format_when,
)
from syncmap_tui.ui.literal import literal, visible
from syncmap_tui.ui.widgets import EDITOR_EMPTY_TEXT
from syncmap_tui.ui.widgets.editor_fields import SizeMeter, TtlField, show_if_changed
from syncmap_tui.ui.widgets.json_area import JsonArea


CONFIRM_DELAY = 0.01
"""Seconds from the frame of an edit inside a string to the full check of the text."""


@dataclass(frozen=True)
class OpenItem:
    """Which item the editor holds and the version of it that edits are based on."""

    service_sid: str
    map_sid: str
    item: MapItem

    @property
    def key(self) -> str:
        return self.item.key

    @property
    def loaded_revision(self) -> str:
        return self.item.revision


def _wire_size_of(data: dict[str, Any]) -> int | None:
    """The wire size of data the server sent; None for data it could not take back (a lone surrogate)."""
    try:
        return wire_size(encode_data(data))
    except ValidationError:
        return None


class ItemEditor(Vertical):
    """Shows one item; knows whether it was changed. The item's `EditSession` decides what a save
    does; the editor is its `Buffer` (the text and TTL fields, read when the session decides)."""

    BINDINGS = [
        Binding("f2", "format_json", "Format", id="format-json"),
        Binding("f3", "minify_json", "Minify", show=False, id="minify-json"),
        Binding("f4", "restore_mine", "Restore mine", show=False, id="restore-mine"),
        Binding("alt+e", "show_json_error", "The whole JSON error (its line is cut to fit)", show=False, id="show-json-error"),
        Binding("escape", "screen.cancel_or_back", "Cancel / back", show=False, id="leave-editor"),
    ]
    ALLOW_MAXIMIZE = True
    """F10 (Body) and the palette's Maximize show the whole editor: the JSON, its status, the TTLs."""

    open_item: reactive[OpenItem | None] = reactive(None, init=False)
    """The item being edited; None shows the empty state."""
    is_dirty: reactive[bool] = reactive(False, init=False, repaint=False)
    """True while the text or a TTL field differs from what was loaded or last saved, formatting
    included: what a draft keeps. `modified` tells a change a save would send from formatting.

    No repaint of its own: the heading shows it, and repainting the editor would redraw every
    line of it (~5 KB over SSH at 80×24) on the first keystroke after a load or a save."""

    class Edited(Message):
        """The text, a TTL field or the session's state changed: time to checkpoint a draft."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.session: EditSession | None = None
        """The open item's edit session, set by the screen; the heading shows its state."""
        self.read_only_reason: str | None = None
        """Why nothing typed here can be saved (a read-only session); None when it can."""
        self.saved_text = ""
        """The text as loaded or as last saved: the reference for the unsaved-changes marker."""
        self._base_size: int | None = None
        """The wire size of the base's data: an edit of another size cannot be JSON-equal to it."""
        self._formatting_only = False
        """The text differs from `saved_text` only in formatting (known once the full check ran)."""
        self._check: DataCheck = check_data("{}")
        self._shown: DataCheck = self._check
        """What the validation line and the size meter show: `_check`, or the figure of an edit
        inside a string (see `_text_edited`) until the full check confirms it."""
        self._check_pending = False
        """The text changed since `_check`; the full check is due (`_confirm_check`)."""
        self._confirm_timer: Timer | None = None
        self._sizes_add_up = True
        """False once the full check has disagreed with a size worked out from an edit (a repeated
        key): every edit of this item is then checked in full at once."""
        self.map_expires: datetime | None = None
        """When the open item's map expires, as last fetched (`show_map_expiry`)."""
        self._ttl_countdown: Timer | None = None
        """The TTL hints' 1 s timer, running only while the open item or its map expires."""

    def compose(self) -> ComposeResult:
        yield Static(Text(EDITOR_EMPTY_TEXT), id="editor-empty")
        with Vertical(id="editor-body"):
            yield Static("", id="editor-heading")
            yield Static("", id="editor-meta")
            yield JsonArea(id="editor-json", after_edit=self._text_edited)
            with Horizontal(id="editor-status"):
                yield Static("", id="validation")
                yield SizeMeter("", id="size-meter")
            with Vertical(id="editor-ttls"):
                yield TtlField("item TTL", id="item-ttl")
                # Twilio's CollectionTtl: it sets when the whole map expires, every item with it.
                yield TtlField("map TTL", id="collection-ttl", subject="whole map")

    def on_mount(self) -> None:
        self.query_one("#editor-body").display = False

    # -- accessors ---------------------------------------------------------------------------

    @property
    def json_area(self) -> JsonArea:
        return self.query_one(JsonArea)

    @property
    def item_ttl(self) -> TtlField:
        return self.query_one("#item-ttl", TtlField)

    @property
    def collection_ttl(self) -> TtlField:
        return self.query_one("#collection-ttl", TtlField)

    @property
    def text(self) -> str:
        return self.json_area.text

    # -- loading ------------------------------------------------------------------------------

    @property
    def check(self) -> DataCheck:
        """The full check of the text as it is now: parsed value, wire form, size, error."""
        if self._check_pending:
            self._confirm_check()
        return self._check

    @check.setter
    def check(self, check: DataCheck) -> None:
        self._check = check
        self._check_pending = False

    def load(self, service_sid: str, map_sid: str, item: MapItem) -> None:
        """Show an item as the server has it; edits start from here."""
        text = format_data(item.data)
        self._sizes_add_up = True
        self.saved_text = text
        self._base_size = _wire_size_of(item.data)
        self.open_item = OpenItem(service_sid, map_sid, item)
        self.json_area.load_text(text)
        self.item_ttl.value = ""
        self.collection_ttl.value = ""
        self._refresh_all()

    def clear_item(self) -> None:
        self.session = None
        self.open_item = None
        self.saved_text = ""
        self.json_area.load_text("")
        self.is_dirty = False

    def show_read_only(self, reason: str | None) -> None:
        """Nothing typed can be saved (`reason` says why): the text and TTL fields take no typing."""
        self.read_only_reason = reason
        self.json_area.read_only = reason is not None
        self.item_ttl.input.disabled = reason is not None
        self.collection_ttl.input.disabled = reason is not None
        self._show_heading()

    def replace_text(self, text: str) -> None:
        """Change the text as an edit, so that undo (ctrl+z) brings the previous text back.

        Characters that do not print become JSON escapes on the way in (see JsonArea.edit).
        """
        area = self.json_area
        area.replace(text, area.document.start, area.document.end)

    # -- the session's Buffer ------------------------------------------------------------------

    def mine(self) -> Mine:
        return Mine(self.text, self.item_ttl.value, self.collection_ttl.value)

    def rebased(self, item: MapItem, mine: Mine | None = None) -> None:
        """Edits now apply on top of `item`; `mine` (text and TTL fields) replaces what is shown."""
        assert self.open_item is not None
        self.open_item = OpenItem(self.open_item.service_sid, self.open_item.map_sid, item)
        self.saved_text = format_data(item.data)
        self._base_size = _wire_size_of(item.data)
        if mine is not None:
            if mine.text != self.text:
                self.replace_text(mine.text)
            self.item_ttl.value = mine.item_ttl
            self.collection_ttl.value = mine.collection_ttl
        self._refresh_all()

    def saved(self, item: MapItem, sent: Mine) -> None:
        """The server now holds `sent` at `item`'s revision. Whatever was typed after `sent` was
        taken stays modified."""
        assert self.open_item is not None
        self.open_item = OpenItem(self.open_item.service_sid, self.open_item.map_sid, item)
        self.saved_text = sent.text
        self._base_size = _wire_size_of(item.data)
        if self.item_ttl.value == sent.item_ttl:
            self.item_ttl.value = ""
        if self.collection_ttl.value == sent.collection_ttl:
            self.collection_ttl.value = ""
        self._refresh_all()

    def changed(self) -> None:
        self._show_heading()
        self.post_message(self.Edited())

    @property
    def modified(self) -> bool:
        """A save would send something (formatting alone is not a change)."""
        return self.is_dirty and not self._formatting_only

    @property
    def stashed_text(self) -> str | None:
        """The edit kept after "take theirs", if any."""
        kept = self.session.kept if self.session is not None else None
        return kept.mine.text if kept is not None else None

    @property
    def stashed_ttls(self) -> tuple[str, str] | None:
        """The ItemTtl and CollectionTtl of the kept edit, if any."""
        kept = self.session.kept if self.session is not None else None
        return (kept.mine.item_ttl, kept.mine.collection_ttl) if kept is not None else None

    # -- live state ----------------------------------------------------------------------------

    def watch_open_item(self, open_item: OpenItem | None) -> None:
        self.query_one("#editor-empty").display = open_item is None
        self.query_one("#editor-body").display = open_item is not None

    def watch_is_dirty(self, is_dirty: bool) -> None:
        self._show_heading()

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        # load_text, undo and redo; an edit tells `_text_edited` instead.
        event.stop()
        self._text_changed()

    def _text_edited(self, wire_delta: int | None) -> None:
        """Called by the JsonArea right after an edit, before the screen updates: so the validation
        line and the size meter change in the same frame as the text, not one frame (≥ 17 ms) later.

        Typing inside a string value of valid JSON keeps it valid and changes the wire size by the
        bytes typed (`wire_delta`): the meter shows that figure in the keystroke's frame, and the
        full check (parse and compact encoding of the whole text, ~1.5 ms for 16 KB) runs after the
        frame is out (`_confirm_check`). Any other edit is checked in full before the frame."""
        shown = self._shown
        if (
            wire_delta is not None
            and self._sizes_add_up
            and shown.error is None
            and shown.size is not None
            and shown.size + wire_delta <= MAX_DATA_BYTES
        ):
            self._check_pending = True
            self._show_check(DataCheck(None, None, shown.size + wire_delta, None))
            if self._confirm_timer is None:
                self.call_after_refresh(self._schedule_confirm)
            self._update_dirty()
            self.post_message(self.Edited())
        else:
            self._text_changed()

    def _schedule_confirm(self) -> None:
        # After the frame, and a little later still: the frame's bytes reach the terminal from
        # Textual's writer thread, which needs the GIL that json would hold.
        if self._confirm_timer is None and self._check_pending:
            self._confirm_timer = self.set_timer(CONFIRM_DELAY, self._confirm_when_due)

    def _confirm_when_due(self) -> None:
        self._confirm_timer = None
        self._confirm_check()

    def _confirm_check(self) -> None:
        """The full check of a text whose figures were worked out from an edit; shows the result."""
        if self._confirm_timer is not None:
            self._confirm_timer.stop()
            self._confirm_timer = None
        if not self._check_pending:
            return
        shown = self._shown
        self.check = check_data(self.text)
        if (self._check.size, self._check.error) != (shown.size, shown.error):
            self._sizes_add_up = False
        self._show_validation()
        if self._check.size == self._base_size:
            self._update_dirty()  # it may be formatting only after all

    def _text_changed(self) -> None:
        text = self.text  # joins every line: once per keystroke
        self.check = check_data(text)
        self._show_validation()
        self._update_dirty(text)
        self.post_message(self.Edited())

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._show_ttl_hints()
        self._update_dirty()
        self.post_message(self.Edited())

    def _update_dirty(self, text: str | None = None) -> None:
        ttl_typed = bool(self.item_ttl.value.strip() or self.collection_ttl.value.strip())
        text_changed = (self.text if text is None else text) != self.saved_text
        formatting_only = (
            text_changed and not ttl_typed and not self._check_pending and self._same_data_as_base(self._check)
        )
        dirty = self.open_item is not None and (text_changed or ttl_typed)
        if formatting_only != self._formatting_only:
            self._formatting_only = formatting_only
            if dirty == self.is_dirty:
                self._show_heading()  # modified ↔ formatting only; the watcher shows the rest
        self.is_dirty = dirty

    def _same_data_as_base(self, check: DataCheck) -> bool:
        """The checked text holds the base's data. The sizes first: a walk of both trees is ~1 ms for
        16 KB, and an edit that changes the wire size cannot be JSON-equal."""
        if check.value is None or check.size != self._base_size or self.open_item is None:
            return False
        return json_equal(check.value, self.open_item.item.data)

    def _refresh_all(self) -> None:
        self.check = check_data(self.text)
        self._show_heading()
        self._show_meta()
        self._show_validation()
        self._show_ttl_hints()
        self._update_dirty()

    def _show_heading(self) -> None:
        if self.open_item is None:
            return
        heading = Text.assemble(key_text(self.open_item.key, "bold"), "  ")
        heading.append(f"rev {visible(self.open_item.loaded_revision)}", style="dim")
        session = self.session
        if self.is_dirty and self._formatting_only:
            heading.append("  ○ formatting only", style="dim")
        elif self.is_dirty:
            heading.append("  ● modified", style="bold yellow")
        if session is not None and session.in_flight is not None:
            heading.append("  saving…", style="italic")
        if session is not None and session.replaced:
            heading.append("  ⚠ the key now holds another item, created since (F6)", style="bold")
        elif session is not None and session.behind is not None:
            theirs, mine = session.behind
            heading.append(f"  ⚠ server has revision {visible(theirs)}, you have {visible(mine)} (F6)", style="bold")
        elif session is not None and session.gone:
            heading.append("  ⚠ gone from the server (ctrl+s: recreate)", style="bold")
        if session is not None and session.kept is not None:
            heading.append("  your edit is kept: F4", style="italic")
        if self.read_only_reason is not None:
            heading.append(f"  {self.read_only_reason}", style="bold")
        warning = key_warning(self.open_item.key)
        if warning:
            heading.append(f"  ⚠ {warning}", style="yellow")
        self.query_one("#editor-heading", Static).update(heading)

    def _show_meta(self) -> None:
        if self.open_item is None:
            return
        item = self.open_item.item
        meta = Text(
            f"updated {format_when(item.date_updated)} · created {format_when(item.date_created)} by ",
            style="dim",
        )
        meta.append_text(literal(item.created_by, "dim"))
        self.query_one("#editor-meta", Static).update(meta)

    def _show_validation(self) -> None:
        self._show_check(self.check)

    def _show_check(self, check: DataCheck) -> None:
        self._shown = check
        self.json_area.known_valid = check.error is None
        status = self.query_one("#validation", Static)
        if check.error is None:
            show_if_changed(status, Text("✓ valid JSON object", style="green"))
        else:
            show_if_changed(status, Text(f"✗ {check.error.message}", style="bold red"))
        status.set_class(check.error is not None, "-error")
        self.query_one(SizeMeter).show(check)

    def show_map_expiry(self, expires: datetime | None) -> None:
        """The open map's expiry as the server last said it, shown beside the map TTL field."""
        self.map_expires = expires
        self._show_ttl_hints()

    def _show_ttl_hints(self) -> None:
        if self.open_item is None:
            self._watch_ttl_countdown()
            return
        now = formatting.now_utc()
        self.item_ttl.show_hint(f"now: {format_expiry(self.open_item.item.date_expires, now)}")
        # Twilio's rule for a map TTL sent alone is said by the save's question (ConfirmDialog):
        # here it made the hint five lines long at 80 columns.
        self.collection_ttl.show_hint(f"now: map {format_expiry(self.map_expires, now)}", "(data goes too)" if self.map_ttl_alone else "")
        self._watch_ttl_countdown()

    @property
    def map_ttl_alone(self) -> bool:
        """A map TTL is typed with nothing else to send: Twilio takes it only with a data or
        ItemTtl change, so the save sends the data with it, unchanged (COLLECTION_TTL_RULE)."""
        return bool(self.collection_ttl.value.strip() and not self.item_ttl.value.strip() and self.text == self.saved_text)

    def _watch_ttl_countdown(self) -> None:
        """Count the hints' `(in 52m 10s)` down once a second, only while the open item or its map
        expires: with nothing expiring no timer runs (idle stays 0 B/s), and a tick whose hints
        read the same repaints nothing (show_if_changed)."""
        expiring = self.open_item is not None and (
            self.open_item.item.date_expires is not None or self.map_expires is not None
        )
        if expiring and self._ttl_countdown is None:
            self._ttl_countdown = self.set_interval(1, self._show_ttl_hints)
        elif not expiring and self._ttl_countdown is not None:
            self._ttl_countdown.stop()
            self._ttl_countdown = None

    # -- actions -------------------------------------------------------------------------------

    def action_format_json(self) -> None:
        if self.read_only_reason is not None:
            self.notify(f"Not changed: {self.read_only_reason}.", severity="warning")
            return
        if self.check.value is None:
            self.notify("Fix the JSON first: " + (self.check.error.message if self.check.error else ""), severity="warning")
            return
        self.replace_text(format_data(self.check.value))

    def action_minify_json(self) -> None:
        if self.read_only_reason is not None:
            self.notify(f"Not changed: {self.read_only_reason}.", severity="warning")
            return
        if self.check.value is None:
            self.notify("Fix the JSON first: " + (self.check.error.message if self.check.error else ""), severity="warning")
            return
        self.replace_text(format_data(self.check.value, compact=True))

    def action_show_json_error(self) -> None:
        error = self._shown.error
        if error is None:
            self.notify("The JSON is valid.")
            return
        self.notify(error.message, title="Invalid JSON", severity="warning", timeout=15)

    def action_restore_mine(self) -> None:
        if self.session is None:
            self.notify("There is no kept edit to restore.")
            return
        self.session.restore_kept()
