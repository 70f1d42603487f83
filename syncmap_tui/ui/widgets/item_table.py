"""The items of one map, loaded a page at a time as the cursor nears either end of what is loaded.

The table keeps a window of at most MAX_ROWS rows: scrolling on drops the farthest rows, and
scrolling back loads them again, so a map of any size costs the same memory.
"""

from __future__ import annotations

from typing import Iterable

from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey

from syncmap_tui.sync.models import MapItem
from syncmap_tui.sync.validation import encode_data, wire_size
from syncmap_tui.ui import formatting
from syncmap_tui.ui.formatting import format_short_when, format_time_left
from syncmap_tui.ui.literal import literal
from syncmap_tui.ui.widgets.steady_scrollbars import SteadyScrollbars

LOAD_AHEAD_ROWS = 20
"""Ask for the next page while this many loaded rows are still below the cursor, so scrolling never waits."""
MAX_ROWS = 1_000
"""The most rows the table keeps. A row costs ~8 KB (the item, its cells, the table's own records):
without a limit, paging through 10,000 items of a 100,000-item map grew the process by ~80 MB."""
KEEP_ROWS = 800
"""What is left after a trim: trims (a rebuild of the table, ~30 ms) come every other page, not every page."""


def item_size(item: MapItem) -> int:
    return wire_size(encode_data(item.data))


