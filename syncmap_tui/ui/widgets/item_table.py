"""The items of one map, loaded a page at a time as the cursor nears the end of what is loaded."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from syncmap_tui.sync.models import MapItem
from syncmap_tui.sync.validation import encode_data, wire_size
from syncmap_tui.ui import formatting
from syncmap_tui.ui.formatting import format_short_when, format_time_left
from syncmap_tui.ui.literal import literal

LOAD_AHEAD_ROWS = 20
"""Ask for the next page while this many loaded rows are still below the cursor, so scrolling never waits."""


def item_size(item: MapItem) -> int:
    return wire_size(encode_data(item.data))


class ItemTable(DataTable[Text]):
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

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.items: dict[str, MapItem] = {}
        self.has_more = False
        self.loading_more = False

    FIXED_COLUMNS = (("rev", "revision", 5), ("bytes", "size", 6), ("updated (UTC)", "updated", 16), ("expires", "expires", 9))
    MIN_KEY_WIDTH = 12

    def on_mount(self) -> None:
        self.add_column("key", key="key", width=self.MIN_KEY_WIDTH)
        for label, key, width in self.FIXED_COLUMNS:
            self.add_column(label, key=key, width=width)

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

    def reset(self) -> None:
        self.clear()
        self.items.clear()
        self.has_more = False
        self.loading_more = False

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
        self.loading_more = False

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

    def select_key(self, key: str) -> bool:
        if key not in self.items:
            return False
        self.move_cursor(row=self.get_row_index(key))
        return True

    def _check_needs_more(self) -> None:
        """Ask for the next page when the cursor or the bottom of the view nears the last loaded row."""
        if not self.has_more or self.loading_more:
            return
        bottom_row = max(self.cursor_row, int(self.scroll_y) + self.scrollable_content_region.height)
        if self.row_count - bottom_row <= LOAD_AHEAD_ROWS:
            self.loading_more = True
            self.post_message(self.NeedsMore())

    def watch_cursor_coordinate(self, old, new) -> None:
        super().watch_cursor_coordinate(old, new)
        self._check_needs_more()

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._check_needs_more()
