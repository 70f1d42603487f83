"""Found by trying to break the app (the adversary's round): stale answers, races with a second
writer. Each test failed before its fix, or is a strict xfail that names the bug."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace

import pytest

from syncmap_tui.sync.client import NO_RETRY
from syncmap_tui.sync.errors import ItemNotFound
from syncmap_tui.ui.dialogs.confirm import UnsavedChangesDialog
from syncmap_tui.ui.dialogs.conflict import DeletedDialog
from syncmap_tui.ui.flows import watch as watch_flow

from .conftest import EMBEDDED
from .helpers import (
    SIZE,
    SERVICE,
    answer,
    hold_fetched_items,
    leave_a_crashed_runs_draft,
    main_screen,
    set_editor_json,
    settle,
    wait_for_screen,
    wait_until,
)

WATCHED = replace(EMBEDDED, watch=True)


@pytest.fixture
def item_polls_only(monkeypatch):
    monkeypatch.setattr(watch_flow, "ITEM_INTERVAL", 0.1)
    monkeypatch.setattr(watch_flow, "PAGE_INTERVAL", 3600.0)


async def test_a_watch_404_read_before_a_recreate_does_not_mark_the_recreated_item_gone(
    build_app, other_writer, item_polls_only
):
    app = build_app(SERVICE, "orders", "order-0001", target=WATCHED)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        client = screen.client
        real_fetch = client.fetch_item
        slow_answer = asyncio.Event()
        read_before: list[ItemNotFound] = []

        async def fetch_item(*args, **kwargs):
            """The watch's read (NO_RETRY) reaches the server at once; its 404 travels slowly back."""
            try:
                return await real_fetch(*args, **kwargs)
            except ItemNotFound as error:
                if kwargs.get("retry") is NO_RETRY:
                    read_before.append(error)
                    await slow_answer.wait()
                raise

        client.fetch_item = fetch_item
        sid = (await other_writer.fetch_map(SERVICE, "orders")).sid
        await other_writer.delete_item(SERVICE, sid, "order-0001", if_match=None)
        await wait_until(pilot, lambda: read_before, what="the watch's read of the deleted item")
        session = screen.session
        assert not session.gone  # its answer is still on the way
        set_editor_json(pilot, {"mine": 1})
        await pilot.pause()
        await pilot.press("ctrl+s")
        await answer(pilot, DeletedDialog, "recreate")
        await wait_until(pilot, lambda: session.in_flight is None and session.base.data == {"mine": 1},
                         what="the recreate")
        recreated = await other_writer.fetch_item(SERVICE, sid, "order-0001")
        assert recreated.data == {"mine": 1}
        slow_answer.set()  # the 404 read before the recreate lands now
        await pilot.pause(0.2)
        assert not session.gone, "a 404 read before the recreate marked the recreated item gone"


@pytest.fixture
def page_polls_only(monkeypatch):
    monkeypatch.setattr(watch_flow, "ITEM_INTERVAL", 3600.0)
    monkeypatch.setattr(watch_flow, "PAGE_INTERVAL", 0.1)


async def test_a_watch_page_read_before_a_recreate_shows_neither_the_deleted_item_nor_a_new_one(
    build_app, other_writer, page_polls_only
):
    app = build_app(SERVICE, "orders", "order-0001", target=WATCHED)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        client = screen.client
        real_list = client.list_item_page
        slow_answer = asyncio.Event()
        read_before = []

        async def list_item_page(*args, **kwargs):
            """The watch's page read (NO_RETRY) reaches the server at once; its answer travels slowly back."""
            page = await real_list(*args, **kwargs)
            if kwargs.get("retry") is NO_RETRY and not read_before:
                read_before.append(page)
                await slow_answer.wait()
            return page

        client.list_item_page = list_item_page
        await wait_until(pilot, lambda: read_before, what="the watch's page read")
        sid = (await other_writer.fetch_map(SERVICE, "orders")).sid
        deleted = await other_writer.fetch_item(SERVICE, sid, "order-0001")
        await other_writer.delete_item(SERVICE, sid, "order-0001", if_match=None)
        session = screen.session
        set_editor_json(pilot, {"mine": 1})
        await pilot.pause()
        await pilot.press("ctrl+s")
        await answer(pilot, DeletedDialog, "recreate")
        await wait_until(pilot, lambda: session.in_flight is None and session.base.data == {"mine": 1},
                         what="the recreate")
        recreated = session.base
        slow_answer.set()  # the page read before the delete lands now, with the deleted item in it
        await wait_until(pilot, lambda: len(read_before) == 1 and slow_answer.is_set(), what="the answer")
        await pilot.pause(0.2)
        assert session.newer is None, f"the deleted item (revision {deleted.revision}) was taken for a new one"
        shown = screen.item_table.items["order-0001"]
        assert (shown.date_created, shown.data) == (recreated.date_created, recreated.data)


