"""The item editor: JSON with live validation and a size meter, the item's metadata, and TTL fields."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Self

from rich.cells import cell_len
from rich.segment import Segment
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.document._wrapped_document import WrappedDocument
from textual.geometry import Offset, Region
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.timer import Timer
from textual.widgets import Input, Label, Static, TextArea
from textual.widgets.text_area import Edit, EditResult, Selection

from syncmap_tui.sync.editing import COLLECTION_TTL_RULE, parse_optional_ttl
from syncmap_tui.sync.merge import json_equal
from syncmap_tui.sync.models import MapItem
from syncmap_tui.sync.session import EditSession, Mine
from syncmap_tui.sync.validation import (
    MAX_DATA_BYTES,
    DataCheck,
    ValidationError,
    check_data,
    encode_data,
    escape_unprintable,
    format_data,
    key_warning,
    wire_size,
)
from syncmap_tui.ui import formatting
from syncmap_tui.ui.formatting import (
    expiry_after,
    format_expiry,
    format_size,
    format_when,
)
from syncmap_tui.ui.literal import literal, visible
from syncmap_tui.ui.widgets import EDITOR_EMPTY_TEXT
from syncmap_tui.ui.widgets.steady_scrollbars import SteadyScrollbars


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


def editor_text_of(text: str) -> str:
    """What the editor holds for typed or pasted `text`: CRLF and CR as LF (xterm and VTE paste
    newlines as CR), and every other character that does not print (controls, line separators,
    bidi overrides, lone surrogates) as its JSON escape."""
    return escape_unprintable(text.replace("\r\n", "\n").replace("\r", "\n"), keep="\n\t")


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_JSON_ESCAPE = re.compile(r'\\(?:u[0-9a-fA-F]{4}|.)')
_HIGH_SURROGATE_ESCAPE = re.compile(r'\\u[dD][89abAB][0-9a-fA-F]{2}')
_VERBATIM = re.compile(r'[^"\\\x00-\x1f\ud800-\udfff]*')
"""Characters that json.dumps(ensure_ascii=False) writes as they are, and that a JSON string may hold raw."""


def wire_delta_in_string(line: str, start: int, end: int, inserted: str, next_char: Callable[[int], str]) -> int | None:
    """How many bytes the compact wire form of a *valid* JSON text grows by when `line[start:end]`
    becomes `inserted`, if that can be told without parsing: the span lies inside one string
    value (not a key, not within an escape nor between the two of a surrogate pair) and every
    character removed or inserted is one the compact form keeps as it is; None otherwise.
    `next_char(column)` is the first non-blank character at or after `column` of the line, or of
    the lines after it ("" at the end).

    The text stays valid JSON, and the string's value changes by exactly those characters. The one
    case where the figure is wrong is a value that does not reach the wire at all, under a key that
    its object repeats later (json.loads keeps the last): the full check that follows corrects it.
    """
    removed = line[start:end]
    if _VERBATIM.fullmatch(removed) is None or _VERBATIM.fullmatch(inserted) is None:
        return None
    # Valid JSON has no raw newline inside a string, so every line starts outside one.
    for token in _JSON_STRING.finditer(line):
        if token.end() <= start:
            continue
        if not token.start() < start or end >= token.end():
            return None  # not inside this string's quotes
        for escape in _JSON_ESCAPE.finditer(line, token.start() + 1, token.end() - 1):
            if escape.start() < end and start < escape.end() or escape.start() < start < escape.end():
                return None
            if escape.end() == start and _HIGH_SURROGATE_ESCAPE.fullmatch(escape.group()):
                return None  # between the two escapes of a surrogate pair: it would split them
        if next_char(token.end()) == ":":
            return None  # a key: renaming one can merge or split duplicate keys
        return len(inserted.encode("utf-8")) - len(removed.encode("utf-8"))
    return None


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
    TtlField .ttl-hint { width: 1fr; height: auto; max-height: 3; padding: 0 1; color: $text-muted; }
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


@dataclass(frozen=True)
class _View:
    """What decides which screen lines of a JsonArea an edit can change."""

    scroll: tuple[int, int]
    size: tuple[int, int]
    virtual_size: tuple[int, int]
    wrapped_height: int
    line_count: int
    gutter_width: int
    suggestion: str
    selection_rows: tuple[int, int]
    bracket_row: int | None
    visible_rows: range
    highlights: tuple[tuple, ...]
    """The highlight spans of each visible row, in `visible_rows` order."""


class _WrappedDocument(WrappedDocument):
    """TextArea's wrapped document, with its height read in O(1).

    The stock `height` sums the sections of every line (1,800 lines for a 16 KB item) and
    TextArea reads it several times per keystroke. `_offset_to_line_info` holds one entry per
    screen line, kept up to date by `wrap` and `wrap_range`, so its length is the height.
    """

    @property
    def height(self) -> int:
        return len(self._offset_to_line_info)


class _RowHighlights(dict):
    """Row → highlight spans, as TextArea keeps them, computed a block of rows at a time on first use.

    A stock TextArea queries the whole syntax tree after every edit: ~60 ms per keystroke for a
    16 KB item (1,800 lines), nearly all of it for lines that are not on the screen. Here an edit
    forgets the spans and the rows that are drawn ask for theirs: one query limited to their
    block of rows, ~2 ms.

    A line with more than MAX_LINE_SPANS spans is drawn plain. TextArea styles a whole line again
    for every screen row it wraps to: with 21 KB of minified JSON on one line (16,008 spans), a
    cursor move cost ~1.5 s of CPU. A long line of few spans, such as one long string, stays cheap
    and keeps its colours.
    """

    BLOCK_ROWS = 64
    MAX_LINE_SPANS = 200

    def __init__(self, area: TextArea) -> None:
        super().__init__()
        self._area = area

    def __bool__(self) -> bool:
        # TextArea draws highlights only when the map is truthy; before any row is asked for it is
        # empty, yet highlighting is on.
        return self._area._highlight_query is not None

    def __missing__(self, row: int) -> list[tuple[int, int | None, str]]:
        if row < 0:
            return []
        first = row - row % self.BLOCK_ROWS
        self._fill(first, first + self.BLOCK_ROWS)
        return dict.__getitem__(self, row)

    def rows(self, rows: range) -> list[list[tuple[int, int | None, str]]]:
        """The spans of these rows, with one query for all that are not known yet."""
        if any(row not in self for row in rows):
            self._fill(rows.start, rows.stop)
        return [dict.__getitem__(self, row) for row in rows]

    def _fill(self, first: int, stop: int) -> None:
        """Compute rows first..stop-1 exactly as TextArea._build_highlight_map does for the whole tree."""
        rows: dict[int, list[tuple[int, int | None, str]]] = {row: [] for row in range(first, stop)}
        area = self._area
        query = area._highlight_query
        if query is not None:
            captures = area.document.query_syntax_tree(query, start_point=(first, 0), end_point=(stop, 0))
            for name, nodes in captures.items():
                for node in nodes:
                    start_row, start_column = node.start_point
                    end_row, end_column = node.end_point
                    if start_row == end_row:
                        if start_row in rows:
                            rows[start_row].append((start_column, end_column, name))
                        continue
                    for row in range(max(start_row, first), min(end_row, stop - 1) + 1):
                        if row == start_row:
                            rows[row].append((start_column, None, name))
                        elif row == end_row:
                            rows[row].append((0, end_column, name))
                        else:
                            rows[row].append((0, None, name))
        for spans in rows.values():
            if len(spans) > self.MAX_LINE_SPANS:
                spans.clear()
        self.update(rows)


class JsonArea(SteadyScrollbars, TextArea):
    """The JSON text. No cursor blink: a blinking cursor writes ~500 bytes a second over SSH.

    A stock TextArea repaints its whole region on every edit and every cursor move: ~6.5 KB per
    keystroke at 80×24, most of it unchanged lines. Here an edit that stays on one line and
    leaves the scroll position, the wrapping and the line count as they were repaints only the
    lines that can differ: the edited line, the old and new cursor lines, the matching-bracket
    lines and any visible line whose highlighting changed (an unclosed string re-highlights what
    follows). A cursor move repaints the lines of the old and new selection and brackets; one that
    scrolls repaints everything, as before.
    """

    _full_refresh_deferred: bool | None = None
    """None outside `edit`; inside it, whether TextArea asked for a repaint of everything."""
    _moved_selection_rows: set[int] | None = None
    """The rows a selection change repaints, for the whole-widget refresh that follows it."""
    _css_applied_to: object | None = None
    """The theme object that TextArea's CSS fallbacks were last applied to."""
    _in_edit = False
    """True while TextArea.edit runs for an edit that `after_edit` reports."""
    _nested_edit = False
    """An edit was made from within another one: `after_edit` gets no delta for the outer one."""
    known_valid = False
    """Set by the owner: the text is valid JSON (as last checked). Edits inside a string then take
    a shorter path (see `edit`) and `after_edit` is told their change in wire bytes."""

    def __init__(self, *, after_edit: Callable[[int | None], None] | None = None, **kwargs) -> None:
        super().__init__(language="json", soft_wrap=True, show_line_numbers=False, **kwargs)
        self.cursor_blink = False
        self.after_edit = after_edit
        """Called after each edit (typing, paste, replace), before the screen updates, with the
        change in wire bytes when `known_valid` and `wire_delta_in_string` can tell it (else None).
        With it set, an edit posts no TextArea.Changed (undo, redo and load_text still do)."""

    def post_message(self, message: Message) -> bool:
        # Each message bubbles through the six containers up to the app, one task wake-up each,
        # and some of that work lands between the frame and the thread that writes it out.
        # SelectionChanged (every keystroke and cursor move) has no listener in this app.
        if isinstance(message, TextArea.SelectionChanged):
            return True
        if isinstance(message, TextArea.Changed):
            if self._in_edit:
                return True
            self.known_valid = False  # load_text, undo, redo: unknown until the owner checks it
        return super().post_message(message)

    def refresh(self, *regions: Region, repaint: bool = True, layout: bool = False, recompose: bool = False) -> Self:
        if regions or not repaint or layout or recompose:
            return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)
        moved_rows, self._moved_selection_rows = self._moved_selection_rows, None
        if self._full_refresh_deferred is not None:
            self._full_refresh_deferred = True  # decided at the end of `edit`
        elif moved_rows is not None:
            self._refresh_rows(moved_rows)  # the `selection` reactive's own refresh, narrowed
        else:
            super().refresh()
        return self

    def notify_style_update(self) -> None:
        self._css_applied_to = None
        super().notify_style_update()

    def render_lines(self, crop: Region) -> list[Strip]:
        # TextArea applies its theme's CSS fallbacks (six component styles) before every render,
        # ~1 ms per keystroke; they change only with the styles (focus, theme) or the theme object.
        theme = self._theme
        if theme is not None and theme is not self._css_applied_to:
            theme.apply_css(self)
            self._css_applied_to = theme
        return super(TextArea, self).render_lines(crop)

    def _set_document(self, text: str, language: str | None) -> None:
        super()._set_document(text, language)
        self.wrapped_document.__class__ = _WrappedDocument  # the same object, with a cheaper height

    def _build_highlight_map(self) -> None:
        self._line_cache.clear()
        if not isinstance(self._highlights, _RowHighlights):
            self._highlights = _RowHighlights(self)
        self._highlights.clear()

    MAX_PASTED_LINE_CHARS = 2 * MAX_DATA_BYTES
    """A paste with a longer line is refused: TextArea re-wraps a whole line for every screen row
    it paints, so a 200 KB line took ~4 s to paste and ~1 s per cursor move (1 MB: 27 s and 6 s).
    Such a line is no part of data an item can hold. Long pastes of short lines are kept."""

    def _on_paste(self, event: events.Paste) -> None:
        # Runs before TextArea's own handler, which prevent_default() skips.
        if self.read_only:
            return
        longest = max(map(len, event.text.splitlines()), default=0)
        if longest <= self.MAX_PASTED_LINE_CHARS:
            return
        event.prevent_default()
        event.stop()
        self.notify(
            f"Not pasted: it has a line of {longest:,} characters, and the editor takes lines of up to "
            f"{self.MAX_PASTED_LINE_CHARS:,} (an item's data is at most {MAX_DATA_BYTES:,} bytes). "
            "Format it first, e.g. with jq, or paste a part. The editor is unchanged.",
            severity="warning",
            markup=False,
        )

    def edit(self, edit: Edit) -> EditResult:
        # Every way text gets in (typing, paste, replace) passes here. A pasted ESC or CSI would
        # otherwise reach the terminal raw, and Textual's document cannot hold a lone surrogate;
        # inside a JSON string the escape means the same, and outside one raw controls are invalid.
        edit.text = editor_text_of(edit.text)
        if not self.is_mounted or self._full_refresh_deferred is not None:
            self._nested_edit = self._full_refresh_deferred is not None
            return super().edit(edit)
        delta = self._wire_delta(edit) if self.known_valid else None
        # An edit inside a string of valid JSON changes no other line's highlighting: no need to
        # compare the visible lines' highlights before and after (a tree-sitter query of them).
        compare_highlights = delta is None
        before = self._view(compare_highlights)
        self._full_refresh_deferred = False
        self._in_edit = self.after_edit is not None
        self._nested_edit = False
        try:
            result = super().edit(edit)
        except BaseException:
            self._full_refresh_deferred = None
            super().refresh()
            raise
        finally:
            self._in_edit = False
        wanted_full_refresh, self._full_refresh_deferred = self._full_refresh_deferred, None
        if wanted_full_refresh:
            self._refresh_edited(before, edit.top[0], edit.bottom[0], result.end_location[0], compare_highlights)
        if self.after_edit is not None:
            self.after_edit(None if self._nested_edit else delta)
        return result

    def _wire_delta(self, edit: Edit) -> int | None:
        """`wire_delta_in_string` for an edit within one line (before it is made)."""
        (row, start), (bottom_row, end) = edit.top, edit.bottom
        if row != bottom_row or "\n" in edit.text:
            return None
        document = self.document
        line = document[row]

        def next_char(column: int) -> str:
            rest = line[column:].lstrip()
            following = row + 1
            while not rest and following < document.line_count:
                rest = document[following].lstrip()
                following += 1
            return rest[:1]

        return wire_delta_in_string(line, start, end, edit.text, next_char)

    def _watch_selection(self, previous_selection: Selection, selection: Selection) -> None:
        # Runs just before the `selection` reactive refreshes the whole widget: note which rows
        # that refresh needs. A scroll that follows the cursor refreshes everything by itself.
        old_bracket = self._matching_bracket_location
        super()._watch_selection(previous_selection, selection)
        if not self.is_mounted or self._full_refresh_deferred is not None:
            return
        rows = {*self._rows_of(previous_selection), *self._rows_of(selection)}
        rows.update(bracket[0] for bracket in (old_bracket, self._matching_bracket_location) if bracket is not None)
        self._moved_selection_rows = rows
        self.call_next(self._forget_moved_selection)

    def _forget_moved_selection(self) -> None:
        self._moved_selection_rows = None  # consumed at once by the reactive's refresh, normally

    @staticmethod
    def _rows_of(selection: Selection) -> range:
        start, end = selection
        return range(min(start[0], end[0]), max(start[0], end[0]) + 1)

    def _refresh_rows(self, rows: set[int]) -> None:
        """Repaint the screen lines of these document rows that are in view."""
        wrapped = self.wrapped_document
        line_count = self.document.line_count
        scroll_y, height = self.scroll_offset.y, self.size.height
        for row in sorted(rows):
            if not 0 <= row < line_count:
                continue
            first = wrapped.location_to_offset((row, 0)).y
            count = len(wrapped.get_offsets(row)) + 1
            if first < scroll_y + height and first + count > scroll_y:
                self.refresh_lines(first, count)

    def _view(self, highlights: bool = True) -> _View:
        """The view as it is; the visible rows' highlights only if asked for."""
        wrapped = self.wrapped_document
        wrapped_height = wrapped.height
        scroll_x, scroll_y = self.scroll_offset
        height = self.size.height
        if wrapped_height and height:
            first_row = wrapped.offset_to_location(Offset(0, scroll_y))[0]
            last_row = wrapped.offset_to_location(Offset(0, min(scroll_y + height, wrapped_height) - 1))[0]
            visible_rows = range(first_row, last_row + 1)
        else:
            visible_rows = range(0)
        start, end = self.selection
        bracket = self._matching_bracket_location
        return _View(
            scroll=(scroll_x, scroll_y),
            size=tuple(self.size),
            virtual_size=tuple(self.virtual_size),
            wrapped_height=wrapped_height,
            line_count=self.document.line_count,
            gutter_width=self.gutter_width,
            suggestion=self.suggestion,
            selection_rows=(min(start[0], end[0]), max(start[0], end[0])),
            bracket_row=None if bracket is None else bracket[0],
            visible_rows=visible_rows,
            highlights=tuple(self._painted_spans(spans) for spans in self._highlights.rows(visible_rows))
            if highlights
            else (),
        )

    def _painted_spans(self, spans: list[tuple[int, int | None, str]]) -> tuple:
        """The highlight spans of a row that change how it looks, comparable between two edits.

        Tree-sitter returns captures in an order that moves when the tree changes, and most
        captures (`spell`, `conceal`) have no style: only styled spans count, and their order only
        where two of them overlap (the later one wins there).
        """
        styled = self._theme.syntax_styles if self._theme else {}
        painted = [span for span in spans if span[2] in styled]
        by_start = sorted(painted, key=lambda span: (span[0], math.inf if span[1] is None else span[1], span[2]))
        overlap = any(
            earlier[1] is None or earlier[1] > later[0] for earlier, later in zip(by_start, by_start[1:])
        )
        return tuple(painted) if overlap else tuple(by_start)

    def _refresh_edited(
        self, before: _View, top_row: int, bottom_row: int, end_row: int, compare_highlights: bool = True
    ) -> None:
        after = self._view(compare_highlights)
        same_frame = (
            top_row == bottom_row == end_row
            and (before.scroll, before.size, before.virtual_size) == (after.scroll, after.size, after.virtual_size)
            and (before.wrapped_height, before.line_count) == (after.wrapped_height, after.line_count)
            and (before.gutter_width, before.suggestion, before.visible_rows) == (after.gutter_width, after.suggestion, after.visible_rows)
        )
        if not same_frame:
            super().refresh()
            return
        rows = {top_row, *range(before.selection_rows[0], before.selection_rows[1] + 1)}
        rows.update(range(after.selection_rows[0], after.selection_rows[1] + 1))
        rows.update(row for row in (before.bracket_row, after.bracket_row) if row is not None)
        rows.update(
            row for row, old, new in zip(after.visible_rows, before.highlights, after.highlights) if old != new
        )
        if not compare_highlights:
            self._highlights.rows(range(top_row, top_row + 1))  # the one row the frame paints, not its block of 64
        self._refresh_rows(rows)


