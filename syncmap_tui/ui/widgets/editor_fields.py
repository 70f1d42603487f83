"""The parts of the item editor under the text: the size meter and the TTL fields."""

from __future__ import annotations

from rich.cells import cell_len
from rich.segment import Segment
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.strip import Strip
from textual.widgets import Input, Label, Static

from syncmap_tui.sync.editing import parse_optional_ttl
from syncmap_tui.sync.validation import MAX_DATA_BYTES, DataCheck, ValidationError
from syncmap_tui.ui import formatting
from syncmap_tui.ui.formatting import expiry_after, format_expiry, format_size


class SizeMeter(Static):
    """`N / 16,384 bytes` of exactly the compact UTF-8 form that a save sends."""

    DEFAULT_CSS = """
    SizeMeter { width: auto; padding: 0 1; }
    SizeMeter.-warning { color: $warning; }
    SizeMeter.-error { color: $error; text-style: bold; }
    """

    def render_line(self, y: int) -> Strip:
        # Static draws through Textual's visual pipeline, ~0.4 ms in every keystroke's frame; the
        # meter is one line of plain text (no markup) in the widget's own style.
        text = self.content
        if not isinstance(text, str) or "[" in text:
            return super().render_line(y)
        style = self.visual_style.rich_style
        width = self.size.width
        if y:
            return Strip.blank(width, style)
        return Strip([Segment(text, style)], cell_len(text)).adjust_cell_length(width, style)

    def show(self, check: DataCheck) -> None:
        self.set_class(check.size is not None and check.near_limit and check.size <= MAX_DATA_BYTES, "-warning")
        self.set_class(check.size is not None and check.size > MAX_DATA_BYTES, "-error")
        show_if_changed(self, "— / 16,384 bytes" if check.size is None else format_size(check.size))


def show_if_changed(static: Static, content: str | Text) -> None:
    """`static.update(content)`, but only when the content differs, and with a layout pass only when
    its width does: Static.update repaints even an equal value (the validation line on every
    keystroke), and a layout pass re-arranges the whole screen."""
    shown = static.content
    if type(shown) is type(content) and shown == content:
        return
    width = Text(content).cell_len if isinstance(content, str) else content.cell_len
    shown_width = (
        shown.cell_len if isinstance(shown, Text) else Text(shown).cell_len if isinstance(shown, str) else None
    )
    static.update(content, layout=width != shown_width)


class TtlField(Horizontal):
    """A TTL input that takes seconds or 90s/15m/2h/7d and says when the item (or the map) would
    expire. The hint wraps (up to three lines) rather than being cut: at 80 columns it has ~38."""

    DEFAULT_CSS = """
    TtlField { height: auto; width: 1fr; }
    TtlField Label { width: 9; }
    TtlField Input { width: 9; }
    TtlField .ttl-hint { width: 1fr; height: auto; max-height: 3; padding: 0 0 0 1; color: $text-muted; }
    TtlField.-invalid .ttl-hint { color: $error; }
    """

    def __init__(self, label: str, *, id: str, subject: str = "") -> None:
        super().__init__(id=id)
        self.label = label
        self.subject = subject
        """What a typed TTL makes expire, in the hint: "" for the item, "whole map" for the map."""

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
            show_if_changed(hint, Text(exc.message))
            return
        self.remove_class("-invalid")
        subject = f"{self.subject} " if self.subject else ""
        if seconds is None:
            text = unchanged
        elif seconds == 0:
            text = f"→ {subject}never expires"
        else:
            now = formatting.now_utc()
            text = f"→ {subject}expires {format_expiry(expiry_after(seconds, now), now)}"
        show_if_changed(hint, Text(" ".join(part for part in (text, note) if part)))