async def test_typing_while_another_item_is_fetched_is_not_wiped_when_it_arrives(build_app, other_writer):
    """Enter on a row, then straight into the editor while the row's item travels (a slow network):
    the keys typed land in the item still shown. Its arrival must not replace that edit unasked."""
    app = build_app(SERVICE, "orders", "order-0001")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        client = screen.client
        slow_answer, asked = hold_fetched_items(client, "order-0002")
        table = screen.item_table
        table.focus()
        assert table.select_key("order-0002")
        await pilot.press("enter")
        await wait_until(pilot, lambda: asked, what="order-0002 to be asked for")
        editor = screen.editor
        assert editor.open_item.key == "order-0001"
        editor.json_area.focus()
        set_editor_json(pilot, {"typed": "while order-0002 travelled"})
        await pilot.pause()
        assert editor.modified
        slow_answer.set()
        for _ in range(50):
            await pilot.pause(0.01)
            if editor.open_item.key == "order-0002":
                pytest.fail("order-0002 replaced the edit of order-0001 typed while it travelled, unasked")
            if isinstance(app.screen, UnsavedChangesDialog):
                break
        await answer(pilot, UnsavedChangesDialog, "cancel")
        await settle(pilot)
        assert editor.modified and editor.open_item.key == "order-0001"
        assert json.loads(editor.text) == {"typed": "while order-0002 travelled"}


async def test_typing_while_a_new_item_is_created_is_not_wiped_when_it_opens(build_app, emulator):
    """n, Create on a slow network, then into the editor of the item still open: the new item's
    arrival asks about those keys instead of replacing them."""
    from syncmap_tui.emulator.faults import WRITE_METHODS
    from syncmap_tui.ui.dialogs.create import NewItemDialog

    app = build_app(SERVICE, "orders", "order-0001")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        screen.item_table.focus()
        await pilot.press("n")
        dialog = await wait_for_screen(pilot, NewItemDialog)
        await pilot.press(*"brand-new")
        dialog.query_one("#new-data").load_text('{"made": "by hand"}')
        emulator.faults.update({"latency": 0.5, "methods": WRITE_METHODS})
        dialog.query_one("#create").press()
        flows = screen.item_flows
        await wait_until(pilot, lambda: flows.creating is not None, what="the create on its way")
        editor = screen.editor
        assert editor.open_item.key == "order-0001"
        editor.json_area.focus()
        set_editor_json(pilot, {"typed": "while the create travelled"})
        await pilot.pause()
        await wait_until(pilot, lambda: flows.creating is None, rounds=500, what="the create's answer")
        emulator.faults.reset()
        for _ in range(50):
            await pilot.pause(0.01)
            if editor.open_item.key == "brand-new":
                pytest.fail("the new item replaced the edit of order-0001 typed while it was created, unasked")
            if isinstance(app.screen, UnsavedChangesDialog):
                break
        await answer(pilot, UnsavedChangesDialog, "cancel")
        await settle(pilot)
        assert editor.open_item.key == "order-0001"
        assert json.loads(editor.text) == {"typed": "while the create travelled"}
        assert "brand-new" in screen.item_table.items


async def test_typing_while_undo_delete_fetches_the_key_created_again_is_not_wiped(build_app, other_writer):
    """u after someone created the key again: the conflict view opens on their item once it is
    fetched. Keys typed into the item still open meanwhile are asked about, not replaced."""
    from syncmap_tui.ui.dialogs.confirm import ConfirmDialog

    app = build_app(SERVICE, "orders", "order-0001")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        table = screen.item_table
        table.focus()
        assert table.select_key("order-0005")
        await pilot.press("d")
        await answer(pilot, ConfirmDialog, True)
        await settle(pilot)
        sid = (await other_writer.fetch_map(SERVICE, "orders")).sid
        await other_writer.create_item(SERVICE, sid, "order-0005", {"someone": "else"})
        client = screen.client
        slow_answer, asked = hold_fetched_items(client, "order-0005")
        table.focus()
        await pilot.press("u")
        await wait_until(pilot, lambda: asked, what="order-0005 to be fetched")
        editor = screen.editor
        assert editor.open_item.key == "order-0001"
        editor.json_area.focus()
        set_editor_json(pilot, {"typed": "while order-0005 travelled"})
        await pilot.pause()
        slow_answer.set()
        for _ in range(50):
            await pilot.pause(0.01)
            if editor.open_item.key == "order-0005":
                pytest.fail("undo delete's conflict view replaced the edit of order-0001 typed meanwhile, unasked")
            if isinstance(app.screen, UnsavedChangesDialog):
                break
        await answer(pilot, UnsavedChangesDialog, "cancel")
        await settle(pilot)
        assert editor.open_item.key == "order-0001"
        assert json.loads(editor.text) == {"typed": "while order-0005 travelled"}
    current = await other_writer.fetch_item(SERVICE, sid, "order-0005")
    assert current.data == {"someone": "else"}


