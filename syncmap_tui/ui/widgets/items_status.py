"""The line under the item table: what is loaded, whether more is on the server, and why the list
shows what it shows."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.widgets import Static

from syncmap_tui.ui.literal import visible

if TYPE_CHECKING:
    from syncmap_tui.ui.widgets.item_table import ItemTable


class ItemsStatus(Static):
    def show(self, table: ItemTable, *, map_open: bool, note: str) -> None:
        """`note`: where a jump landed, say; it comes first, as it is what was asked."""
        if not map_open:
            text = "Choose a map in the tree."
        elif table.key_filter:  # no page loads while it holds: "scroll for more" would not be true
            text = f"filter {visible(table.key_filter)!r}: {table.row_count:,} of {len(table.items):,} loaded"
        else:
            text = f"{len(table.items):,} loaded" + (" · more on the server (scroll)" if table.has_more else " · all loaded")
        if note:
            text = f"{note} · {text}"
        self.update(Text(text))
