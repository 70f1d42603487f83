"""The item editor: JSON with live validation and a size meter, the item's metadata, and TTL fields."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Input, Label, Static, TextArea

from syncmap_tui.sync.editing import COLLECTION_TTL_RULE, SavePlan, parse_optional_ttl, plan_update
from syncmap_tui.sync.models import MapItem
from syncmap_tui.sync.validation import (
    MAX_DATA_BYTES,
    DataCheck,
    ValidationError,
    check_data,
    format_data,
    key_warning,
)
from syncmap_tui.ui import formatting
from syncmap_tui.ui.formatting import (
    expiry_after,
    format_expiry,
    format_size,
    format_when,
)
from syncmap_tui.ui.literal import literal


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

    @cached_property
    def base_data_text(self) -> str:
        """The loaded data as JSON text: what a draft keeps as the base of a later merge."""
        return format_data(self.item.data)


class SizeMeter(Static):
    """`N / 16,384 bytes` of exactly the compact UTF-8 form that a save sends."""

    DEFAULT_CSS = """
    SizeMeter { width: auto; padding: 0 1; }
    SizeMeter.-warning { color: $warning; }
    SizeMeter.-error { color: $error; text-style: bold; }
    """

    def show(self, check: DataCheck) -> None:
        self.set_class(check.size is not None and check.near_limit and check.size <= MAX_DATA_BYTES, "-warning")
        self.set_class(check.size is not None and check.size > MAX_DATA_BYTES, "-error")
        self.update("— / 16,384 bytes" if check.size is None else format_size(check.size))


class TtlField(Horizontal):
    """A TTL input that takes seconds or 90s/15m/2h/7d and says when the item would expire."""

    DEFAULT_CSS = """
    TtlField { height: 1; width: 1fr; }
    TtlField Label { width: 14; }
    TtlField Input { width: 10; }
    TtlField .ttl-hint { width: 1fr; padding: 0 1; color: $text-muted; }
    TtlField.-invalid .ttl-hint { color: $error; }
    """

    def __init__(self, label: str, *, id: str) -> None:
        super().__init__(id=id)
        self.label = label

    def compose(self) -> ComposeResult:
        yield Label(self.label)
        yield Input(placeholder="keep", compact=True, select_on_focus=False)
        yield Static("", classes="ttl-hint")

    @property
    def input(self) -> Input:
        return self.query_one(Input)

    @property
    def value(self) -> str:
        return self.input.value

    @value.setter
    def value(self, text: str) -> None:
        self.input.value = text

    def show_hint(self, unchanged: str = "", note: str = "") -> None:
        """Say what the typed TTL would do, or `unchanged` when the field is empty."""
        hint = self.query_one(".ttl-hint", Static)
        try:
            seconds = parse_optional_ttl(self.value)
        except ValidationError as exc:
            self.add_class("-invalid")
            hint.update(Text(exc.message))
            return
        self.remove_class("-invalid")
        if seconds is None:
            text = unchanged
        elif seconds == 0:
            text = "→ never expires"
        else:
            now = formatting.now_utc()
            text = f"→ expires {format_expiry(expiry_after(seconds, now), now)}"
        hint.update(Text(" ".join(part for part in (text, note) if part)))


class JsonArea(TextArea):
    """The JSON text. No cursor blink: a blinking cursor writes ~500 bytes a second over SSH."""

    def __init__(self, **kwargs) -> None:
        super().__init__(language="json", soft_wrap=True, show_line_numbers=False, **kwargs)
        self.cursor_blink = False


class ItemEditor(Vertical):
    """Shows one item; knows whether it was changed and what a save would send."""

    BINDINGS = [
        Binding("f2", "format_json", "Format", id="format-json"),
        Binding("f3", "minify_json", "Minify", show=False, id="minify-json"),
        Binding("f4", "restore_mine", "Restore mine", show=False, id="restore-mine"),
        Binding("escape", "screen.cancel_or_back", "Cancel / back", show=False, id="leave-editor"),
    ]

    open_item: reactive[OpenItem | None] = reactive(None, init=False)
    """The item being edited; None shows the empty state."""
    is_dirty: reactive[bool] = reactive(False, init=False)
    """True while the text or a TTL field differs from what was loaded or last saved."""

    class Edited(Message):
        """The text or a TTL field changed: time to checkpoint a draft."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.saved_text = ""
        """The text as loaded or as last saved: the reference for the unsaved-changes marker."""
        self.stashed_text: str | None = None
        """The user's own text, kept when they took theirs, until they restore it or save."""
        self.check: DataCheck = check_data("{}")

    def compose(self) -> ComposeResult:
        yield Static(Text("No item open. Pick one in the table (enter), or press n for a new one."), id="editor-empty")
        with Vertical(id="editor-body"):
            yield Static("", id="editor-heading")
            yield Static("", id="editor-meta")
            yield JsonArea(id="editor-json")
            with Horizontal(id="editor-status"):
                yield Static("", id="validation")
                yield SizeMeter("", id="size-meter")
            with Vertical(id="editor-ttls"):
                yield TtlField("ItemTtl", id="item-ttl")
                yield TtlField("CollectionTtl", id="collection-ttl")

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

    def load(self, service_sid: str, map_sid: str, item: MapItem) -> None:
        """Show an item as the server has it; edits start from here."""
        text = format_data(item.data)
        self.saved_text = text
        self.stashed_text = None
        self.open_item = OpenItem(service_sid, map_sid, item)
        self.json_area.load_text(text)
        self.item_ttl.value = ""
        self.collection_ttl.value = ""
        self._refresh_all()

    def clear_item(self) -> None:
        self.open_item = None
        self.saved_text = ""
        self.stashed_text = None
        self.json_area.load_text("")
        self.is_dirty = False

    def replace_text(self, text: str) -> None:
        """Change the text as an edit, so that undo (ctrl+z) brings the previous text back."""
        area = self.json_area
        area.replace(text, area.document.start, area.document.end)

    def rebase(self, item: MapItem) -> None:
        """Edits now apply on top of `item` (their version), keeping the text as it is."""
        assert self.open_item is not None
        self.open_item = OpenItem(self.open_item.service_sid, self.open_item.map_sid, item)
        self._refresh_all()

    def mark_saved(self, item: MapItem) -> None:
        """The server now holds the editor's text at `item`'s revision."""
        assert self.open_item is not None
        self.open_item = OpenItem(self.open_item.service_sid, self.open_item.map_sid, item)
        self.saved_text = self.text
        self.item_ttl.value = ""
        self.collection_ttl.value = ""
        self._refresh_all()

    def plan_save(self) -> SavePlan:
        """What ctrl+s would send; raises ValidationError with the reason it cannot."""
        assert self.open_item is not None
        return plan_update(self.open_item.item.data, self.text, self.item_ttl.value, self.collection_ttl.value)

    # -- live state ----------------------------------------------------------------------------

    def watch_open_item(self, open_item: OpenItem | None) -> None:
        self.query_one("#editor-empty").display = open_item is None
        self.query_one("#editor-body").display = open_item is not None

    def watch_is_dirty(self, is_dirty: bool) -> None:
        self._show_heading()

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        self.check = check_data(self.text)
        self._show_validation()
        self._update_dirty()
        self.post_message(self.Edited())

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._show_ttl_hints()
        self._update_dirty()
        self.post_message(self.Edited())

    def _update_dirty(self) -> None:
        self.is_dirty = self.open_item is not None and (
            self.text != self.saved_text or bool(self.item_ttl.value.strip() or self.collection_ttl.value.strip())
        )

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
        heading = Text.assemble(literal(self.open_item.key, "bold"), "  ")
        heading.append(f"rev {self.open_item.loaded_revision}", style="dim")
        if self.is_dirty:
            heading.append("  ● modified", style="bold yellow")
        if self.stashed_text is not None:
            heading.append("  (your own edit is kept: F4 brings it back)", style="italic")
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
        check = self.check
        status = self.query_one("#validation", Static)
        if check.error is None:
            status.update(Text("✓ valid JSON object", style="green"))
        else:
            status.update(Text(f"✗ {check.error.message}", style="bold red"))
        status.set_class(check.error is not None, "-error")
        self.query_one(SizeMeter).show(check)

    def _show_ttl_hints(self) -> None:
        if self.open_item is None:
            return
        expires = self.open_item.item.date_expires
        self.item_ttl.show_hint(f"now: {format_expiry(expires, formatting.now_utc())}")
        note = ""
        if self.collection_ttl.value.strip() and not self.item_ttl.value.strip() and self.text == self.saved_text:
            note = f"({COLLECTION_TTL_RULE})"
        self.collection_ttl.show_hint("map: unchanged", note)

    # -- actions -------------------------------------------------------------------------------

    def action_format_json(self) -> None:
        if self.check.value is None:
            self.notify("Fix the JSON first: " + (self.check.error.message if self.check.error else ""), severity="warning")
            return
        self.replace_text(format_data(self.check.value))

    def action_minify_json(self) -> None:
        if self.check.value is None:
            self.notify("Fix the JSON first: " + (self.check.error.message if self.check.error else ""), severity="warning")
            return
        self.replace_text(format_data(self.check.value, compact=True))

    def stash_and_replace(self, text: str) -> None:
        """Show `text` (theirs) while keeping the user's own text for F4."""
        self.stashed_text = self.text
        self.replace_text(text)

    def action_restore_mine(self) -> None:
        if self.stashed_text is None:
            self.notify("There is no kept edit to restore.")
            return
        mine, self.stashed_text = self.stashed_text, None
        self.replace_text(mine)
        self.notify("Your own edit is back in the editor.")