async def test_typing_while_the_open_item_is_deleted_keeps_what_was_typed(build_app, emulator, other_writer):
    """d on the open item's row (no edit yet: nothing to ask), Delete, then into the editor while the
    delete travels: the keys typed stay in the editor, with the item marked gone (ctrl+s offers to
    recreate it), instead of being cleared away with the item."""
    from syncmap_tui.emulator.faults import WRITE_METHODS
    from syncmap_tui.sync.errors import ItemNotFound
    from syncmap_tui.ui.dialogs.confirm import ConfirmDialog

    app = build_app(SERVICE, "orders", "order-0001")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        table = screen.item_table
        table.focus()
        assert table.select_key("order-0001")
        await pilot.press("d")
        emulator.faults.update({"latency": 0.5, "methods": WRITE_METHODS})
        await answer(pilot, ConfirmDialog, True)
        editor = screen.editor
        editor.json_area.focus()
        set_editor_json(pilot, {"typed": "while the delete travelled"})
        await pilot.pause()
        await settle(pilot)
        emulator.faults.reset()
        assert editor.open_item is not None, "the keys typed while the delete travelled were cleared away"
        assert json.loads(editor.text) == {"typed": "while the delete travelled"}
        assert screen.session.gone
    sid = (await other_writer.fetch_map(SERVICE, "orders")).sid
    with pytest.raises(ItemNotFound):
        await other_writer.fetch_item(SERVICE, sid, "order-0001")


async def test_typing_while_the_open_items_map_is_deleted_keeps_a_draft_of_it(build_app, emulator, other_writer):
    """Delete map with one of its items open (no edit yet: nothing to ask), then into the editor
    while the delete travels: the item is gone with its map, but the keys typed meanwhile stay in a
    draft (the next start offers it) instead of being discarded with the map."""
    from syncmap_tui.emulator.faults import WRITE_METHODS
    from syncmap_tui.ui.dialogs.confirm import ConfirmDialog

    service = await other_writer.fetch_service(SERVICE)
    scratch = await other_writer.create_map(service.sid, unique_name="scratch")
    await other_writer.create_item(service.sid, scratch.sid, "note", {"n": 1})
    app = build_app(SERVICE, "scratch", "note")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        screen.navigator.focus()
        await pilot.pause()
        assert screen.navigator.current_map is not None and screen.navigator.current_map.sync_map.sid == scratch.sid
        emulator.faults.update({"latency": 0.5, "methods": WRITE_METHODS})
        screen.action_delete_map()
        await answer(pilot, ConfirmDialog, True)
        editor = screen.editor
        editor.json_area.focus()
        set_editor_json(pilot, {"typed": "while the map's delete travelled"})
        await pilot.pause()
        await settle(pilot)
        emulator.faults.reset()
        drafts = screen.draft_keeper.store.load_all()
    assert [json.loads(d.text) for d in drafts if d.key == "note"] == [{"typed": "while the map's delete travelled"}]


async def test_opening_a_recovered_draft_asks_about_keys_typed_into_the_deep_linked_item(
    build_app, other_writer, monkeypatch
):
    """A deep link opens an item and the user types at once; the drafts of a dead instance are
    offered a moment later. Opening one must ask about that edit, not clear it away with the map."""
    import threading

    from syncmap_tui.drafts import DraftStore
    from syncmap_tui.ui.dialogs.drafts import RecoverDraftDialog

    await leave_a_crashed_runs_draft(other_writer, "order-0051", '{"recovered": true}')
    drafts_read = threading.Event()
    real_load = DraftStore.load_all_with_problems

    def slow_load(self):
        drafts_read.wait(10)  # the drafts folder on a slow disk: the user types meanwhile
        return real_load(self)

    monkeypatch.setattr(DraftStore, "load_all_with_problems", slow_load)
    app = build_app(SERVICE, "orders", "order-0001")
    async with app.run_test(size=SIZE) as pilot:
        screen = main_screen(pilot)
        await wait_until(pilot, lambda: screen.session is not None, rounds=1000, what="the deep link")
        editor = screen.editor
        editor.json_area.focus()
        set_editor_json(pilot, {"typed": "right after the deep link"})
        await pilot.pause()
        drafts_read.set()
        await answer(pilot, RecoverDraftDialog, "open")
        for _ in range(100):
            await pilot.pause(0.01)
            if isinstance(app.screen, UnsavedChangesDialog):
                break
            if editor.open_item is None or editor.open_item.key != "order-0001":
                pytest.fail("opening the draft cleared the edit typed into the deep-linked item, unasked")
        await answer(pilot, UnsavedChangesDialog, "cancel")
        await settle(pilot)
        assert editor.open_item.key == "order-0001"
        assert json.loads(editor.text) == {"typed": "right after the deep link"}


