"""The items of one map, loaded a page at a time as the cursor nears either end of what is loaded.

The table loads its own pages, in its own worker; which page to ask for and what an answer
changes are decided by the headless `ItemWindow` (syncmap_tui/sync/paging.py), which keeps at most
MAX_ROWS rows: scrolling on drops the farthest rows, and scrolling back loads them again, so a map
of any size costs the same memory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

from rich.text import Text
from textual.binding import Binding
from textual.coordinate import Coordinate
from textual.geometry import Size
from textual.message import Message
from textual.timer import Timer
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

from syncmap_tui.sync.find import smart_case_contains
from syncmap_tui.sync.models import MapItem
from syncmap_tui.sync.paging import KEEP_ROWS, MAX_ROWS, ItemWindow, PageRequest, WindowChange, fetch_page
from syncmap_tui.sync.validation import encode_data, wire_size
from syncmap_tui.ui import formatting
from syncmap_tui.ui.display import key_text
from syncmap_tui.ui.flow_errors import flow
from syncmap_tui.ui.formatting import format_short_when, format_time_left
from syncmap_tui.ui.literal import literal
from syncmap_tui.ui.widgets.steady_scrollbars import SteadyScrollbars

if TYPE_CHECKING:
    from syncmap_tui.sync.client import SyncClient

PAGES_GROUP = "items"
"""The worker group of page loads: escape cancels it (MainScreen.CANCELLABLE_GROUPS)."""


def item_size(item: MapItem) -> int:
    return wire_size(encode_data(item.data))


class ItemTable(SteadyScrollbars, DataTable[Text]):
    BINDINGS = [
        Binding("n", "screen.new_item", "New", id="new-item"),
        Binding("delete,d", "screen.delete_item", "Delete", id="delete-item"),
        Binding("u", "screen.undo_delete", "Undo delete", show=False, id="undo-delete"),
        Binding("r", "screen.refresh", "Refresh", show=False, id="refresh-items"),
        Binding("slash", "screen.jump_to_key", "Jump", show=False, id="jump-to-key-slash"),
        Binding("c", "screen.copy_item_json", "Copy item JSON (OSC 52)", show=False, id="copy-item-json"),
        Binding("C", "screen.copy_key", "Copy key (OSC 52)", show=False, id="copy-key"),
        # Rows are what this table is about: home/end go to the first/last loaded row, not column.
        Binding("home", "scroll_top", "First row", show=False, id="first-row"),
        Binding("end", "scroll_bottom", "Last loaded row", show=False, id="last-row"),
    ]

    class PageLoaded(Message):
        """A page came in and the table shows it; `records` as the server sent them."""

        def __init__(self, request: PageRequest, records: tuple[MapItem, ...]) -> None:
            super().__init__()
            self.request = request
            self.records = records

    def __init__(self, **kwargs: Any) -> None:
        # Before DataTable's own __init__, whose clear() reads `items` through the cursor's watcher.
        self.window = ItemWindow(max_rows=MAX_ROWS, keep_rows=KEEP_ROWS)
        self._source: tuple[SyncClient, str, str] | None = None
        """The client, service SID and map SID that pages come from."""
        self._shown: dict[str, MapItem] = {}
        """The item each row's cells were made from: a rebuild keeps the cells of unchanged rows."""
        self._rebuilding = False
        self._countdown: Timer | None = None
        """The 1 s timer of the `expires` column, running only while a loaded item expires."""
        self._with_year = True
        """The `updated` column shows the year (see `on_resize`)."""
        self.key_filter = ""
        """Typed in the jump field: only loaded rows whose key holds it show (smart case), and no page
        is loaded meanwhile (the filter is of what is loaded; enter jumps on the server)."""
        self._filter_match = smart_case_contains("")
        super().__init__(cursor_type="row", zebra_stripes=True, cell_padding=self.CELL_PADDING, **kwargs)

    UPDATED_WITH_YEAR, UPDATED_WITHOUT_YEAR = 16, 11
    """`2026-01-15 12:00`, `01-15 12:00` (see `on_resize`)."""
    FIXED_COLUMNS = (
        ("rev", "revision", 5), ("bytes", "size", 6), ("updated UTC", "updated", UPDATED_WITH_YEAR), ("expires", "expires", 11)
    )
    """`expires` fits `in 364d 23h`."""
    MIN_KEY_WIDTH = 10
    """`order-0001`; longer keys are cut with an ellipsis, the editor's heading shows them whole."""
    CELL_PADDING = 1
    BORDER_AND_SCROLLBAR = 2
    """The focus bar's column on the left (app.tcss) and the vertical scrollbar's on the right."""

    @classmethod
    def _fixed_width(cls, *, with_year: bool) -> int:
        """The columns other than the key, with every column's padding."""
        widths = [cls.UPDATED_WITHOUT_YEAR if key == "updated" and not with_year else width for _, key, width in cls.FIXED_COLUMNS]
        return sum(widths) + 2 * cls.CELL_PADDING * (len(cls.FIXED_COLUMNS) + 1)

    @classmethod
    def least_width(cls) -> int:
        """Columns the table needs to show every column whole: the key at MIN_KEY_WIDTH, the dates
        without their year."""
        return cls.MIN_KEY_WIDTH + cls._fixed_width(with_year=False) + cls.BORDER_AND_SCROLLBAR

    def on_mount(self) -> None:
        # Text labels: a str label is parsed as Rich markup, and that first parse imports Rich's
        # emoji table (~6 ms of the start-up).
        self.add_column(Text("key"), key="key", width=self.MIN_KEY_WIDTH)
        for label, key, width in self.FIXED_COLUMNS:
            self.add_column(Text(label), key=key, width=width)

    def on_resize(self) -> None:
        # The key column takes whatever the fixed columns leave, so keys stay readable at 80
        # columns; where the key would get less than MIN_KEY_WIDTH, the dates drop their year.
        room = self.scrollable_content_region.width
        if not self.show_vertical_scrollbar:
            # Kept for the scrollbar the rows will bring: sized to the full width, the columns
            # overflowed by one once it came, and a horizontal scrollbar took a row.
            room -= self.styles.scrollbar_size_vertical
        with_year = room - self._fixed_width(with_year=True) >= self.MIN_KEY_WIDTH
        key_column = self.columns.get("key")  # type: ignore[call-overload]
        updated_column = self.columns.get("updated")  # type: ignore[call-overload]
        if key_column is None or updated_column is None:
            return
        if with_year != self._with_year:
            self._with_year = with_year
            updated_column.width = self.UPDATED_WITH_YEAR if with_year else self.UPDATED_WITHOUT_YEAR
            self._shown = {}  # every row's `updated` cell reads differently now
            self._rebuild()
        key_column.width = max(self.MIN_KEY_WIDTH, room - self._fixed_width(with_year=with_year))
        self._require_update_dimensions = True
        self.refresh()
        # A table that grows (laid out after its first page came, as a deep link opening before the
        # first frame does) may now show the last loaded row: ask for the next page as scrolling would.
        self._check_needs_more()
        if self.row_count:
            # The table shrinks when an item opens (Body gives the editor the rows): the row just
            # opened stays in sight.
            self.call_after_refresh(self.move_cursor, animate=False)

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

    # -- the window ------------------------------------------------------------------------------

    @property
    def items(self) -> dict[str, MapItem]:
        """The loaded items, in key order."""
        return self.window.items

    @property
    def has_more(self) -> bool:
        return self.window.has_more

    @property
    def page_pending(self) -> bool:
        """A page is on its way. (Not `loading`: that is Widget's reactive, which makes a widget
        unfocusable while it is true.)"""
        return self.window.pending is not None

    def filter_keys(self, text: str) -> None:
        """Show only the loaded rows whose key holds `text`; "" shows them all again."""
        if text == self.key_filter:
            return
        self.key_filter = text
        self._filter_match = smart_case_contains(text)
        if [key for key in self.window.items if self._shows(key)] == list(self._shown):
            # The same rows (typing a prefix every key has): a rebuild of 1,000 rows takes ~70 ms.
            self._check_needs_more()  # paging resumes when the filter is cleared
            return
        self._rebuild()

    @property
    def shown_keys(self) -> list[str]:
        """The keys of the rows on the table, in row order: the loaded ones the filter lets through."""
        return list(self._shown)

    def _shows(self, key: str) -> bool:
        return not self.key_filter or self._filter_match(key)

    def reset(self) -> None:
        """No map: an empty table. A page still on its way for the old map is dropped when it comes."""
        self._source = None
        self.window = ItemWindow(max_rows=MAX_ROWS, keep_rows=KEEP_ROWS)
        self._show(WindowChange(rebuilt=True))

    async def open(self, client: SyncClient, service_sid: str, map_ref: str, from_key: str | None = None) -> bool:
        """Show a map's items from the start, or from `from_key` on (a jump, a refresh). `map_ref`:
        its SID, or its unique name (a deep link, before the map's SID is known; the next pages
        then ask by the SID the items carry). Raises SyncError, with the rows left as they were.
        False if a newer listing began meanwhile."""
        self._source = (client, service_sid, map_ref)
        request = self.window.restart(from_key)
        try:
            page = await fetch_page(client, service_sid, map_ref, request)
        except BaseException:
            self.window.failed(request)
            raise
        if self.window.apply(request, page.records, page.has_more) is None:
            return False
        if page.records:
            self._source = (client, service_sid, page.records[0].map_sid)
        self._rebuild(keep_cursor=False)
        return True

    def insert_item(self, item: MapItem) -> None:
        """An item created here: shown at its place in key order when it falls in the loaded range."""
        self._show(self.window.insert(item))

    def update_item(self, item: MapItem) -> None:
        if not self.window.update(item) or item.key not in self._shown:
            return
        self._shown[item.key] = item
        for column, cell in zip(("key", "revision", "size", "updated", "expires"), self._cells(item)):
            self.update_cell(item.key, column, cell)
        self._watch_expiries()

    def mark_changed(self, key: str) -> None:
        """The watch saw the server change this row's item since it was shown: a `•` after its
        revision, until the row is shown anew (opening the item, a refresh)."""
        item = self._shown.get(key)  # a row the filter hides has no cell to mark
        if item is not None:
            self.update_cell(key, "revision", Text.assemble(literal(item.revision), ("•", "bold")))

    def mark_gone(self, key: str) -> None:
        """The watch found this row's item deleted (or expired): `✖` for its revision; opening it
        says so and removes the row."""
        if key in self._shown:
            self.update_cell(key, "revision", Text("✖", style="bold"))

    def remove_item(self, key: str) -> None:
        if self.window.remove(key) and self._shown.pop(key, None) is not None:
            self.remove_row(key)
            self._watch_expiries()

    @flow("Loading more items", group=PAGES_GROUP)
    async def _load_page(self, request: PageRequest) -> None:
        assert self._source is not None
        client, service_sid, map_sid = self._source
        try:
            page = await fetch_page(client, service_sid, map_sid, request)
        except BaseException:
            self.window.failed(request)  # failed or cancelled (escape): scrolling there asks again
            raise
        change = self.window.apply(request, page.records, page.has_more)
        if change is not None:
            self._show(change)
            self.post_message(self.PageLoaded(request, tuple(page.records)))

    # -- showing the window ------------------------------------------------------------------

    def _cells(self, item: MapItem) -> list[Text]:
        return [
            key_text(item.key),
            literal(item.revision),
            Text(f"{item_size(item):,}", justify="right"),
            Text(format_short_when(item.date_updated, with_year=self._with_year)),
            self._expires_cell(item),
        ]

    @staticmethod
    def _expires_cell(item: MapItem) -> Text:
        return Text(format_time_left(item.date_expires, formatting.now_utc()) if item.date_expires else "—")

    # -- the countdown ---------------------------------------------------------------------------

    def _watch_expiries(self) -> None:
        """Run the countdown's 1 s timer while a loaded item expires, and only then: with nothing
        expiring the table wakes no timer and writes nothing (idle stays 0 B/s)."""
        expiring = any(item.date_expires is not None for item in self.window.items.values())
        if expiring and self._countdown is None:
            self._countdown = self.set_interval(1, self._count_down)
        elif not expiring and self._countdown is not None:
            self._countdown.stop()
            self._countdown = None

    def _count_down(self) -> None:
        """Update the `expires` cells of the rows on screen whose text changed: `in 23h 50m` changes
        once a minute, `in 42s` every second, and a cell that reads the same is not repainted."""
        top = int(self.scroll_y)
        for row in self.ordered_rows[top : top + self.scrollable_content_region.height]:
            key = row.key.value
            item = self.window.items.get(key) if key is not None else None
            if key is None or item is None or item.date_expires is None:
                continue
            cell = self._expires_cell(item)
            if self.get_cell(key, "expires").plain != cell.plain:
                self._show_expires(key, cell)

    def _show_expires(self, key: str, cell: Text) -> None:
        """`update_cell` that repaints only the cell: update_cell repaints the whole table, and
        with one row counting down that wrote ~700 B a second at 80×24 (measured in a pty)."""
        self._data[RowKey(key)][ColumnKey("expires")] = cell
        self._update_count += 1  # DataTable's row render caches are keyed on it
        self.refresh_coordinate(Coordinate(self.get_row_index(key), self.get_column_index("expires")))

    def _show(self, change: WindowChange) -> None:
        if change.rebuilt:
            self._rebuild()
            return
        if not change.appended:
            return
        self._watch_expiries()
        # Each added row moves the watchers, which would ask for yet another page while the
        # table is still shorter than the window.
        self._rebuilding = True
        try:
            for item in change.appended:
                if not self._shows(item.key):
                    continue
                self._shown[item.key] = item
                self.add_row(*self._cells(item), key=item.key)
        finally:
            self._rebuilding = False

    def _rebuild(self, *, keep_cursor: bool = True) -> None:
        """Show the window anew: the cursor on the same item and the view where it was, or (a new
        listing) on the first row."""
        current = self.current_row_key if keep_cursor else None
        cursor_on_screen = self.cursor_row - int(self.scroll_y)
        items = {key: item for key, item in self.window.items.items() if self._shows(key)}
        cells = {key: self.get_row(key) for key, item in items.items() if self._shown.get(key) is item}
        self._rebuilding = True
        try:
            self.clear()
            self._shown = dict(items)
            for key, item in items.items():
                self.add_row(*(cells[key] if key in cells else self._cells(item)), key=key)
            # Size the table now (as DataTable does when idle) so that the scroll below is not clamped.
            self._require_update_dimensions = False
            new_rows, self._new_rows = self._new_rows, set()
            self._update_dimensions(new_rows)
            if current is not None and current in items:
                row = self.get_row_index(current)
                self.scroll_to(y=max(0, row - cursor_on_screen), animate=False, immediate=True)
                self.move_cursor(row=row, scroll=False)
            elif not keep_cursor:
                self.scroll_to(y=0, animate=False, immediate=True)
                self.move_cursor(row=0, scroll=False)
        finally:
            self._rebuilding = False
        self._watch_expiries()
        self._check_needs_more()

    @property
    def current_row_key(self) -> str | None:
        if self.row_count == 0:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return row_key.value

    @property
    def current_item(self) -> MapItem | None:
        key = self.current_row_key
        return self.items.get(key) if key is not None else None

    @property
    def first_key(self) -> str | None:
        return self.window.first_key

    def select_key(self, key: str) -> bool:
        if key not in self._shown:
            return False
        self.move_cursor(row=self.get_row_index(key))
        return True

    def _check_needs_more(self) -> None:
        """Ask for a page when the cursor or the view nears the last loaded row, or the first
        (ItemWindow.request_near says how near)."""
        if self._source is None or self._rebuilding or self.window.pending is not None or self.key_filter:
            return
        height = self.scrollable_content_region.height
        bottom_row = max(self.cursor_row, int(self.scroll_y) + height)
        top_row = min(self.cursor_row, int(self.scroll_y))
        request = self.window.request_near(top_row, self.row_count - bottom_row, height)
        if request is not None:
            self._load_page(request)

    def watch_cursor_coordinate(self, old: Coordinate, new: Coordinate) -> None:
        super().watch_cursor_coordinate(old, new)
        self._check_needs_more()

    def watch_scroll_y(self, old: float, new: float) -> None:
        super().watch_scroll_y(old, new)
        self._check_needs_more()
