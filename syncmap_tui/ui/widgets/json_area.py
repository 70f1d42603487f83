"""The JSON text area: TextArea made cheap per keystroke for 16 KB items over SSH.

This is the one module that leans on Textual's private members (TextArea's highlight map, line
cache, theme, selection watcher, document setter, paste handler; WrappedDocument's offset table):
tests/unit/test_textual_private_members.py checks that each one still exists in the installed
Textual, so an upgrade that renames one fails there, loudly, instead of here, quietly."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Self

from textual import events
from textual.document._wrapped_document import WrappedDocument
from textual.geometry import Offset, Region
from textual.message import Message
from textual.strip import Strip
from textual.widgets import TextArea
from textual.widgets.text_area import Edit, EditResult, Selection

from syncmap_tui.sync.validation import MAX_DATA_BYTES, escape_unprintable
from syncmap_tui.ui.widgets.steady_scrollbars import SteadyScrollbars


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
    highlights: tuple[tuple[Span, ...], ...]
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


Span = tuple[int, int | None, str]
"""A highlight span of a row as TextArea keeps them: start column, end column (None: to the end), name."""


class _RowHighlights(dict[int, list[Span]]):
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

    def __missing__(self, row: int) -> list[Span]:
        if row < 0:
            return []
        first = row - row % self.BLOCK_ROWS
        self._fill(first, first + self.BLOCK_ROWS)
        return dict.__getitem__(self, row)

    def rows(self, rows: range) -> list[list[Span]]:
        """The spans of these rows, with one query for all that are not known yet."""
        if any(row not in self for row in rows):
            self._fill(rows.start, rows.stop)
        return [dict.__getitem__(self, row) for row in rows]

    def _fill(self, first: int, stop: int) -> None:
        """Compute rows first..stop-1 exactly as TextArea._build_highlight_map does for the whole tree."""
        rows: dict[int, list[Span]] = {row: [] for row in range(first, stop)}
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

    def __init__(self, *, after_edit: Callable[[int | None], None] | None = None, **kwargs: Any) -> None:
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

    @property
    def _row_highlights(self) -> _RowHighlights:
        highlights = self._highlights
        assert isinstance(highlights, _RowHighlights)  # put there by _build_highlight_map
        return highlights

    def _build_highlight_map(self) -> None:
        self._line_cache.clear()
        if not isinstance(self._highlights, _RowHighlights):
            self._highlights = _RowHighlights(self)
        self._highlights.clear()

    MAX_PASTED_LINE_CHARS = 2 * MAX_DATA_BYTES
    """A paste with a longer line is refused: TextArea re-wraps a whole line for every screen row
    it paints, so a 200 KB line took ~4 s to paste and ~1 s per cursor move (1 MB: 27 s and 6 s).
    Such a line is no part of data an item can hold. Long pastes of short lines are kept."""

    async def _on_paste(self, event: events.Paste) -> None:
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
            size=(self.size.width, self.size.height),
            virtual_size=(self.virtual_size.width, self.virtual_size.height),
            wrapped_height=wrapped_height,
            line_count=self.document.line_count,
            gutter_width=self.gutter_width,
            suggestion=self.suggestion,
            selection_rows=(min(start[0], end[0]), max(start[0], end[0])),
            bracket_row=None if bracket is None else bracket[0],
            visible_rows=visible_rows,
            highlights=tuple(self._painted_spans(spans) for spans in self._row_highlights.rows(visible_rows))
            if highlights
            else (),
        )

    def _painted_spans(self, spans: list[Span]) -> tuple[Span, ...]:
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
            self._row_highlights.rows(range(top_row, top_row + 1))  # the one row the frame paints, not its block of 64
        self._refresh_rows(rows)