async def test_a_refresh_404_read_before_a_recreate_does_not_mark_the_recreated_item_gone(build_app, other_writer):
    """As the watch's: a refresh's read of the open item that left before the session recreated it."""
    app = build_app(SERVICE, "orders", "order-0001")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        client = screen.client
        real_fetch = client.fetch_item
        slow_answer = asyncio.Event()
        read_before: list[ItemNotFound] = []

        async def fetch_item(*args, **kwargs):
            try:
                return await real_fetch(*args, **kwargs)
            except ItemNotFound as error:
                if not read_before:  # the refresh's read: its 404 travels slowly back
                    read_before.append(error)
                    await slow_answer.wait()
                raise

        client.fetch_item = fetch_item
        sid = (await other_writer.fetch_map(SERVICE, "orders")).sid
        await other_writer.delete_item(SERVICE, sid, "order-0001", if_match=None)
        await pilot.press("f5")
        await wait_until(pilot, lambda: read_before, what="the refresh's read of the deleted item")
        session = screen.session
        screen.editor.json_area.focus()
        set_editor_json(pilot, {"mine": 1})
        await pilot.pause()
        await pilot.press("ctrl+s")
        await answer(pilot, DeletedDialog, "recreate")
        await wait_until(pilot, lambda: session.in_flight is None and session.base.data == {"mine": 1},
                         what="the recreate")
        slow_answer.set()
        await settle(pilot)
        assert not session.gone, "a refresh's 404 read before the recreate marked the recreated item gone"


async def test_undo_last_save_never_reverts_a_save_this_editor_never_showed(build_app, other_writer):
    """Two instances share the history. A saves; B (another pane, a colleague on the same account)
    saves on top, and records it as "yours". A, which never showed B's save, presses F9: the undo
    must not silently put back A's data over B's change; the conflict view shows B's version first."""
    from syncmap_tui.ui.dialogs.conflict import ConflictDialog

    app = build_app(SERVICE, "orders", "order-0001")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        before = screen.session.base.data
        set_editor_json(pilot, {**before, "status": "a's save"})
        await pilot.press("ctrl+s")
        await settle(pilot)
        session = screen.session
        assert session.base.revision == "1"
        # Instance B's save, and its record in the shared history.
        theirs = await other_writer.update_item(
            session.service_sid, session.map_sid, "order-0001", data={**before, "status": "b's save"}, if_match="1"
        )
        ref = screen.history.ref(session.service_sid, session.map_sid, "order-0001")
        screen.history.store.record(ref, theirs, "saved", by_you=True, replaced="1")
        await pilot.press("f9")
        for _ in range(100):
            await pilot.pause(0.01)
            if isinstance(app.screen, ConflictDialog):
                break
        asked = isinstance(app.screen, ConflictDialog)
        if asked:
            await answer(pilot, ConflictDialog, "back")
        await settle(pilot)
    current = await other_writer.fetch_item(SERVICE, session.map_sid, "order-0001")
    assert current.data["status"] == "b's save", "F9 reverted a save this editor never showed, unasked"
    assert asked


