"""The tree of services → maps. Maps of a service load when it is first expanded."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from syncmap_tui.sync.models import Service, SyncMap
from syncmap_tui.ui.display import key_text
from syncmap_tui.ui.widgets.steady_scrollbars import SteadyScrollbars


@dataclass
class ServiceEntry:
    service: Service
    maps_loaded: bool = False


@dataclass
class MapEntry:
    service: Service
    sync_map: SyncMap


NavigatorEntry = ServiceEntry | MapEntry

MIN_WIDTH = 16
MAX_SHARE = 0.4
"""The tree takes the width of its longest line, up to this share of the screen and what the
workspace leaves (`fit_width`'s bound)."""


class Navigator(SteadyScrollbars, Tree[NavigatorEntry]):
    """Services and their maps. It shows what it is given; the screen does the loading."""

    BINDINGS = [
        Binding("m", "screen.new_map", "New map", id="new-map"),
        Binding("delete,D", "screen.delete_map", "Delete map", id="delete-map"),
    ]

    class ServiceExpanded(Message):
        def __init__(self, entry: ServiceEntry) -> None:
            super().__init__()
            self.entry = entry

    class MapChosen(Message):
        def __init__(self, entry: MapEntry) -> None:
            super().__init__()
            self.entry = entry

    def __init__(self, **kwargs) -> None:
        super().__init__(Text("services"), **kwargs)  # a str would be parsed as markup (and load rich's emoji table)
        self.show_root = False
        self.guide_depth = 2
        self.width_offset = 0
        """Columns added to (or taken from) the fitted width from the keyboard (`resize`)."""
        self._bound = 22
        """The most columns the fitted width may take (see `fit_width`)."""

    # -- width ---------------------------------------------------------------------------------

    def fitted_width(self, bound: int) -> int:
        """The longest shown line with its border and scrollbar, within MIN_WIDTH and `bound`,
        moved by the user's `width_offset` (which may go past the bound)."""
        chrome = self.styles.gutter.width + 1  # the border, and the vertical scrollbar's column
        fitted = max(MIN_WIDTH, min(self.virtual_size.width + chrome, bound))
        return max(MIN_WIDTH, fitted + self.width_offset)

    def fit_width(self, bound: int | None = None) -> None:
        """Take the width of the content within `bound` columns (the last bound given when None)."""
        if bound is not None:
            self._bound = max(MIN_WIDTH, min(bound, int(self.screen.size.width * MAX_SHARE)))
        width = self.fitted_width(self._bound)
        if self.styles.width is None or self.styles.width.cells != width:
            self.styles.width = width

    def resize(self, columns: int, most: int) -> None:
        """Widen (or, negative, narrow) the tree by `columns` from the keyboard, to `most` at most."""
        before = self.fitted_width(self._bound)
        after = max(MIN_WIDTH, min(before + columns, most))
        self.width_offset += after - before  # no credit for steps past a bound
        self.fit_width()

    def watch_virtual_size(self, size: Size) -> None:
        # The widest label shown changes as services expand and collapse.
        if self.is_mounted:
            self.fit_width()

    def show_services(self, services: list[Service]) -> None:
        self.clear()
        for service in services:
            self.root.add(key_text(service.display_name), ServiceEntry(service), allow_expand=True)
        if not services:
            self.root.add_leaf(Text("no services", style="dim italic"))
        self.cursor_line = 0  # a cleared tree has no cursor line, and enter would do nothing

    def service_node(self, service_sid: str) -> TreeNode[NavigatorEntry] | None:
        for node in self.root.children:
            if isinstance(node.data, ServiceEntry) and node.data.service.sid == service_sid:
                return node
        return None

    def map_node(self, service_sid: str, map_sid: str) -> TreeNode[NavigatorEntry] | None:
        service_node = self.service_node(service_sid)
        for node in service_node.children if service_node else ():
            if isinstance(node.data, MapEntry) and node.data.sync_map.sid == map_sid:
                return node
        return None

    def show_maps(self, service_sid: str, maps: list[SyncMap]) -> None:
        node = self.service_node(service_sid)
        if node is None:
            return
        assert isinstance(node.data, ServiceEntry)
        node.remove_children()
        for sync_map in maps:
            node.add_leaf(key_text(sync_map.display_name), MapEntry(node.data.service, sync_map))
        if not maps:
            node.add_leaf(Text("no maps (m: new map)", style="dim italic"))
        node.data.maps_loaded = True
        node.expand()

    def select_map(self, service_sid: str, map_sid: str) -> None:
        node = self.map_node(service_sid, map_sid)
        if node is not None:
            self.move_to(node)

    def move_to(self, node: TreeNode[NavigatorEntry]) -> None:
        """Put the cursor on `node`, also on one just added: Tree numbers the lines of new nodes
        when it next draws, and until then `move_cursor` finds no line and puts the cursor nowhere."""
        if node.line == -1:
            self.call_after_refresh(self.move_cursor, node)
        else:
            self.move_cursor(node)

    @property
    def current_service(self) -> Service | None:
        node = self.cursor_node
        if node is None or node.data is None:
            return None
        return node.data.service

    @property
    def current_map(self) -> MapEntry | None:
        node = self.cursor_node
        return node.data if node is not None and isinstance(node.data, MapEntry) else None

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[NavigatorEntry]) -> None:
        entry = event.node.data
        if isinstance(entry, ServiceEntry) and not entry.maps_loaded:
            self.post_message(self.ServiceExpanded(entry))

    def on_tree_node_selected(self, event: Tree.NodeSelected[NavigatorEntry]) -> None:
        entry = event.node.data
        if isinstance(entry, MapEntry):
            event.stop()
            self.post_message(self.MapChosen(entry))
