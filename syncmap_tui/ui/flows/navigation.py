"""Getting around: connecting, the deep link, loading maps, opening a map or an item, jump, refresh."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from textual.widgets import Static

from syncmap_tui.config import config_path
from syncmap_tui.twilio_cli_profiles import twilio_cli_config_path
from syncmap_tui.sync.errors import AuthFailed, ItemNotFound, SyncError
from syncmap_tui.sync.models import MapItem, Service
from syncmap_tui.sync.session import STORAGE_ERRORS, describe
from syncmap_tui.ui.literal import literal_block
from syncmap_tui.ui.widgets.navigator import MapEntry

if TYPE_CHECKING:
    from syncmap_tui.ui.main_screen import MainScreen


class NavigationFlows:
    """The bodies of the screen's connect, open, jump and refresh workers (MainScreen starts them)."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen

    async def connect(self) -> None:
        # Deferred: it brings httpx (~40 ms by -X importtime), here after the first frame.
        from syncmap_tui.connection import open_client

        screen = self.screen
        screen.set_activity("connecting…")
        factory = screen.client_factory or open_client
        services: list[Service] | None = None
        try:
            client = screen.client = await asyncio.to_thread(factory, screen.target)
            listed = [service async for service in client.list_services()]
        except SyncError as error:
            screen.fail("Connecting", error)
            screen.query_one("#items-status", Static).update(
                literal_block(f"Not connected: {self.connection_advice(error)}")
            )
        else:
            services = listed
            screen.set_activity()
            screen.navigator.show_services(listed)
            screen.show_items_status()
        # The first frame goes out without the editor; it comes right after, before any map opens.
        await screen.frame_shown()
        await screen.ensure_editor()
        screen.started()
        if services is None:
            return
        if screen.deep_link.service:
            await self.follow_deep_link(services)
        await screen.recovery.offer_drafts()

    async def follow_deep_link(self, services: list[Service]) -> None:
        screen = self.screen
        link = screen.deep_link
        assert screen.client is not None and link.service is not None
        service = next((s for s in services if s.answers_to(link.service)), None)
        if service is None:
            screen.notify(f"No service {link.service!r} on this account.", severity="error", markup=False)
            return
        await self.load_maps(service)
        node = screen.navigator.service_node(service.sid)
        if node is not None:
            screen.navigator.move_cursor(node)
        if not link.map:
            return
        try:
            sync_map = await screen.client.fetch_map(service.sid, link.map)
        except SyncError as error:
            screen.fail(f"Opening map {link.map!r}", error)
            return
        screen.navigator.select_map(service.sid, sync_map.sid)
        await self.open_map(MapEntry(service, sync_map))
        if not link.key:
            screen.item_table.focus()
            return
        try:
            item = await screen.client.fetch_item(service.sid, sync_map.sid, link.key)
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

    async def load_maps(self, service: Service) -> None:
        screen = self.screen
        assert screen.client is not None
        screen.set_activity("loading maps…")
        try:
            maps = [m async for m in screen.client.list_maps(service.sid)]
        except SyncError as error:
            screen.fail("Loading maps", error)
            return
        screen.set_activity()
        screen.navigator.show_maps(service.sid, maps)

    async def leave_for_map(self, entry: MapEntry) -> None:
        """Open another map once the open item may be left."""
        if not await self.screen.editing.confirm_leave("open another map"):
            return
        await self.open_map(entry)
        self.screen.item_table.focus()

    async def open_map(self, entry: MapEntry, from_key: str | None = None) -> None:
        screen = self.screen
        editor = await screen.ensure_editor()
        screen.current_map = entry
        screen.editing.leave_session()
        editor.clear_item()
        screen.show_location()
        screen.show_webhook_notice()
        await self.load_first_page(from_key)

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
        screen.items_note = ""
        screen.editing.learn(list(screen.item_table.items.values()))
        screen.set_activity()
        screen.show_items_status()
        return shown

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
        if screen.current_map is None:
            try:
                services = [s async for s in screen.client.list_services()]
            except STORAGE_ERRORS as error:
                screen.fail("Refreshing", error)
                return
            screen.navigator.show_services(services)
            screen.show_items_status()  # no longer "Not connected", if the first listing had failed
            return
        table = screen.item_table
        current = table.current_item
        # From the first loaded key, so that the rows in view stay in view.
        await self.load_first_page(table.first_key if table.window.has_earlier else None)
        if current is not None:
            screen.item_table.select_key(current.key)
        session = screen.session
        if session is not None and session.in_flight is None:
            # The open item may lie beyond the first page: look at it, so the editor says whether it is behind.
            try:
                latest = await screen.client.fetch_item(session.service_sid, session.map_sid, session.key)
            except ItemNotFound:
                session.gone = True
                screen.editor.changed()
            except STORAGE_ERRORS as error:
                screen.fail("Refreshing the open item", error)
            else:
                session.learn(latest)
