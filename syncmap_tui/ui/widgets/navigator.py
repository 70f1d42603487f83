"""The tree of services → maps. Maps of a service load when it is first expanded."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from syncmap_tui.sync.models import Service, SyncMap
from syncmap_tui.ui.literal import literal
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

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(Text("services"), **kwargs)  # a str would be parsed as markup (and load rich's emoji table)
        self.show_root = False
        self.guide_depth = 2

    def show_services(self, services: list[Service]) -> None:
        self.clear()
        for service in services:
            self.root.add(literal(service.display_name), ServiceEntry(service), allow_expand=True)
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
            node.add_leaf(literal(sync_map.display_name), MapEntry(node.data.service, sync_map))
        if not maps:
            node.add_leaf(Text("no maps (m: new map)", style="dim italic"))
        node.data.maps_loaded = True
        node.expand()

    def select_map(self, service_sid: str, map_sid: str) -> None:
        node = self.map_node(service_sid, map_sid)
        if node is not None:
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
