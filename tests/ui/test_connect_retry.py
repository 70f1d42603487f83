"""The ctrl+r that finishes a failed start (NavigationFlows.finish_start), met as a user would:
a map of the cached tree opened while not connected, the link's map deleted meanwhile."""

from __future__ import annotations

import asyncio
import json

from syncmap_tui.emulator import DEFAULT_ACCOUNT_SID
from syncmap_tui.sync.client import SyncClient
from syncmap_tui.tree_cache import TreeCache
from syncmap_tui.ui.dialogs.drafts import RecoverDraftDialog
from syncmap_tui.ui.widgets.navigator import MapEntry

from .conftest import EMULATOR_URL
from .helpers import SIZE, SERVICE, answer, leave_a_crashed_runs_draft, main_screen, record_notifications, settle, wait_for_screen, wait_until
from .test_flow_errors import fail_once, server_unavailable, started_not_connected


def cache_the_tree(services: list, service_sid: str, maps: list) -> None:
    """The tree as the last run listed it: shown at once by the next start (TreeCache)."""
    cache = TreeCache()
    cache.save_services(EMULATOR_URL, DEFAULT_ACCOUNT_SID, services)
    cache.save_maps(EMULATOR_URL, DEFAULT_ACCOUNT_SID, service_sid, maps)


async def test_a_map_of_the_cached_tree_opened_while_not_connected_does_not_keep_ctrl_r_from_finishing_the_start(
    build_app, other_writer, monkeypatch
):
    """Not connected at 2 a.m., the user opens `orders` from the cached tree, opens an item and
    types; then ctrl+r, as "Not connected" asks. Before, a map being open made ctrl+r refresh
    only that map: the services were never listed again (the tree stayed the cached one) and the
    crashed run's draft was never offered in this run. Now the drafts are offered, and what the
    user typed stays in the editor."""
    service = await other_writer.fetch_service(SERVICE)
    sync_map = await other_writer.fetch_map(SERVICE, "orders")
    TreeCache().save_services(EMULATOR_URL, DEFAULT_ACCOUNT_SID, [s async for s in other_writer.list_services()])
    await leave_a_crashed_runs_draft(other_writer, "order-0051", '{"left": "by a crashed run"}')
    app = build_app()
    async with started_not_connected(app, monkeypatch) as (pilot, main):
        assert main.navigator.service_node(service.sid) is not None  # the cached tree
        main._open_map_flow(MapEntry(service, sync_map))
        await settle(pilot)
        main._open_item_flow(main.item_table.items["order-0001"])
        await settle(pilot)
        typed = '{\n  "typed": "while not connected"\n}'
        main.editor.replace_text(typed)
        await pilot.press("ctrl+r")
        dialog = await wait_for_screen(pilot, RecoverDraftDialog)
        assert main.editor.json_area.text == typed and main.session.key == "order-0001"
        dialog.dismiss("later")
        await settle(pilot)
        assert main.editor.json_area.text == typed and main.session.key == "order-0001"
        assert "Not connected" not in str(main.query_one("#items-status").render())
        # Once offered, a ctrl+r refreshes the map alone: no second offer.
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert app.screen is main and main.editor.json_area.text == typed


async def test_the_links_map_deleted_before_the_ctrl_r_is_said_once_not_at_every_ctrl_r(
    build_app, other_writer, monkeypatch
):
    """The first connect fails; another writer deletes the link's map; ctrl+r says the map is
    missing. Before, the link stayed pending, so every later ctrl+r (meant to refresh the tree)
    tried the deleted map again and said so again."""
    service = await other_writer.fetch_service(SERVICE)
    await other_writer.create_map(service.sid, unique_name="doomed")
    app = build_app(SERVICE, "doomed")
    told = record_notifications(app)
    async with started_not_connected(app, monkeypatch) as (pilot, main):
        await other_writer.delete_map(service.sid, "doomed")
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert sum("Opening map 'doomed' failed" in message for message in told) == 1
        assert main.current_map is None and not main.navigation.link_pending
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert sum("Opening map 'doomed' failed" in message for message in told) == 1, told


