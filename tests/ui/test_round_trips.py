"""Issue #17: each user-visible path waits for as few round trips in a row as the API allows.

The app's client goes through RoundTripRecorder, which delays every request a little (so that
requests sent together overlap) and records when each ran; a path's count is the longest chain of
its requests in which each began after the one before ended. Counts, not timings: the delay only
makes "together" and "one after another" tell apart."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from syncmap_tui.emulator import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
from syncmap_tui.emulator.inprocess import emulator_transport
from syncmap_tui.emulator.round_trips import RoundTripRecorder
from syncmap_tui.sync.auth import Credentials
from syncmap_tui.sync.client import NO_RETRY, SyncClient
from syncmap_tui.ui.app import DeepLink, make_app
from syncmap_tui.ui.dialogs.conflict import ConflictDialog

from .conftest import EMBEDDED, EMULATOR_URL
from .helpers import SIZE, SERVICE, main_screen, settle, wait_until

LATENCY = 0.02


@pytest.fixture
def recorded_app(emulator):
    """`build(*link)` → (app, recorder): the app's every request recorded."""

    def build(*link: str):
        recorder = RoundTripRecorder(emulator_transport(emulator.app), latency=LATENCY)

        def client_factory(_target) -> SyncClient:
            credentials = Credentials.auth_token(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN)
            return SyncClient(credentials, base_url=EMULATOR_URL, transport=recorder, retry=NO_RETRY)

        return make_app(EMBEDDED, deep_link=DeepLink(*link), client_factory=client_factory), recorder

    return build


def item_shown(pilot, key: str) -> bool:
    main = main_screen(pilot)
    return main.open_item is not None and main.open_item.key == key


async def round_trips_until(pilot, recorder: RoundTripRecorder, mark: float, condition, what: str) -> int:
    await wait_until(pilot, condition, what=what, rounds=1000)
    return recorder.round_trips_until(mark, recorder.clock())


async def test_a_deep_link_waits_for_the_services_then_one_round_trip_and_each_later_path_for_one(
    recorded_app, other_writer
):
    """One start (each costs ~0.27 s of CPU with a deep link): the deep link's own count first, as
    it is counted from the start; then a refresh of the linked item, then another map, one of its
    items, a save and a refused save, each counted from its own mark."""
    app, recorder = recorded_app(SERVICE, "orders", "order-0002")
    mark = recorder.mark()
    async with app.run_test(size=SIZE) as pilot:
        # A deep link waits for the services, then one round trip. Before: services, maps, map,
        # first page, item — five in a row.
        trips = await round_trips_until(pilot, recorder, mark, lambda: item_shown(pilot, "order-0002"), "the item")
        await settle(pilot)
        main = main_screen(pilot)
        assert trips == 2, f"the deep link: {[str(e) for e in recorder.since(mark)]}"
        assert main.current_map.sync_map.unique_name == "orders", "the deep link: the map open"
        assert main.item_table.row_count > 0 and main.item_table.current_row_key == "order-0002", \
            "the deep link: the table on the item's row"
        assert main.navigator.current_map is not None and main.navigator.current_map.sync_map.unique_name == "orders", \
            "the deep link: the tree on the map"

        # A refresh with an item open looks at it alongside the page. Before: the first page, then
        # the open item — two in a row.
        item = main.open_item.item
        await other_writer.update_item(item.service_sid, item.map_sid, item.key, data={"theirs": True}, if_match=None)
        mark = recorder.mark()
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: main.session.newer is not None, what="the newer revision noted", rounds=1000)
        await settle(pilot)
        assert recorder.round_trips_since(mark) == 1, f"the refresh: {[str(e) for e in recorder.since(mark)]}"
        assert len(recorder.since(mark)) == 2, "the refresh: the page and the item"

        # Opening a map and an item and saving each take one round trip (another map than the
        # link's, so that opening it reads it).
        carts = next(n for n in main.navigator.service_node(main.navigator.current_service.sid).children
                     if n.data is not None and n.data.sync_map.unique_name == "carts")
        mark = recorder.mark()
        main.open_map_from_palette(carts.data)
        assert await round_trips_until(pilot, recorder, mark, lambda: "cart-2" in main.item_table.items,
                                       "the first page") == 1, "opening a map"
        await settle(pilot)

        mark = recorder.mark()
        main.open_key_from_palette("cart-1")
        assert await round_trips_until(pilot, recorder, mark, lambda: item_shown(pilot, "cart-1"), "the item") == 1, \
            "opening an item"
        await settle(pilot)

        loaded = main.open_item.loaded_revision
        mark = recorder.mark()
        main.editor.replace_text(json.dumps({**main.open_item.item.data, "note": "mine"}))
        await pilot.press("ctrl+s")
        assert await round_trips_until(pilot, recorder, mark, lambda: main.open_item.loaded_revision != loaded,
                                       "saved") == 1, "saving"
        await settle(pilot)

        item = main.open_item.item
        await other_writer.update_item(item.service_sid, item.map_sid, item.key, data={"theirs": True}, if_match=None)
        mark = recorder.mark()
        main.editor.replace_text(json.dumps({**item.data, "note": "mine again"}))
        await pilot.press("ctrl+s")
        trips = await round_trips_until(pilot, recorder, mark, lambda: isinstance(app.screen, ConflictDialog), "the dialog")
        assert trips == 2, "a refused save: the refused save, then theirs"
        await pilot.press("escape")


