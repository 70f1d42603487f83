"""Getting around: connecting, the deep link, loading maps, opening a map or an item, jump, refresh."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Callable

from textual.widgets import Input, Static

from syncmap_tui.config import config_path
from syncmap_tui.twilio_cli_profiles import twilio_cli_config_path
from syncmap_tui.sync.errors import AuthFailed, ItemNotFound, MapNotFound, SyncError
from syncmap_tui.sync.models import MapItem, Service, SyncMap
from syncmap_tui.sync.session import STORAGE_ERRORS, describe
from syncmap_tui.sync.validation import LOOKS_LIKE_SID
from syncmap_tui.tree_cache import CachedTree, TreeCache
from syncmap_tui.ui.flows.deep_link import LinkFetches, find_service
from syncmap_tui.ui.literal import literal_block
from syncmap_tui.ui.widgets.navigator import MapEntry, ServiceEntry

if TYPE_CHECKING:
    from textual.worker import Worker

    from syncmap_tui.ui.main_screen import MainScreen


class NavigationFlows:
    """The bodies of the screen's connect, open, jump and refresh workers (MainScreen starts them)."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self.tree_cache = TreeCache()
        self.cached_tree: CachedTree | None = None
        """The last listing of this account's tree, shown until the server's replaces it."""
        self._cache_writes: set[asyncio.Task[None]] = set()
        self.listed_maps: dict[str, list[SyncMap]] = {}
        """Maps of services not expanded in the tree, by service SID, listed for the palette."""
        self.link_pending = bool(screen.deep_link.service)
        """The deep link still leads somewhere: no map has opened yet, and neither its service nor
        its map was found missing. A ctrl+r that lists the services follows it again, as
        connecting does."""
        self.drafts_offered = False
        """An earlier run's drafts are offered once, after the first listing of the services."""
        self._finishing: Worker[None] | None = None
        """The flow a ctrl+r started to finish a failed start (MainScreen.finish_start)."""

    async def connect(self) -> None:
        # Deferred: it brings httpx (~40 ms by -X importtime), here after the first frame.
        from syncmap_tui.connection import open_client

        screen = self.screen
        screen.set_activity("connecting…")
        factory = screen.client_factory or open_client
        early: LinkFetches | None = None
        services: list[Service] | None = None
        try:
            screen.client = client = await asyncio.to_thread(factory, screen.target)
            self.cached_tree = await asyncio.to_thread(self.tree_cache.load, client.base_url, client.credentials.account_sid)
            if self.cached_tree is not None:
                screen.navigator.show_services(self.cached_tree.services, cached=True)
            early_sid = self.link_service_sid_before_listing()
            if early_sid is not None:
                early = self.start_link_fetches(early_sid)
            listed = [service async for service in client.list_services()]
        except BaseException as error:
            if early is not None:
                await self.drop_link_fetches(early)
                early = None
                if self.link_pending:  # else a map opened meanwhile, from the cached tree: the table is its
                    screen.item_table.reset()  # a page of the link's map may have come: no map is open
            if not isinstance(error, SyncError):
                screen.navigator.refresh_failed()  # escape, or a failure the flow's policy reports
                raise
            screen.fail("Connecting", error)
            screen.query_one("#items-status", Static).update(
                literal_block(f"Not connected: {self.connection_advice(error)}")
            )
            screen.navigator.refresh_failed()
        else:
            services = listed
            screen.set_activity()
            self.show_services(listed)
            self.listed_maps.clear()
            screen.show_items_status()
            # The link's requests travel while the editor mounts.
            early = await self.link_fetches_for_listed_service(listed, early)
        # The first frame goes out without the editor; it comes right after, before any map opens.
        try:
            await screen.frame_shown()
            await screen.ensure_editor()
        except BaseException:
            if early is not None:
                await self.drop_link_fetches(early)
            raise
        screen.started()
        if services is None:
            return
        await self.finish_start(services, early)

    async def finish_start(self, services: list[Service], early: LinkFetches | None = None) -> None:
        """What starting does once the services are listed: follow the deep link, then offer the
        drafts an earlier run left. If connecting failed (a timeout at 2 a.m.), the ctrl+r that
        the advice asks for lists the services and finishes the start: the link is not dropped,
        and the drafts are not left unmentioned until the next run."""
        if self.link_pending:
            await self.follow_deep_link(services, early)
        elif early is not None:
            await self.drop_link_fetches(early)
        if not self.drafts_offered:
            self.drafts_offered = True
            await self.screen.recovery.offer_drafts()

    def show_services(self, services: list[Service]) -> None:
        """The server's listing of the services, in the tree and in the cache."""
        client = self.screen.client
        assert client is not None
        self.screen.navigator.show_services(services)
        self.remember(self.tree_cache.save_services, client.base_url, client.credentials.account_sid, services)

    def remember(self, save: Callable[..., None], *args: object) -> None:
        """Write to the tree cache in a thread, without waiting: nothing waits for the cache."""
        task = asyncio.create_task(asyncio.to_thread(save, *args))
        self._cache_writes.add(task)
        task.add_done_callback(self._cache_writes.discard)

    async def link_fetches_for_listed_service(self, services: list[Service], early: LinkFetches | None) -> LinkFetches | None:
        """The deep link's requests for the service the listing names: those sent early if they
        went to it, else sent now; None if the link names no map or no listed service."""
        link = self.screen.deep_link
        if not self.link_pending:
            # A map opened during the listing (the user's, or a ctrl+r's follow): the table is its.
            if early is not None:
                await self.drop_link_fetches(early)
            return None
        service = find_service(services, link.service) if link.service and link.map else None
        if early is not None and (service is None or service.sid != early.service_sid):
            await self.drop_link_fetches(early)  # the cached tree's guess was wrong: what it fetched is not the link's
            early = None
            self.screen.item_table.reset()
        if early is None and service is not None:
            early = self.start_link_fetches(service.sid)
        return early

    async def drop_link_fetches(self, fetches: LinkFetches) -> None:
        """Cancel the link's requests, unused: the cached maps they were to replace stay, marked
        "not refreshed" rather than "refreshing…" for good (expanding the service asks anew)."""
        await fetches.cancel()
        self.screen.navigator.maps_failed(fetches.service_sid)

    def link_service_sid_before_listing(self) -> str | None:
        """The deep link's service SID if it is known before the listing of services: given as
        a SID, or found in the cached tree (a guess the listing confirms: if the service was
        replaced since, the link's requests are sent again with the listed SID)."""
        link = self.screen.deep_link
        if not (link.service and link.map):
            return None
        if link.service.startswith("IS") and LOOKS_LIKE_SID.fullmatch(link.service):
            return link.service
        cached = find_service(self.cached_tree.services, link.service) if self.cached_tree is not None else None
        return cached.sid if cached is not None else None

    def start_link_fetches(self, service_sid: str) -> LinkFetches:
        """Send, together, what the deep link needs once its service's SID is known: the tree's
        maps, the map (the URLs take its unique name as well as its SID), its first page and the
        item. One round trip instead of four in a row."""
        screen = self.screen
        client = screen.client
        link = screen.deep_link
        assert client is not None and link.map is not None
        cached_maps = self.cached_tree.maps.get(service_sid) if self.cached_tree is not None else None
        if cached_maps is not None:
            screen.navigator.show_maps(service_sid, cached_maps, cached=True)
        return LinkFetches(
            service_sid,
            maps=asyncio.create_task(self.list_maps(service_sid)),
            sync_map=asyncio.create_task(client.fetch_map(service_sid, link.map)),
            page=asyncio.create_task(screen.item_table.open(client, service_sid, link.map)),
            item=asyncio.create_task(client.fetch_item(service_sid, link.map, link.key)) if link.key else None,
        )

    async def follow_deep_link(self, services: list[Service], early: LinkFetches | None = None) -> None:
        screen = self.screen
        link = screen.deep_link
        assert screen.client is not None and link.service is not None
        service = find_service(services, link.service)
        if service is None:
            self.link_pending = False
            screen.notify(f"No service {link.service!r} on this account.", severity="error", markup=False)
            return
        if not link.map:
            self.link_pending = False
            await self.load_maps(service, show_cached=True)
            screen.navigator.select_service(service.sid)
            return
        fetches = early or self.start_link_fetches(service.sid)
        await fetches.wait()
        self.show_listed_maps(service, fetches.maps.result())
        if not self.link_pending:
            # A map opened while the link's requests travelled (the user's, or another follow's):
            # the table and the editor are its, whether the link's page came or failed.
            return
        screen.navigator.select_service(service.sid)
        try:
            sync_map = fetches.sync_map.result()
        except SyncError as error:
            if isinstance(error, MapNotFound):
                self.link_pending = False  # deleted: a later ctrl+r refreshes the tree, without saying so again
            screen.item_table.reset()  # its page may have come: no map is open
            screen.fail(f"Opening map {link.map!r}", error)
            return
        page_error = fetches.page.exception()
        if page_error is None and not fetches.page.result():
            return  # the user opened another map meanwhile: the table is theirs
        screen.navigator.select_map(service.sid, sync_map.sid)
        await self.prepare_map(MapEntry(service, sync_map))
        if isinstance(page_error, SyncError):
            screen.fail("Loading items", page_error)
        elif page_error is not None:
            raise page_error
        else:
            self.first_page_shown()
        if fetches.item is None:
            screen.item_table.focus()
            return
        try:
            item = fetches.item.result()
        except SyncError as error:
            screen.fail(f"Opening item {link.key!r}", error)
            return
        screen.item_table.select_key(item.key)
        screen.editing.show_item(item)

    def connection_advice(self, error: SyncError) -> str:
        """What to check, by where the target came from; names the source, never a secret."""
        if not isinstance(error, AuthFailed):
            return f"{describe(error)}. Check the URL and the network, then ctrl+r."
        credentials = self.screen.target.credentials
        uses_api_key = credentials is not None and credentials.uses_api_key
        where = {
            # The pair that was sent: the environment had an API key pair, or else an auth token.
            "env": "TWILIO_API_KEY and TWILIO_API_SECRET" if uses_api_key else "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN",
            "profile": f"the profile in {config_path()}",
            "twilio-cli": f"twilio-cli's active profile in {twilio_cli_config_path()}",
            "flag": "the --profile or --base-url you gave",
        }.get(self.screen.target.source, "the credentials")
        return f"the server refused the credentials (HTTP 401). Check {where}."

    async def list_maps_for_palette(self) -> None:
        """List the maps of the services whose maps the tree has not loaded, so that the palette
        finds `orders` before its service is expanded. Once per service and connection (a refresh
        of the services forgets them); failures leave those maps out, said in the palette's help."""
        screen = self.screen
        if screen.client is None:
            return
        for node in list(screen.navigator.root.children):
            entry = node.data
            if not isinstance(entry, ServiceEntry) or entry.maps_loaded or entry.service.sid in self.listed_maps:
                continue
            maps = await self.list_maps(entry.service.sid)
            if not isinstance(maps, SyncError):
                self.listed_maps[entry.service.sid] = maps

    def show_palette_maps(self, service: Service) -> bool:
        """Show in the tree the maps the palette listed for `service`. False if it listed none."""
        maps = self.listed_maps.get(service.sid)
        node = self.screen.navigator.service_node(service.sid)
        if maps is None or node is None or not isinstance(node.data, ServiceEntry) or node.data.maps_loaded:
            return False
        self.screen.navigator.show_maps(service.sid, maps)
        return True

    def show_in_tree(self, entry: MapEntry) -> MapEntry:
        """Select a map the palette found in the tree, even of a service not expanded there; the
        tree's own entry when it has one (it changes with a later update of the map)."""
        navigator = self.screen.navigator
        self.show_palette_maps(entry.service)
        node = navigator.map_node(entry.service.sid, entry.sync_map.sid)
        if node is not None and isinstance(node.data, MapEntry):
            entry = node.data
            navigator.select_map(entry.service.sid, entry.sync_map.sid)
        return entry

    def show_service_in_tree(self, service: Service) -> None:
        """Move to a service the palette found, with its maps (listed by the palette, or loading)."""
        navigator = self.screen.navigator
        node = navigator.service_node(service.sid)
        if node is None:
            return
        if not self.show_palette_maps(service):
            node.expand()  # its maps load as a click on it would load them
        navigator.move_cursor(node)
        navigator.focus()

    def clear_key_filter(self) -> None:
        """Every loaded row again, and an empty jump field: before opening a key the filter may hide."""
        screen = self.screen
        if screen.jump_input.value:
            with screen.jump_input.prevent(Input.Changed):
                screen.jump_input.value = ""
        if screen.item_table.key_filter:
            screen.item_table.filter_keys("")
            screen.show_items_status()

    async def list_maps(self, service_sid: str) -> list[SyncMap] | SyncError:
        """A service's maps from the server (remembered in the tree cache), or the error."""
        client = self.screen.client
        assert client is not None
        try:
            maps = [m async for m in client.list_maps(service_sid)]
        except SyncError as error:
            return error
        self.remember(self.tree_cache.save_maps, client.base_url, client.credentials.account_sid, service_sid, maps)
        return maps

    def show_listed_maps(self, service: Service, maps: list[SyncMap] | SyncError) -> None:
        if isinstance(maps, SyncError):
            self.screen.navigator.maps_failed(service.sid)
            self.screen.fail("Loading maps", maps)
            return
        self.screen.navigator.show_maps(service.sid, maps)

    async def load_maps(self, service: Service, *, show_cached: bool = False) -> None:
        """List a service's maps into the tree; `show_cached`: show the cached listing meanwhile
        (a service expanded), not after a change of this app's own (a map created or deleted)."""
        screen = self.screen
        cached_maps = self.cached_tree.maps.get(service.sid) if self.cached_tree is not None else None
        if show_cached and cached_maps is not None:
            screen.navigator.show_maps(service.sid, cached_maps, cached=True)
        screen.set_activity("loading maps…")
        try:
            maps = await self.list_maps(service.sid)
        except asyncio.CancelledError:  # escape: expanding the service again asks anew
            screen.navigator.maps_failed(service.sid)
            raise
        screen.set_activity()
        self.show_listed_maps(service, maps)

    async def leave_for_map(self, entry: MapEntry) -> None:
        """Open another map once the open item may be left."""
        if not await self.screen.editing.confirm_leave("open another map"):
            return
        await self.open_map(entry)
        self.screen.item_table.focus()
        self.screen.notify("The item table has the focus: ↑ ↓ choose, enter opens, tab moves on.", timeout=3)

    async def open_map(self, entry: MapEntry, from_key: str | None = None) -> None:
        await self.prepare_map(entry)
        await self.load_first_page(from_key)

    async def prepare_map(self, entry: MapEntry) -> None:
        """Make `entry` the open map, with no item open, before its first page shows."""
        screen = self.screen
        editor = await screen.ensure_editor()
        screen.current_map = entry
        self.link_pending = False  # a map is open, the link's or the user's: ctrl+r refreshes it
        screen.editing.leave_session()
        editor.clear_item()
        editor.show_map_expiry(entry.sync_map.date_expires)
        screen.show_location()
        screen.header.show_webhook_notice(entry.service)

    async def load_first_page(self, from_key: str | None = None) -> bool:
        """Load the map's items from the start, or from `from_key` on. False if it failed or a
        newer listing took its place."""
        screen = self.screen
        entry = screen.current_map
        assert screen.client is not None and entry is not None
        screen.set_activity("loading items…")
        try:
            shown = await screen.item_table.open(screen.client, entry.service.sid, entry.sync_map.sid, from_key)
        except SyncError as error:
            screen.fail("Loading items", error)
            return False
        self.first_page_shown()
        return shown

    def first_page_shown(self) -> None:
        screen = self.screen
        screen.items_note = ""
        screen.editing.learn(list(screen.item_table.items.values()))
        screen.set_activity()
        screen.show_items_status()

    async def open_item(self, item: MapItem) -> None:
        screen = self.screen
        if screen.current_map is None or screen.client is None:
            return
        open_item = screen.editor.open_item
        if open_item is not None and open_item.key == item.key and screen.editor.is_dirty:
            screen.editor.json_area.focus()
            return
        if not await screen.editing.confirm_leave("open another item"):
            return
        entry = screen.current_map
        try:
            fresh = await screen.client.fetch_item(entry.service.sid, entry.sync_map.sid, item.key)
        except ItemNotFound:
            screen.item_table.remove_item(item.key)
            screen.notify(f"{item.key!r} is gone: it was deleted or expired.", severity="warning", markup=False)
            return
        except STORAGE_ERRORS as error:
            screen.fail("Opening the item", error)
            return
        if screen.current_map is not entry or not await screen.editing.confirm_leave_again("open another item"):
            return
        screen.item_table.update_item(fresh)
        screen.editing.show_item(fresh)

    async def jump(self, prefix: str) -> None:
        """Show the map from the first key at or after `prefix`; an empty prefix goes back to the start."""
        screen = self.screen
        if screen.current_map is None:
            return
        if not await screen.editing.confirm_leave("jump"):
            return
        if not await self.load_first_page(from_key=prefix or None):
            return
        table = screen.item_table
        typing_the_next_prefix = screen.jump_input.has_focus and screen.jump_input.value != prefix
        if not typing_the_next_prefix:  # keys typed while the page travelled stay in the jump field
            table.focus()
        if not prefix:
            return
        first = table.first_key
        if first is None:
            screen.show_items_status(f"no key at or after {prefix!r}")
        elif first.startswith(prefix):
            table.move_cursor(row=0)
            screen.show_items_status(f"from {prefix!r}")
        else:
            screen.show_items_status(f"no key starts with {prefix!r}; showing the next keys")

    async def refresh(self) -> None:
        screen = self.screen
        if screen.client is None:
            screen.connect()
            return
        services: list[Service] | None = None
        # Until the start is finished (the first listing failed: "Not connected"), ctrl+r lists the
        # services even with a map open, one the user opened from the cached tree meanwhile:
        # else the tree would stay the cached one and the drafts unoffered until the next run.
        if screen.current_map is None or not self.drafts_offered:
            try:
                services = [s async for s in screen.client.list_services()]
            except STORAGE_ERRORS as error:
                screen.fail("Refreshing", error)
                return
            self.show_services(services)
            self.listed_maps.clear()
            screen.show_items_status()  # no longer "Not connected", if the first listing had failed
        if screen.current_map is not None:
            await self.refresh_open_map()
        if services is not None and (self.link_pending or not self.drafts_offered):
            if self._finishing is None or self._finishing.is_finished:  # a ctrl+r again waits for it
                self._finishing = screen.finish_start(services)

    async def refresh_open_map(self) -> None:
        """The open map's first page (or the one in view) again, and the open item looked at."""
        screen = self.screen
        assert screen.client is not None
        table = screen.item_table
        current = table.current_item
        session = screen.session
        # The open item may lie beyond the first page: it is looked at alongside the page (one
        # round trip for both), so that the editor says whether it is behind.
        looked_at = None
        base = session.base if session is not None else None
        if session is not None and session.in_flight is None:
            looked_at = asyncio.create_task(screen.client.fetch_item(session.service_sid, session.map_sid, session.key))
        try:
            # From the first loaded key, so that the rows in view stay in view.
            await self.load_first_page(table.first_key if table.window.has_earlier else None)
        except BaseException:
            if looked_at is not None:
                looked_at.cancel()
            raise
        if current is not None:
            screen.item_table.select_key(current.key)
        if session is None or looked_at is None:
            return
        try:
            latest = await looked_at
        except ItemNotFound:
            # A save under way settles what became of the item; one made since the read left (a
            # recreate) makes its 404 old news.
            if session.in_flight is None and session.base is base:
                session.gone = True
                screen.editor.changed()
        except STORAGE_ERRORS as error:
            screen.fail("Refreshing the open item", error)
        else:
            if session.base is base:
                session.learn(latest)
