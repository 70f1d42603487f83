"""The tree of services → maps. Maps of a service load when it is first expanded.

It may first show the last listing from the tree cache (syncmap_tui/tree_cache.py), marked
"refreshing…" until the server's listing replaces it: the cursor and the expanded services stay
where they were, and what the server no longer lists is gone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
    """The server's listing of its maps is shown (not none, not the cache's)."""


@dataclass
class MapEntry:
    service: Service
    sync_map: SyncMap


NavigatorEntry = ServiceEntry | MapEntry

REFRESHING = "refreshing…"
"""The leaf under a listing that came from the cache, until the server's replaces it."""
NOT_REFRESHED = "not refreshed"
"""The same leaf once the server's listing failed: what shows is the last listing, still."""

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

    class Fitted(Message):
        """The tree took another width: what it leaves the workspace changed."""

    class MapChosen(Message):
        def __init__(self, entry: MapEntry) -> None:
            super().__init__()
            self.entry = entry

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(Text("services"), **kwargs)  # a str would be parsed as markup (and load rich's emoji table)
        self.show_root = False
        self.guide_depth = 2
        self.refreshing = False
        """The services shown are the cache's: the server's listing is on its way."""
        self._maps_requested: set[str] = set()
        """Services whose maps are on their way: expanding one again asks for nothing more."""
        self._refreshing_leaves: dict[str | None, TreeNode[NavigatorEntry]] = {}
        """The "refreshing…" leaf under the cached services (key None) and under cached maps (by service SID)."""
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
            self.post_message(self.Fitted())

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

    def show_services(self, services: list[Service], *, cached: bool = False) -> None:
        """Show `services`: the server's listing, or (`cached`) the last one, marked refreshing.

        Replacing a listing keeps the cursor on the service or map it was on, and expanded
        services expanded with the maps they showed (marked refreshing while they are listed
        anew); services no longer listed are gone."""
        at_service, at_map = self._cursor_sids()
        # Maps listed since the cache's listing showed are current; after a listing of the
        # server's (a refresh), the maps shown are the old listing's and are listed anew.
        maps_still_current = self.refreshing
        shown_maps = {
            node.data.service.sid: (
                [child.data.sync_map for child in node.children if isinstance(child.data, MapEntry)],
                maps_still_current and node.data.maps_loaded,
            )
            for node in self.root.children
            if isinstance(node.data, ServiceEntry) and node.is_expanded
        }
        self.clear()
        self._refreshing_leaves.clear()
        self.refreshing = cached
        for service in services:
            node = self.root.add(key_text(service.display_name), ServiceEntry(service), allow_expand=True)
            if service.sid in shown_maps:
                maps, current = shown_maps[service.sid]
                self._fill_maps(node, maps, cached=not current)
                node.expand()  # maps not current: the expansion asks for the server's (on_tree_node_expanded)
        if not services:
            self.root.add_leaf(Text("no services", style="dim italic"))
        if cached:
            self._refreshing_leaves[None] = self.root.add_leaf(Text(REFRESHING, style="dim italic"))
        # A cleared tree has no cursor line, and enter would do nothing.
        target = self.map_node(at_service, at_map) if at_service and at_map else None
        target = target or (self.service_node(at_service) if at_service else None)
        if target is not None:
            self._move_to(target)
        else:
            self.cursor_line = 0

    def _cursor_sids(self) -> tuple[str | None, str | None]:
        node = self.cursor_node
        if node is None or node.data is None:
            return None, None
        if isinstance(node.data, MapEntry):
            return node.data.service.sid, node.data.sync_map.sid
        return node.data.service.sid, None

    def _move_to(self, node: TreeNode[NavigatorEntry]) -> None:
        _ = self.last_line  # builds the tree's lines now: a node added since has no line until then
        self.move_cursor(node)

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

    def show_maps(self, service_sid: str, maps: list[SyncMap], *, cached: bool = False) -> None:
        """Show a service's maps, expanded: the server's listing, or (`cached`) the last one, marked
        refreshing; the caller is then fetching the server's, and expanding asks for nothing more.
        The cursor stays on the map it was on, if it is still listed."""
        node = self.service_node(service_sid)
        if node is None:
            return
        at_service, at_map = self._cursor_sids()
        self._fill_maps(node, maps, cached=cached)
        if cached:
            self._maps_requested.add(service_sid)
        else:
            self._maps_requested.discard(service_sid)
        node.expand()
        if at_service == service_sid:
            self._move_to((self.map_node(service_sid, at_map) if at_map else None) or node)

    def maps_failed(self, service_sid: str) -> None:
        """The server's listing of the service's maps did not come: expanding it again asks anew."""
        self._maps_requested.discard(service_sid)
        self._mark_not_refreshed(service_sid)

    def refresh_failed(self) -> None:
        """The server's listing of the services did not come: the cached one stays, said to be old."""
        self._mark_not_refreshed(None)

    def _mark_not_refreshed(self, key: str | None) -> None:
        leaf = self._refreshing_leaves.get(key)
        if leaf is not None:
            leaf.set_label(Text(NOT_REFRESHED, style="dim italic"))

    def _fill_maps(self, node: TreeNode[NavigatorEntry], maps: list[SyncMap], *, cached: bool) -> None:
        assert isinstance(node.data, ServiceEntry)
        node.remove_children()
        for sync_map in maps:
            node.add_leaf(key_text(sync_map.display_name), MapEntry(node.data.service, sync_map))
        if not maps:
            node.add_leaf(Text("no maps (m: new map)", style="dim italic"))
        self._refreshing_leaves.pop(node.data.service.sid, None)
        if cached:
            self._refreshing_leaves[node.data.service.sid] = node.add_leaf(Text(REFRESHING, style="dim italic"))
        node.data.maps_loaded = not cached

    def select_service(self, service_sid: str) -> None:
        node = self.service_node(service_sid)
        if node is not None:
            self._move_to(node)

    def select_map(self, service_sid: str, map_sid: str) -> None:
        node = self.map_node(service_sid, map_sid)
        if node is not None:
            self._move_to(node)

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
        if isinstance(entry, ServiceEntry) and not entry.maps_loaded and entry.service.sid not in self._maps_requested:
            self._maps_requested.add(entry.service.sid)
            self.post_message(self.ServiceExpanded(entry))

    def on_tree_node_selected(self, event: Tree.NodeSelected[NavigatorEntry]) -> None:
        entry = event.node.data
        if isinstance(entry, MapEntry):
            event.stop()
            self.post_message(self.MapChosen(entry))
