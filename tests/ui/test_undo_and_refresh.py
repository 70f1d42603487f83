"""Getting around (refresh, jump, opening a row) while a write travels: the write finishes and
its result shows; navigation waits for it (MainScreen.writes_settled). And "yours" in the shared
history means this running instance, for undo delete and undo last save."""

from __future__ import annotations

import pytest

from syncmap_tui.sync.errors import ItemNotFound

from .helpers import SERVICE, answer, main_screen, record_notifications, settle, wait_for_screen, wait_until

SIZE = (120, 40)


async def _arrived(other_writer, sid: str, key: str) -> bool:
    try:
        await other_writer.fetch_item(SERVICE, sid, key)
    except ItemNotFound:
        return False
    return True


@pytest.mark.parametrize("navigation", ["ctrl+r", "f5", "enter"])
async def test_a_create_in_flight_finishes_and_shows_despite_navigation(build_app, emulator, other_writer, navigation):
    """n, Create on a slow network, then a refresh or enter on another row while the answer travels:
    that used to cancel the create's flow ("cancelled; it may still have arrived"). The create must
    finish and say so, and the new item open."""
    from syncmap_tui.emulator.faults import WRITE_METHODS
    from syncmap_tui.ui.dialogs.create import NewItemDialog

    sid = (await other_writer.fetch_map(SERVICE, "orders")).sid
    app = build_app(SERVICE, "orders")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        told = record_notifications(app)
        screen = main_screen(pilot)
        table = screen.item_table
        table.focus()
        await pilot.press("n")
        dialog = await wait_for_screen(pilot, NewItemDialog)
        await pilot.press(*"brand-new")
        dialog.query_one("#new-data").load_text('{"made": "by hand"}')
        emulator.faults.update({"latency": 0.6, "methods": WRITE_METHODS, "after_commit": True})
        dialog.query_one("#create").press()
        await wait_until(pilot, lambda: screen.item_flows.creating is not None, what="the create on its way")
        for _ in range(100):
            if await _arrived(other_writer, sid, "brand-new"):
                break
            await pilot.pause(0.01)
        assert screen.item_flows.creating is not None, "the create's answer came back too soon for the test"
        table.focus()
        assert table.select_key("order-0003")
        await pilot.press(navigation)
        await settle(pilot)
        emulator.faults.reset()
        assert not any("cancelled" in message for message in told), told
        assert "Created 'brand-new'." in told, told
        assert screen.item_flows.unfinished_new_item is None


async def test_an_undo_delete_in_flight_finishes_and_shows_despite_a_refresh(build_app, emulator, other_writer):
    """d, Delete; u on a slow network, then F5 while the recreate's answer travels: the refresh
    waits, and "Brought back" shows."""
    from syncmap_tui.emulator.faults import WRITE_METHODS
    from syncmap_tui.ui.dialogs.confirm import ConfirmDialog

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
        assert screen.write_running(), "the recreate's answer came back too soon for the test"
        await pilot.press("f5")
        await settle(pilot)
        emulator.faults.reset()
        assert any(message.startswith("Brought back 'order-0005'") for message in told), told
        assert "order-0005" in table.items


async def test_a_delete_in_flight_finishes_and_shows_despite_a_jump(build_app, emulator, other_writer):
    """d, Delete on a slow network, then a jump while the answer travels: the jump waits, and
    "Deleted" shows."""
    from syncmap_tui.emulator.faults import WRITE_METHODS
    from syncmap_tui.ui.dialogs.confirm import ConfirmDialog

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
        emulator.faults.update({"latency": 0.6, "methods": WRITE_METHODS, "after_commit": True})
        await answer(pilot, ConfirmDialog, True)
        for _ in range(100):
            if not await _arrived(other_writer, sid, "order-0005"):
                break
            await pilot.pause(0.01)
        assert screen.write_running(), "the delete's answer came back too soon for the test"
        screen.jump_from_palette("order-0004")
        await settle(pilot)
        emulator.faults.reset()
        assert "Deleted 'order-0005' (u brings it back)." in told, told
        assert "order-0005" not in table.items
