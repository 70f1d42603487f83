"""Getting around (refresh, jump, opening a row) while a write travels: the write finishes and
its result shows; navigation waits for it (FlowGates.writes_settled). And "yours" in the shared
history means this running instance, for undo delete and undo last save."""

from __future__ import annotations

import pytest

from syncmap_tui.sync.errors import ItemNotFound

from .helpers import SIZE, SERVICE, answer, main_screen, record_notifications, settle, wait_for_screen, wait_until


async def _arrived(other_writer, sid: str, key: str) -> bool:
    try:
        await other_writer.fetch_item(SERVICE, sid, key)
    except ItemNotFound:
        return False
    return True


NAVIGATIONS = ("ctrl+r", "f5", "enter")
"""Refresh, refresh, enter on another row: enter last, as it leaves another row open."""


@pytest.mark.long
async def test_a_create_in_flight_finishes_and_shows_despite_a_refresh_or_enter_on_another_row(build_app, emulator, other_writer):
    """n, Create on a slow network, then a refresh or enter on another row while the answer travels:
    that used to cancel the create's flow ("cancelled; it may still have arrived"). The create must
    finish and say so, and the new item open. One start for the three navigations (each start costs
    ~0.2 s of CPU): each creates a key of its own, and the latency is off between them."""
    from syncmap_tui.emulator.faults import WRITE_METHODS
    from syncmap_tui.ui.dialogs.create import NewItemDialog

    sid = (await other_writer.fetch_map(SERVICE, "orders")).sid
    app = build_app(SERVICE, "orders")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        told = record_notifications(app)
        screen = main_screen(pilot)
        table = screen.item_table
        for navigation in NAVIGATIONS:
            key = f"brand-new-{navigation}"
            told.clear()
            table.focus()
            await pilot.press("n")
            dialog = await wait_for_screen(pilot, NewItemDialog)
            await pilot.press(*key)
            dialog.query_one("#new-data").load_text('{"made": "by hand"}')
            emulator.faults.update({"latency": 0.6, "methods": WRITE_METHODS, "after_commit": True})
            dialog.query_one("#create").press()
            await wait_until(pilot, lambda: screen.item_flows.creating is not None, what=f"the create on its way ({navigation})")
            for _ in range(100):
                if await _arrived(other_writer, sid, key):
                    break
                await pilot.pause(0.01)
            assert screen.item_flows.creating is not None, f"the create's answer came back too soon for the test ({navigation})"
            table.focus()
            assert table.select_key("order-0003")
            await pilot.press(navigation)
            await settle(pilot)
            emulator.faults.reset()
            assert not any("cancelled" in message for message in told), (navigation, told)
            assert f"Created '{key}'." in told, (navigation, told)
            assert screen.item_flows.unfinished_new_item is None, f"an unfinished new item after {navigation}"


async def test_a_delete_and_its_undo_in_flight_finish_and_show_despite_a_jump_and_a_refresh(build_app, emulator, other_writer):
    """One start for the delete and its undo (each start costs ~0.2 s of CPU); the latency is off
    between them."""
    from syncmap_tui.emulator.faults import WRITE_METHODS
    from syncmap_tui.ui.dialogs.confirm import ConfirmDialog

    sid = (await other_writer.fetch_map(SERVICE, "orders")).sid
    app = build_app(SERVICE, "orders")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        told = record_notifications(app)
        screen = main_screen(pilot)
        table = screen.item_table

        # d, Delete on a slow network, then a jump while the answer travels: the jump waits, and
        # "Deleted" shows.
        table.focus()
        assert table.select_key("order-0005")
        await pilot.press("d")
        emulator.faults.update({"latency": 0.6, "methods": WRITE_METHODS, "after_commit": True})
        await answer(pilot, ConfirmDialog, True)
        for _ in range(100):
            if not await _arrived(other_writer, sid, "order-0005"):
                break
            await pilot.pause(0.01)
        assert screen.gates.write_running(), "the delete's answer came back too soon for the test"
        screen.jump_from_palette("order-0004")
        await settle(pilot)
        emulator.faults.reset()
        assert "Deleted 'order-0005' (u brings it back)." in told, told
        assert "order-0005" not in table.items, "the deleted row stayed"

        # u on a slow network, then F5 while the recreate's answer travels: the refresh waits, and
        # "Brought back" shows.
        history = screen.history
        base_url = history.ref("", "", "").base_url
        service_sid = table.items["order-0006"].service_sid
        await wait_until(pilot, lambda: history.store.deleted_items(base_url, service_sid, sid),
                         what="the deleted version in the history")
        emulator.faults.update({"latency": 0.6, "methods": WRITE_METHODS, "after_commit": True})
        table.focus()
        await pilot.press("u")
        for _ in range(100):
            if await _arrived(other_writer, sid, "order-0005"):
                break
            await pilot.pause(0.01)
        assert screen.gates.write_running(), "the recreate's answer came back too soon for the test"
        await pilot.press("f5")
        await settle(pilot)
        emulator.faults.reset()
        assert any(message.startswith("Brought back 'order-0005'") for message in told), told
        assert "order-0005" in table.items, "the row brought back is not in the table"


