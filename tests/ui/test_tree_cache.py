"""Issue #17: the tree shows the last listing of services and maps at once, marked "refreshing…",
and the server's listing replaces it: what the server no longer lists is gone."""

from __future__ import annotations

import asyncio
import dataclasses

import httpx
import pytest

from syncmap_tui.emulator import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
from syncmap_tui.emulator.inprocess import emulator_transport
from syncmap_tui.sync.auth import Credentials
from syncmap_tui.sync.client import NO_RETRY, SyncClient
from syncmap_tui.tree_cache import TreeCache
from syncmap_tui.ui.app import make_app
from syncmap_tui.ui.widgets.navigator import NOT_REFRESHED, REFRESHING, MapEntry, ServiceEntry

from .conftest import EMBEDDED, EMULATOR_URL
from .helpers import SIZE, SERVICE, main_screen, settle, wait_until


class HeldTransport(httpx.AsyncBaseTransport):
    """Holds the GETs whose path ends with `suffix` until `release` is set; `fail` answers them with a drop."""

    def __init__(self, inner: httpx.AsyncBaseTransport, suffix: str) -> None:
        self.inner = inner
        self.suffix = suffix
        self.release = asyncio.Event()
        self.held = 0
        self.fail = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path.endswith(self.suffix):
            self.held += 1
            await self.release.wait()
            if self.fail:
                raise httpx.ConnectError("held and dropped", request=request)
        return await self.inner.handle_async_request(request)


@pytest.fixture
def held_app(emulator):
    def build(suffix: str):
        transport = HeldTransport(emulator_transport(emulator.app), suffix)

        def client_factory(_target) -> SyncClient:
            credentials = Credentials.auth_token(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN)
            return SyncClient(credentials, base_url=EMULATOR_URL, transport=transport, retry=NO_RETRY)

        return make_app(EMBEDDED, client_factory=client_factory), transport

    return build


@pytest.fixture
async def cached_listing(other_writer):
    """The cache holds the server's services plus one since deleted, and Demo Store's maps plus one since deleted."""
    services = [s async for s in other_writer.list_services()]
    demo = next(s for s in services if s.unique_name == SERVICE)
    gone_service = dataclasses.replace(services[-1], sid="IS" + "f" * 32, unique_name="gone-service", friendly_name="Gone Service")
    maps = [m async for m in other_writer.list_maps(demo.sid)]
    gone_map = dataclasses.replace(maps[0], sid="MP" + "f" * 32, unique_name="gone-map")
    cache = TreeCache()
    cache.save_services(EMULATOR_URL, DEFAULT_ACCOUNT_SID, [*services, gone_service])
    cache.save_maps(EMULATOR_URL, DEFAULT_ACCOUNT_SID, demo.sid, [*maps, gone_map])
    return demo


def labels(node) -> list[str]:
    return [child.label.plain for child in node.children]


async def test_the_cached_services_show_until_the_servers_listing_replaces_them_and_a_refresh_keeps_the_cursor(held_app, cached_listing, other_writer):
    """The cached services first, marked refreshing, then the server's listing; then a refresh
    (ctrl+r) in that app, once the listing is the server's."""
    app, transport = held_app("/v1/Services")
    async with app.run_test(size=SIZE) as pilot:
        navigator = main_screen(pilot).navigator
        await wait_until(pilot, lambda: transport.held == 1 and navigator.refreshing, what="the cached listing")
        shown = labels(navigator.root)
        assert "Gone Service" in shown and "Demo Store" in shown and shown[-1] == REFRESHING, f"the cached listing: {shown}"

        transport.release.set()
        await wait_until(pilot, lambda: not navigator.refreshing, what="the server's listing")
        shown = labels(navigator.root)
        assert "Gone Service" not in shown and REFRESHING not in shown and "Demo Store" in shown, f"the server's listing: {shown}"
        await settle(pilot)
        # The cache now holds the server's listing: the next start shows no deleted service.
        cached = TreeCache().load(EMULATOR_URL, DEFAULT_ACCOUNT_SID).services
        assert [s.unique_name for s in cached].count("gone-service") == 0, "the cache holds the server's listing"

        # A refresh keeps the cursor and lists the expanded service's maps anew.
        service = navigator.current_service
        navigator.focus()
        await pilot.press("space")
        await settle(pilot)
        node = navigator.service_node(service.sid)
        navigator.select_map(service.sid, node.children[1].data.sync_map.sid)
        chosen = navigator.current_map.sync_map
        created = await other_writer.create_map(service.sid, unique_name="aaa-new-map")

        await pilot.press("ctrl+r")
        await settle(pilot)
        node = navigator.service_node(service.sid)
        assert isinstance(node.data, ServiceEntry) and node.is_expanded and node.data.maps_loaded, "refresh: the service stays expanded"
        assert created.unique_name in labels(node), "refresh: the maps listed anew"
        assert isinstance(navigator.current_map, MapEntry) and navigator.current_map.sync_map.sid == chosen.sid, "refresh: the cursor kept"


async def test_a_failed_listing_leaves_the_cached_services_marked_not_refreshed(held_app, cached_listing):
    app, transport = held_app("/v1/Services")
    transport.fail = True
    transport.release.set()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        shown = labels(main_screen(pilot).navigator.root)
        assert "Demo Store" in shown and shown[-1] == NOT_REFRESHED


async def test_a_map_deleted_since_the_cached_listing_disappears_when_the_maps_are_listed(held_app, cached_listing):
    app, transport = held_app("/Maps")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        navigator = main_screen(pilot).navigator
        node = navigator.service_node(cached_listing.sid)
        navigator.focus()
        navigator.select_service(cached_listing.sid)
        await pilot.press("space")
        await wait_until(pilot, lambda: transport.held == 1 and len(node.children) > 1, what="the cached maps")
        assert "gone-map" in labels(node) and labels(node)[-1] == REFRESHING
        assert not node.data.maps_loaded

        transport.release.set()
        await wait_until(pilot, lambda: node.data.maps_loaded, what="the server's maps")
        assert "gone-map" not in labels(node) and REFRESHING not in labels(node) and "orders" in labels(node)
        assert transport.held == 1, "the expansion asked once"
        await settle(pilot)
        cached = TreeCache().load(EMULATOR_URL, DEFAULT_ACCOUNT_SID)
        assert "gone-map" not in [m.unique_name for m in cached.maps[cached_listing.sid]]


async def test_escape_while_the_maps_load_leaves_them_not_refreshed_and_expanding_again_asks_anew(held_app, cached_listing):
    app, transport = held_app("/Maps")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        navigator = main_screen(pilot).navigator
        node = navigator.service_node(cached_listing.sid)
        navigator.focus()
        navigator.select_service(cached_listing.sid)
        await pilot.press("space")
        await wait_until(pilot, lambda: transport.held == 1 and len(node.children) > 1, what="the cached maps")
        await pilot.press("escape")
        await wait_until(pilot, lambda: labels(node)[-1] == NOT_REFRESHED, what="not refreshed")

        transport.release.set()
        await pilot.press("space", "space")  # collapse, expand
        await wait_until(pilot, lambda: node.data.maps_loaded, what="the server's maps")
        assert transport.held == 2 and "gone-map" not in labels(node)