async def test_a_ctrl_r_while_the_draft_chosen_after_ctrl_r_opens_over_a_slow_link_does_not_drop_the_recovery(
    build_app, other_writer, monkeypatch
):
    """After a failed connect, ctrl+r offers the crashed run's draft; the user chooses Open, and
    over a slow link nothing shows for seconds, so they press ctrl+r again. Before, the drafts were
    offered inside the ctrl+r's own flow, which the second ctrl+r (or opening a map, a jump)
    replaced: the recovery stopped without a word, and the draft was not offered again this run.
    At start, navigating never cut it short; after ctrl+r it does not either."""
    await leave_a_crashed_runs_draft(other_writer, "order-0051", '{"left": "by a crashed run"}')
    app = build_app()
    async with started_not_connected(app, monkeypatch) as (pilot, main):
        slow = asyncio.Event()
        asked: list[str] = []
        fetch_map = main.client.fetch_map

        async def slow_fetch_map(*args, **kwargs):
            asked.append(args[1])
            await slow.wait()
            return await fetch_map(*args, **kwargs)

        await pilot.press("ctrl+r")
        await wait_for_screen(pilot, RecoverDraftDialog)
        main.client.fetch_map = slow_fetch_map
        await answer(pilot, RecoverDraftDialog, "open")
        await wait_until(pilot, lambda: asked, what="the draft's map asked for")
        await pilot.press("ctrl+r")
        await pilot.pause()
        slow.set()
        await settle(pilot)
        assert main.session is not None and main.session.key == "order-0051"
        assert json.loads(main.editor.json_area.text) == {"left": "by a crashed run"}


async def test_the_links_page_failing_after_the_user_opened_a_map_meanwhile_leaves_their_edit_alone(
    build_app, other_writer, monkeypatch
):
    """ctrl+r follows the deep link; its first page is slow, so the user opens another map from
    the tree, an item, and types. Then the link's page fails (a 503). Before, a failed page went
    on to open the link's map: the editor was cleared under the user's typing, without a word.
    A page that came was already left to the user's map; a failed one now is too."""
    service = await other_writer.fetch_service(SERVICE)
    catalog = await other_writer.fetch_map(SERVICE, "catalog")
    first_key = next(iter([item async for item in other_writer.list_items(service.sid, catalog.sid)])).key
    app = build_app(SERVICE, "orders", "order-0001")
    async with started_not_connected(app, monkeypatch) as (pilot, main):
        release = asyncio.Event()
        asked: list[str] = []
        list_item_page = main.client.list_item_page

        async def slow_failing_link_page(service_sid, map_ref, **kwargs):
            if map_ref != "orders":
                return await list_item_page(service_sid, map_ref, **kwargs)
            asked.append(map_ref)
            await release.wait()
            raise server_unavailable()

        main.client.list_item_page = slow_failing_link_page
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: asked, what="the link's page asked for")
        main._open_map_flow(MapEntry(service, catalog))
        await wait_until(pilot, lambda: first_key in main.item_table.items, what="the user's map shown")
        main._open_item_flow(main.item_table.items[first_key])
        await wait_until(pilot, lambda: main.session is not None, what="the user's item open")
        typed = '{\n  "typed": "while the link travelled"\n}'
        main.editor.replace_text(typed)
        release.set()
        await settle(pilot)
        assert main.current_map is not None and main.current_map.sync_map.sid == catalog.sid
        assert main.session is not None and main.session.key == first_key
        assert main.editor.json_area.text == typed


async def test_a_ctrl_r_during_a_slow_first_connect_then_another_map_keeps_the_table_when_the_connect_ends(
    build_app, other_writer, monkeypatch
):
    """The first listing of the services is slow; the user presses ctrl+r, which lists them and
    follows the deep link; then they open another map. When the first listing finally comes, the
    connect went on to send the link's requests: its page replaced the rows of the user's map
    with the link's, under the user's map (and its next pages). Now a link no longer pending sends
    nothing."""
    service = await other_writer.fetch_service(SERVICE)
    catalog = await other_writer.fetch_map(SERVICE, "catalog")
    catalog_key = next(iter([item async for item in other_writer.list_items(service.sid, catalog.sid)])).key
    release = asyncio.Event()
    calls = {"n": 0}
    list_services = SyncClient.list_services

    async def first_listing_slow(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            await release.wait()
        async for listed in list_services(self, *args, **kwargs):
            yield listed

    monkeypatch.setattr(SyncClient, "list_services", first_listing_slow)
    app = build_app(SERVICE, "orders")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: calls["n"] == 1, what="the first listing asked for")
        main = main_screen(pilot)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: "order-0001" in main.item_table.items, what="the link's map opened by ctrl+r")
        main._open_map_flow(MapEntry(service, catalog))
        await wait_until(pilot, lambda: catalog_key in main.item_table.items, what="the user's map shown")
        release.set()
        await settle(pilot)
        assert main.current_map is not None and main.current_map.sync_map.sid == catalog.sid
        assert catalog_key in main.item_table.items and "order-0001" not in main.item_table.items