def _wire_size_of(data: dict) -> int | None:
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
        Binding("f9", "show_json_error", "The whole JSON error (its line is cut to fit)", show=False, id="show-json-error"),
        Binding("escape", "screen.cancel_or_back", "Cancel / back", show=False, id="leave-editor"),
    ]
    ALLOW_MAXIMIZE = True
    """F8 (Body) and the palette's Maximize show the whole editor: the JSON, its status, the TTLs."""

    open_item: reactive[OpenItem | None] = reactive(None, init=False)
    """The item being edited; None shows the empty state."""
    is_dirty: reactive[bool] = reactive(False, init=False, repaint=False)
    """True while the text or a TTL field differs from what was loaded or last saved, formatting
    included: what a draft keeps. `modified` tells a change a save would send from formatting.

    No repaint of its own: the heading shows it, and repainting the editor would redraw every
    line of it (~5 KB over SSH at 80×24) on the first keystroke after a load or a save."""

    class Edited(Message):
        """The text, a TTL field or the session's state changed: time to checkpoint a draft."""

    def __init__(self, **kwargs) -> None:
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
        heading = Text.assemble(literal(self.open_item.key, "bold"), "  ")
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
        note = ""
        if self.collection_ttl.value.strip() and not self.item_ttl.value.strip() and self.text == self.saved_text:
            note = f"({COLLECTION_TTL_RULE})"
        self.collection_ttl.show_hint(f"now: map {format_expiry(self.map_expires, now)}", note)
        self._watch_ttl_countdown()

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