OTHER_WINDOW = "b" * 16


def other_window_history():
    """Another running instance sharing HOME: its history (the same files) and its instance lock."""
    from syncmap_tui.drafts import DraftStore
    from syncmap_tui.history import HistoryStore
    from syncmap_tui.instances import InstanceLock

    lock = InstanceLock(DraftStore(), OTHER_WINDOW)
    lock.acquire()
    return HistoryStore(instance=OTHER_WINDOW), lock


async def test_u_asks_before_bringing_back_an_item_another_window_deleted(build_app, other_writer):
    """Another window deletes order-0005 (its history, shared, records the delete as "yours"). u in
    this window used to recreate it unasked; it must say whose delete it was and ask, and cancel
    writes nothing."""
    from syncmap_tui.history import ItemRef
    from syncmap_tui.ui.dialogs.confirm import ConfirmDialog

    sid = (await other_writer.fetch_map(SERVICE, "orders")).sid
    app = build_app(SERVICE, "orders")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        deleted = await other_writer.fetch_item(SERVICE, sid, "order-0005")
        other, lock = other_window_history()
        try:
            await other_writer.delete_item(SERVICE, sid, "order-0005", if_match=deleted.revision)
            other.record_deleted(ItemRef(screen.history.ref("", "", "").base_url, deleted.service_sid, sid, "order-0005"), deleted)
            screen.item_table.focus()
            await pilot.press("u")
            dialog = await wait_for_screen(pilot, ConfirmDialog)
            shown = " ".join(str(line) for line in dialog.fields)
            assert "another window of syncmap-tui" in shown and "order-0005" in shown
            await answer(pilot, ConfirmDialog, False)
            await settle(pilot)
        finally:
            lock.release()
    assert not await _arrived(other_writer, sid, "order-0005"), "u brought back another window's delete unasked"


async def test_undo_last_save_asks_about_another_windows_save_this_editor_shows(build_app, other_writer):
    """Another window saved order-0001 (its history calls the save "yours"); this window opens the
    item at that revision. F9 used to put back the earlier data blind (the editor showed the save);
    the save is not this window's: the conflict view asks, and going back writes nothing."""
    from syncmap_tui.history import ItemRef
    from syncmap_tui.ui.dialogs.conflict import ConflictDialog

    sid = (await other_writer.fetch_map(SERVICE, "orders")).sid
    before = await other_writer.fetch_item(SERVICE, sid, "order-0001")
    theirs = await other_writer.update_item(
        SERVICE, sid, "order-0001", data={**before.data, "status": "other window's save"}, if_match=before.revision
    )
    app = build_app(SERVICE, "orders", "order-0001")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        assert screen.session.base.revision == theirs.revision
        other, lock = other_window_history()
        try:
            ref = ItemRef(screen.history.ref("", "", "").base_url, theirs.service_sid, sid, "order-0001")
            other.record(ref, before, "loaded")
            other.record(ref, theirs, "saved", by_you=True, replaced=before.revision)
            await pilot.press("f9")
            await wait_for_screen(pilot, ConflictDialog)
            await answer(pilot, ConflictDialog, "back")
            await settle(pilot)
        finally:
            lock.release()
    current = await other_writer.fetch_item(SERVICE, sid, "order-0001")
    assert current.data["status"] == "other window's save", "F9 undid another window's save unasked"