class ItemTable(SteadyScrollbars, DataTable[Text]):
    BINDINGS = [
        Binding("n", "screen.new_item", "New", id="new-item"),
        Binding("delete,d", "screen.delete_item", "Delete", id="delete-item"),
        Binding("r", "screen.refresh", "Refresh", show=False, id="refresh-items"),
        Binding("slash", "screen.jump_to_key", "Jump", show=False, id="jump-to-key-slash"),
        # Rows are what this table is about: home/end go to the first/last loaded row, not column.
        Binding("home", "scroll_top", "First row", show=False, id="first-row"),
        Binding("end", "scroll_bottom", "Last loaded row", show=False, id="last-row"),
    ]

    class NeedsMore(Message):
        """The cursor is near the last loaded row and the server has more."""

    class NeedsEarlier(Message):
        """The cursor is near the first loaded row and rows before it were dropped (see MAX_ROWS)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.items: dict[str, MapItem] = {}
        self.has_more = False
        self.has_earlier = False
        """True when rows before the first loaded one were dropped: scrolling up loads them again."""
        self.loading_more = False
        """A page (after the last row, or before the first) is on its way."""
        self.resume_after: str | None = None
        """Set when rows after the last loaded one were dropped: the next page starts after this key,
        not at the server's next-page link, which pointed past the dropped rows."""
        self._rebuilding = False

    FIXED_COLUMNS = (("rev", "revision", 5), ("bytes", "size", 6), ("updated (UTC)", "updated", 16), ("expires", "expires", 9))
    MIN_KEY_WIDTH = 12

    def on_mount(self) -> None:
        # Text labels: a str label is parsed as Rich markup, and that first parse imports Rich's
        # emoji table (~6 ms of the start-up).
        self.add_column(Text("key"), key="key", width=self.MIN_KEY_WIDTH)
        for label, key, width in self.FIXED_COLUMNS:
            self.add_column(Text(label), key=key, width=width)

    def on_resize(self) -> None:
        # The key column takes whatever the fixed columns leave, so keys stay readable at 80 columns.
        fixed = sum(width for _, _, width in self.FIXED_COLUMNS)
        padding = 2 * self.cell_padding * (len(self.FIXED_COLUMNS) + 1)
        available = self.scrollable_content_region.width - fixed - padding
        column = self.columns.get("key")  # type: ignore[call-overload]
        if column is not None:
            column.width = max(self.MIN_KEY_WIDTH, available)
            self._require_update_dimensions = True
            self.refresh()

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        # DataTable measures every cell of every new row (500 Rich measurements per page, ~40 ms)
        # to size auto-width columns and auto-height rows. Every column here has a fixed width and
        # every row a height of 1: only the virtual size needs computing.
        if any(column.auto_width for column in self.columns.values()) or any(
            row.auto_height or row.label is not None for row in (self.rows.get(key) for key in new_rows) if row is not None
        ):
            super()._update_dimensions(new_rows)
            return
        width = sum(column.get_render_width(self) for column in self.columns.values()) + self._row_label_column_width
        header_height = self.header_height if self.show_header else 0
        self.virtual_size = Size(width, self._total_row_height + header_height)

    def reset(self) -> None:
        # The flags first: clearing moves the cursor, whose watcher must not ask for another page.
        self.has_more = False
        self.has_earlier = False
        self.loading_more = False
        self.resume_after = None
        self.clear()
        self.items.clear()

    def _cells(self, item: MapItem) -> list[Text]:
        return [
            literal(item.key),
            literal(item.revision),
            Text(f"{item_size(item):,}", justify="right"),
            Text(format_short_when(item.date_updated)),
            Text(format_time_left(item.date_expires, formatting.now_utc()) if item.date_expires else "—"),
        ]

    def append_page(self, items: list[MapItem], has_more: bool) -> None:
        for item in items:
            if item.key in self.items:
                continue  # a page boundary can repeat a key that changed between requests
            self.items[item.key] = item
            self.add_row(*self._cells(item), key=item.key)
        self.has_more = has_more
        self.resume_after = None
        self.loading_more = False
        if self.row_count > MAX_ROWS:
            keys = list(self.items)
            self._keep(keys[len(keys) - KEEP_ROWS :], {})
            self.has_earlier = True

    def prepend_page(self, items: list[MapItem], has_earlier: bool) -> None:
        """Rows that come before the first loaded one (in key order), loaded again after a trim."""
        earlier = [item for item in items if item.key not in self.items]
        keys = [item.key for item in earlier] + list(self.items)
        if len(keys) > MAX_ROWS:
            keys = keys[:KEEP_ROWS]
            self.has_more = True
            self.resume_after = keys[-1]
        self._keep(keys, {item.key: item for item in earlier})
        self.has_earlier = has_earlier
        self.loading_more = False

    def _keep(self, keys: list[str], new_items: dict[str, MapItem]) -> None:
        """Rebuild the table with these rows, the cursor on the same item and the view where it was."""
        current = self.current_item
        cursor_on_screen = self.cursor_row - int(self.scroll_y)
        cells = {key: self.get_row(key) for key in keys if key not in new_items}
        self._rebuilding = True
        try:
            self.clear()
            self.items = {key: new_items[key] if key in new_items else self.items[key] for key in keys}
            for key, item in self.items.items():
                self.add_row(*(cells[key] if key in cells else self._cells(item)), key=key)
            # Size the table now (as DataTable does when idle) so that the scroll below is not clamped.
            self._require_update_dimensions = False
            new_rows, self._new_rows = self._new_rows, set()
            self._update_dimensions(new_rows)
            if current is not None and current.key in self.items:
                row = self.get_row_index(current.key)
                self.scroll_to(y=max(0, row - cursor_on_screen), animate=False, immediate=True)
                self.move_cursor(row=row, scroll=False)
        finally:
            self._rebuilding = False

    def update_item(self, item: MapItem) -> None:
        if item.key not in self.items:
            return
        self.items[item.key] = item
        for column, cell in zip(("key", "revision", "size", "updated", "expires"), self._cells(item)):
            self.update_cell(item.key, column, cell)

    def remove_item(self, key: str) -> None:
        if self.items.pop(key, None) is not None:
            self.remove_row(key)

    @property
    def current_item(self) -> MapItem | None:
        if not self.items or self.row_count == 0:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return self.items.get(row_key.value) if row_key.value is not None else None

    @property
    def first_key(self) -> str | None:
        return next(iter(self.items), None)

    def select_key(self, key: str) -> bool:
        if key not in self.items:
            return False
        self.move_cursor(row=self.get_row_index(key))
        return True

    def _check_needs_more(self) -> None:
        """Ask for a page when the cursor or the view nears the last loaded row, or the first after a trim."""
        if self.loading_more or self._rebuilding:
            return
        if self.has_more:
            bottom_row = max(self.cursor_row, int(self.scroll_y) + self.scrollable_content_region.height)
            if self.row_count - bottom_row <= LOAD_AHEAD_ROWS:
                self.loading_more = True
                self.post_message(self.NeedsMore())
                return
        if self.has_earlier and min(self.cursor_row, int(self.scroll_y)) <= LOAD_AHEAD_ROWS:
            self.loading_more = True
            self.post_message(self.NeedsEarlier())

    def watch_cursor_coordinate(self, old, new) -> None:
        super().watch_cursor_coordinate(old, new)
        self._check_needs_more()

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._check_needs_more()