async def test_a_deep_link_by_service_sid_waits_for_one_round_trip(recorded_app, emulator):
    service = emulator.store.get_service(DEFAULT_ACCOUNT_SID, SERVICE)
    app, recorder = recorded_app(service.sid, "orders", "order-0002")
    mark = recorder.mark()
    async with app.run_test(size=SIZE) as pilot:
        trips = await round_trips_until(pilot, recorder, mark, lambda: item_shown(pilot, "order-0002"), "the item")
        await settle(pilot)
        assert trips == 1, [str(e) for e in recorder.since(mark)]


async def test_a_deep_link_to_a_missing_map_says_so_once(recorded_app):
    from .helpers import record_notifications

    app, recorder = recorded_app(SERVICE, "no-such-map", "k")
    async with app.run_test(size=SIZE) as pilot:
        told = record_notifications(app)
        await settle(pilot)
        main = main_screen(pilot)
        assert main.current_map is None and main.open_item is None
        assert [n for n in told if "failed" in n] == [n for n in told if "Opening map 'no-such-map'" in n]
        assert len([n for n in told if "failed" in n]) == 1


class ListingFails(httpx.AsyncBaseTransport):
    """The services listing fails after the link's other requests were answered."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/Services":
            await asyncio.sleep(0.2)
            raise httpx.ConnectError("no route to host", request=request)
        return await self.inner.handle_async_request(request)


async def test_a_deep_link_by_service_sid_whose_listing_fails_leaves_no_map_open(emulator):
    service = emulator.store.get_service(DEFAULT_ACCOUNT_SID, SERVICE)
    transport = ListingFails(emulator_transport(emulator.app))

    def client_factory(_target) -> SyncClient:
        credentials = Credentials.auth_token(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN)
        return SyncClient(credentials, base_url=EMULATOR_URL, transport=transport, retry=NO_RETRY)

    app = make_app(EMBEDDED, deep_link=DeepLink(service.sid, "orders", "order-0002"), client_factory=client_factory)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(pilot)
        assert main.current_map is None and main.open_item is None
        assert main.item_table.row_count == 0, "no rows of a map that is not open"


async def cache_the_services(other_writer, **changes) -> None:
    import dataclasses

    from syncmap_tui.tree_cache import TreeCache

    services = [s async for s in other_writer.list_services()]
    services = [dataclasses.replace(s, **changes) if s.unique_name == SERVICE else s for s in services]
    TreeCache().save_services(EMULATOR_URL, DEFAULT_ACCOUNT_SID, services)


async def test_a_deep_link_by_name_with_a_cached_tree_waits_for_one_round_trip(recorded_app, other_writer):
    await cache_the_services(other_writer)
    app, recorder = recorded_app(SERVICE, "orders", "order-0002")
    mark = recorder.mark()
    async with app.run_test(size=SIZE) as pilot:
        trips = await round_trips_until(pilot, recorder, mark, lambda: item_shown(pilot, "order-0002"), "the item")
        await settle(pilot)
        assert trips == 1, [str(e) for e in recorder.since(mark)]


async def test_a_deep_link_whose_cached_service_was_replaced_opens_the_listed_one(recorded_app, other_writer):
    """The cache guessed a SID that no longer names the service: the link asks again with the listed one."""
    from .helpers import record_notifications

    await cache_the_services(other_writer, sid="IS" + "e" * 32)
    app, recorder = recorded_app(SERVICE, "orders", "order-0002")
    async with app.run_test(size=SIZE) as pilot:
        told = record_notifications(app)
        await wait_until(pilot, lambda: item_shown(pilot, "order-0002"), what="the item", rounds=1000)
        await settle(pilot)
        main = main_screen(pilot)
        assert main.current_map.service.unique_name == SERVICE and main.current_map.service.sid != "IS" + "e" * 32
        assert main.item_table.current_row_key == "order-0002"
        assert not [n for n in told if "failed" in n], told