async def test_the_links_cached_maps_say_not_refreshed_once_the_connect_failed(build_app, other_writer, monkeypatch):
    """With a cached tree, a deep link shows its service's cached maps marked "refreshing…" and
    asks for them at once. The first listing of the services fails: those requests are dropped,
    and the mark said "refreshing…" for good (at 2 a.m., "is it still trying?"); it now says
    "not refreshed", as the services' own mark does."""
    from syncmap_tui.ui.widgets.navigator import NOT_REFRESHED, REFRESHING

    service = await other_writer.fetch_service(SERVICE)
    cache_the_tree([s async for s in other_writer.list_services()], service.sid, [m async for m in other_writer.list_maps(service.sid)])
    app = build_app(SERVICE, "orders")
    async with started_not_connected(app, monkeypatch) as (pilot, main):
        leaves = [child.label.plain for child in main.navigator.service_node(service.sid).children]
        assert "orders" in leaves and REFRESHING not in leaves and NOT_REFRESHED in leaves, leaves


async def test_the_links_map_failing_to_come_leaves_no_rows_of_a_map_not_open(build_app, other_writer, monkeypatch):
    """ctrl+r follows the deep link; the link's map fails to come (a 503) while its first page
    comes. Before, the page's rows stayed in the table with no map open: enter on one did
    nothing, without a word. Now the table is empty, as with no map open, and the next ctrl+r
    tries the link again."""
    app = build_app(SERVICE, "orders")
    async with started_not_connected(app, monkeypatch) as (pilot, main):
        fail_once(monkeypatch, SyncClient, "fetch_map", server_unavailable())
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert main.current_map is None and not main.item_table.items
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert main.current_map is not None and "order-0001" in main.item_table.items


async def test_escape_while_the_ctrl_r_follows_the_link_leaves_its_cached_maps_said_not_refreshed(
    build_app, other_writer, monkeypatch
):
    """ctrl+r after a failed connect follows the link: the service's cached maps show, marked
    "refreshing…", while its maps are asked for. The network is slow; escape. The mark says "not
    refreshed" (held: the tree's own loading of the expanded service's maps is cancelled too and
    says so), no map is open, and the next ctrl+r follows the link."""
    from syncmap_tui.ui.widgets.navigator import NOT_REFRESHED, REFRESHING

    service = await other_writer.fetch_service(SERVICE)
    cache_the_tree([s async for s in other_writer.list_services()], service.sid, [m async for m in other_writer.list_maps(service.sid)])
    app = build_app(SERVICE, "orders")
    async with started_not_connected(app, monkeypatch) as (pilot, main):
        held = asyncio.Event()
        list_maps = main.client.list_maps

        async def slow_list_maps(*args, **kwargs):
            await held.wait()
            async for listed in list_maps(*args, **kwargs):
                yield listed

        main.client.list_maps = slow_list_maps
        await pilot.press("ctrl+r")
        node = main.navigator.service_node(service.sid)
        await wait_until(pilot, lambda: REFRESHING in [c.label.plain for c in node.children], what="the cached maps refreshing")
        await pilot.press("escape")
        await settle(pilot)
        leaves = [child.label.plain for child in main.navigator.service_node(service.sid).children]
        assert REFRESHING not in leaves and NOT_REFRESHED in leaves, leaves
        assert main.current_map is None and main.navigation.link_pending
        main.client.list_maps = list_maps
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert main.current_map is not None and "order-0001" in main.item_table.items
