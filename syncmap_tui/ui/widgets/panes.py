"""How the screen is shared between the tree, the item table and the editor.

At 80×24 there are 22 rows for the table and the editor together, too few for a fixed split to
suit both tasks. So the split follows the focus: while choosing (the tree, the jump field or the
table has the focus) the table gets most of the rows; while editing (the JSON or a TTL field) the
editor does. Each task's split can be moved from the keyboard and is kept for that task; F10
(or alt+m) maximises the pane in use (Textual's own maximised view, which the palette's Minimize undoes too).
The tree takes the width of its content, within bounds (Navigator.fitted_width), and can be
widened or narrowed from the keyboard.
"""

from __future__ import annotations

from typing import Any

from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widget import Widget

from syncmap_tui.ui.widgets.item_table import ItemTable
from syncmap_tui.ui.widgets.navigator import Navigator

WIDE_MIN_COLUMNS = 140
"""From this width the table and the editor stand side by side; below it, one above the other."""
MIN_TABLE_ROWS = 5
"""The jump field, the column headings, two rows and the status line."""
MIN_EDITOR_ROWS = 6
"""The editor's top border, its heading, two lines of JSON, the status line and one TTL field."""
MIN_EDITOR_COLUMNS = 40
"""Side by side (wide), the least width the editor is given; the table's is ItemTable.least_width."""
SHARES = {(False, "choosing"): 0.6, (False, "editing"): 0.25, (True, "choosing"): 0.55, (True, "editing"): 0.4}
"""The items pane's share of the workspace by (side by side, task). Side by side both panes have
the full height, so the split moves less: at 200 columns, editing still leaves the table its
dates with the year (~68 columns)."""


class ItemsPane(Vertical):
    """The jump field, the item table and its status line: maximised together (F10)."""

    ALLOW_MAXIMIZE = True


class Body(Horizontal):
    """The tree beside the workspace (the items pane and the editor). See the module docstring."""

    BINDINGS = [
        Binding("f10,alt+m", "toggle_maximized", "Maximise", id="toggle-maximized"),
        Binding("alt+down", "resize_table(1)", "Table larger (editor smaller)", show=False, id="grow-table"),
        Binding("alt+up", "resize_table(-1)", "Table smaller (editor larger)", show=False, id="shrink-table"),
        Binding("alt+right", "resize_tree(2)", "Tree wider", show=False, id="widen-tree"),
        Binding("alt+left", "resize_tree(-2)", "Tree narrower", show=False, id="narrow-tree"),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.shares = dict(SHARES)
        """The share of the workspace the items pane gets, by (side by side, task); the editor gets
        the rest. The keyboard moves the current one (`action_resize_table`)."""

    @property
    def workspace(self) -> Vertical:
        return self.query_one("#workspace", Vertical)

    @property
    def items_pane(self) -> ItemsPane:
        return self.query_one(ItemsPane)

    @property
    def wide(self) -> bool:
        return self.workspace.has_class("-wide")

    @property
    def focus_task(self) -> str:
        """"editing" while the focus is in the editor, else "choosing"."""
        focused = self.screen.focused
        editor = self.workspace.query("#editor")
        return "editing" if focused is not None and editor and focused in editor.first().walk_children() else "choosing"

    @property
    def navigator(self) -> Navigator:
        return self.query_one(Navigator)

    def on_resize(self) -> None:
        wide = self.size.width >= WIDE_MIN_COLUMNS
        self.workspace.set_class(wide, "-wide")
        # Stacked, the table needs its columns beside the tree; side by side, the table's share.
        table_columns = ItemTable.least_width() * (2 if wide else 1)
        self.navigator.fit_width(self.size.width - table_columns)
        self.apply_split()

    def on_descendant_focus(self) -> None:
        self.apply_split()

    def on_navigator_fitted(self) -> None:
        # Side by side, the split shares what the tree leaves: at start the tree is 22 columns
        # until the services come, and the split taken then was off by a few columns for good.
        self.apply_split()

    def _room(self) -> tuple[int, int, int]:
        """The workspace's length along the split, and the least each pane may have.

        Measured from this body and the tree's set width, not from the workspace's size: while the
        terminal is resized, the workspace still has the size of the last layout, and a split
        taken from it stayed off by a few columns at the new size until the focus moved."""
        if self.wide:
            tree = self.navigator.styles.width
            tree_columns = tree.cells if tree is not None and tree.cells is not None else self.navigator.outer_size.width
            return self.size.width - tree_columns, ItemTable.least_width(), MIN_EDITOR_COLUMNS
        return self.size.height, MIN_TABLE_ROWS, MIN_EDITOR_ROWS

    def table_length(self, task: str | None = None) -> int:
        """Rows (or, side by side, columns) the items pane gets for `task` (default: the current one)."""
        length, least_table, least_editor = self._room()
        wanted = round(length * self.shares[self.wide, task or self.focus_task])
        return max(least_table, min(wanted, length - least_editor))

    def apply_split(self) -> None:
        if not self.size or not self.workspace.size:
            return
        pane = self.items_pane.styles
        length = self.table_length()
        if self.wide:
            if pane.width is None or pane.width.cells != length or pane.height is None or pane.height.cells is not None:
                pane.height = "1fr"
                pane.width = length
        elif pane.height is None or pane.height.cells != length or pane.width is None or pane.width.cells is not None:
            pane.width = "1fr"
            pane.height = length

    def action_resize_table(self, step: int) -> None:
        """Move the split one row (or, side by side, two columns) for the current task."""
        length, _, _ = self._room()
        if not length:
            return
        task = self.focus_task
        before = self.table_length(task)
        self.shares[self.wide, task] = (before + step * (2 if self.wide else 1)) / length
        self.shares[self.wide, task] = self.table_length(task) / length  # no credit for steps past a bound
        self.apply_split()

    def action_resize_tree(self, columns: int) -> None:
        self.navigator.resize(columns, most=self.size.width - MIN_EDITOR_COLUMNS)

    def action_toggle_maximized(self) -> None:
        screen = self.screen
        if screen.maximized is not None:
            screen.minimize()
            return
        pane: Widget = self.items_pane
        if self.focus_task == "editing":
            pane = self.workspace.query_one("#editor")
        screen.maximize(pane, container=False)

    def show_editor(self) -> None:
        """An item was opened: if a pane other than the editor is maximised, show the editor too."""
        maximized = self.screen.maximized
        editor = self.workspace.query("#editor")
        if maximized is not None and not (editor and maximized is editor.first()):
            self.screen.minimize()