async def test_a_delete_cut_short_by_opening_another_row_can_still_be_undone(build_app, emulator, other_writer):
    """d, Delete, then enter on another row while the delete's answer travels: opening the row
    cancelled the delete's flow (one flow at a time; since then it waits), though the server has
    deleted the item. u must still bring it back: its data is nowhere else (listed, never opened)."""
    from syncmap_tui.emulator.faults import WRITE_METHODS
    from syncmap_tui.ui.dialogs.confirm import ConfirmDialog

    sid = (await other_writer.fetch_map(SERVICE, "orders")).sid
    listed = await other_writer.fetch_item(SERVICE, sid, "order-0005")
    app = build_app(SERVICE, "orders")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        table = screen.item_table
        table.focus()
        assert table.select_key("order-0005")
        await pilot.press("d")
        emulator.faults.update({"latency": 0.6, "methods": WRITE_METHODS, "after_commit": True})
        await answer(pilot, ConfirmDialog, True)

        async def deleted_on_server() -> bool:
            try:
                await other_writer.fetch_item(SERVICE, sid, "order-0005")
            except ItemNotFound:
                return True
            return False

        for _ in range(100):
            if await deleted_on_server():
                break
            await pilot.pause(0.01)
        assert await deleted_on_server()
        table.focus()
        assert table.select_key("order-0006")
        await pilot.press("enter")  # while the delete's answer is still on its way
        await settle(pilot)
        history = screen.history
        await wait_until(
            pilot, lambda: history.store.deleted_items(history.ref("", "", "").base_url, listed.service_sid, sid),
            rounds=300, what="the delete's answer",
        )
        emulator.faults.reset()
        assert "order-0005" not in table.items
        table.focus()
        await pilot.press("u")
        await settle(pilot)
    back = await other_writer.fetch_item(SERVICE, sid, "order-0005")
    assert back.data == listed.data


async def test_history_keys_while_a_save_travels_leave_the_save_alone(build_app, emulator, other_writer):
    """F8 (history) or F9 (undo save) pressed while a save's answer travels: their flows share the
    save's group, and starting one cancelled the save's flow silently (the save landed; the editor
    stayed dirty on the old revision). They must say a save is on its way instead.

    One key after the other in one app (formerly a test per key): each step's slow save has landed
    and its fault is reset before the next step saves again."""
    from syncmap_tui.emulator.faults import WRITE_METHODS

    from .helpers import record_notifications

    app = build_app(SERVICE, "orders", "order-0001")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        told = record_notifications(app)
        screen = main_screen(pilot)
        for revision, key in enumerate(("f8", "f9"), start=1):
            told.clear()
            set_editor_json(pilot, {"mine": revision})
            await pilot.pause()
            emulator.faults.update({"latency": 0.5, "methods": WRITE_METHODS, "after_commit": True})
            await pilot.press("ctrl+s")
            session = screen.session
            await wait_until(pilot, lambda: session.in_flight is not None, what=f"the save on its way ({key})")
            await pilot.press(key)
            await settle(pilot)
            emulator.faults.reset()
            assert any("is on its way" in message for message in told), (key, told)
            assert session.base.revision == str(revision) and not screen.editor.is_dirty, f"{key} cut the save short"
            assert json.loads(screen.editor.text) == {"mine": revision}, f"{key} changed the saved text"
            assert app.screen is screen, f"{key} opened {app.screen!r} after the save"


async def test_an_undo_delete_cut_short_after_it_landed_is_not_taken_for_someone_elses_create(
    build_app, emulator, other_writer
):
    """u, then F5 while the recreate's answer travels (refresh cancelled it: one 'open' flow at a
    time; since then it waits). The item is back on the server; the history must say so, so that u
    again does not claim that someone else created the key and offer their 'item' (yours) against
    your deleted version."""
    from syncmap_tui.emulator.faults import WRITE_METHODS
    from syncmap_tui.ui.dialogs.confirm import ConfirmDialog

    from .helpers import record_notifications

    sid = (await other_writer.fetch_map(SERVICE, "orders")).sid
    app = build_app(SERVICE, "orders")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        told = record_notifications(app)
        screen = main_screen(pilot)
        table = screen.item_table
        table.focus()
        assert table.select_key("order-0005")
        await pilot.press("d")
        await answer(pilot, ConfirmDialog, True)
        await settle(pilot)
        history = screen.history
        base_url = history.ref("", "", "").base_url
        await wait_until(pilot, lambda: history.store.deleted_items(base_url, table.items["order-0006"].service_sid, sid),
                         what="the deleted version in the history")
        emulator.faults.update({"latency": 0.6, "methods": WRITE_METHODS, "after_commit": True})
        table.focus()
        await pilot.press("u")
        for _ in range(100):
            try:
                await other_writer.fetch_item(SERVICE, sid, "order-0005")
                break
            except ItemNotFound:
                await pilot.pause(0.01)
        await pilot.press("f5")  # while the recreate's answer is still on its way
        await settle(pilot)
        await pilot.pause(1.0)  # the recreate's answer lands
        emulator.faults.reset()
        told.clear()
        table.focus()
        await pilot.press("u")
        await settle(pilot)
        assert not any("someone created it" in message for message in told), told