@pytest.mark.long
async def test_an_import_and_the_maps_delete_under_way_are_not_cut_short_by_navigation(build_app, emulator, tmp_path, other_writer):
    """One start on the empty map (each start costs ~0.2 s of CPU): the import fills it, then the
    map is deleted; the latency is off between them."""
    from syncmap_tui.emulator.faults import WRITE_METHODS
    from syncmap_tui.ui.dialogs.confirm import ConfirmDialog
    from textual.widgets import Static

    from .test_transfer_palette import give_path

    path = tmp_path / "many.jsonl"
    path.write_text("".join(f'{{"key":"k{n:03}","data":{{"n":{n}}}}}\n' for n in range(200)))
    app = build_app(SERVICE, "empty")
    async with app.run_test(size=SIZE) as pilot:
        told = record_notifications(app)
        await settle(pilot)
        screen = main_screen(pilot)

        # Export map… (or another import) while an import writes used to replace it (one "transfer"
        # flow at a time): it is refused instead, and a refresh or a jump runs beside it. Every item
        # lands.
        await screen.run_action("import_into_map")
        await give_path(pilot, path)
        emulator.faults.update({"latency": 0.02, "methods": ["POST"]})
        await answer(pilot, ConfirmDialog, True)
        await wait_until(pilot, lambda: "importing" in str(screen.header.query_one("#activity", Static).render()),
                         what="the import under way")
        await screen.run_action("export_map")
        await pilot.press("ctrl+r")
        screen.jump_from_palette("k0")
        await settle(pilot)
        emulator.faults.reset()
        assert not any(message.startswith("Cancelled") for message in told), told
        assert any("on its way" in message for message in told), told
        empty = await other_writer.fetch_map(SERVICE, "empty")
        written = [item.key async for item in other_writer.list_items(empty.service_sid, empty.sid)]
        assert len(written) == 200, "the import was cut short"

        # Delete map on a slow network, then ctrl+r while the answer travels: the refresh waits, the
        # map closes and "Deleted map" shows (it used to be cut short: the deleted map stayed open).
        told.clear()
        assert screen.navigator.current_map is not None
        assert screen.navigator.current_map.sync_map.display_name == "empty"
        await screen.run_action("delete_map")
        emulator.faults.update({"latency": 0.6, "methods": WRITE_METHODS, "after_commit": True})
        await answer(pilot, ConfirmDialog, True)
        await wait_until(pilot, screen.gates.write_running, what="the delete on its way")
        await pilot.pause(0.1)
        await pilot.press("ctrl+r")
        await settle(pilot)
        emulator.faults.reset()
        assert "Deleted map 'empty'." in told, told
        assert screen.current_map is None, "the deleted map stayed open"


async def test_a_save_asked_for_on_leaving_is_not_cut_short_by_a_refresh(build_app, emulator, other_writer):
    """Enter on another row with unsaved keys, Save, then ctrl+r while that save travels: the save
    runs in the opening's flow, which the refresh used to replace (the save cut short, the other row
    never opened). The refresh is refused instead; the save lands and the row opens."""
    from syncmap_tui.emulator.faults import WRITE_METHODS
    from syncmap_tui.ui.dialogs.confirm import UnsavedChangesDialog

    from .helpers import set_editor_json

    app = build_app(SERVICE, "orders", "order-0001")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        told = record_notifications(app)
        screen = main_screen(pilot)
        set_editor_json(pilot, {"mine": "before leaving"})
        await pilot.pause()
        table = screen.item_table
        table.focus()
        assert table.select_key("order-0002")
        await pilot.press("enter")
        emulator.faults.update({"latency": 0.6, "methods": WRITE_METHODS, "after_commit": True})
        await answer(pilot, UnsavedChangesDialog, "save")
        session = screen.session
        await wait_until(pilot, lambda: session.in_flight is not None, what="the save on its way")
        await pilot.press("ctrl+r")
        await settle(pilot)
        emulator.faults.reset()
        assert screen.open_item.key == "order-0002", told
        assert any("on its way" in message for message in told), told
    saved = await other_writer.fetch_item(SERVICE, session.map_sid, "order-0001")
    assert saved.data == {"mine": "before leaving"}
