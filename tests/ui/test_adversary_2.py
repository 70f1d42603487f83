"""Found by trying to break the app (the adversary's second round): a slow network while the user
types on. Each test failed before its fix, or is a strict xfail that names the bug."""

from __future__ import annotations

import asyncio
import json

import pytest

from .helpers import SIZE, SERVICE, hold_fetched_items, leave_a_crashed_runs_draft, main_screen, set_editor_json, settle, wait_until


async def test_typing_while_undo_last_save_fetches_is_not_wiped(build_app, other_writer):
    """F9 on a slow network: the undo first fetches the server's revision, and the user types on
    into the editor meanwhile (F9 returns at once). When the answer comes, the undo must not put
    the undone version over what was typed: the typed text stays, and nothing is written."""
    app = build_app(SERVICE, "orders", "order-0001")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        before = screen.session.base.data
        set_editor_json(pilot, {**before, "status": "saved"})
        await pilot.press("ctrl+s")
        await settle(pilot)
        session = screen.session
        assert session.base.revision == "1"
        client = screen.client
        slow_answer, asked = hold_fetched_items(client)
        await pilot.press("f9")
        await wait_until(pilot, lambda: asked, what="the undo's fetch to be sent")
        screen.editor.json_area.focus()
        set_editor_json(pilot, {**before, "status": "typed while the undo travelled"})
        await pilot.pause()
        slow_answer.set()
        await settle(pilot)
        editor = screen.editor
        assert json.loads(editor.text)["status"] == "typed while the undo travelled", (
            "the undo's version replaced what was typed while it travelled"
        )
    current = await other_writer.fetch_item(SERVICE, session.map_sid, "order-0001")
    assert current.data["status"] == "saved"


async def test_typing_while_a_recovered_drafts_maps_are_listed_is_not_wiped(build_app, other_writer, monkeypatch):
    """A deep-linked item is open, unmodified; the user opens a dead instance's draft, and types on
    into the item still shown while the draft's maps are listed (a slow network). Opening the
    draft must then ask about that edit, not clear it away with the map."""
    from syncmap_tui.ui.dialogs.confirm import UnsavedChangesDialog
    from syncmap_tui.ui.dialogs.drafts import RecoverDraftDialog

    from .helpers import answer, wait_for_screen

    await leave_a_crashed_runs_draft(other_writer, "order-0051", '{"recovered": true}')
    app = build_app(SERVICE, "orders", "order-0001")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_screen(pilot, RecoverDraftDialog)
        screen = main_screen(pilot)
        navigation = screen.navigation
        real_list_maps = navigation.list_maps
        slow_answer = asyncio.Event()
        asked: list[str] = []

        async def list_maps(*args, **kwargs):
            maps = await real_list_maps(*args, **kwargs)
            asked.append("maps")
            await slow_answer.wait()
            return maps

        monkeypatch.setattr(navigation, "list_maps", list_maps)
        await answer(pilot, RecoverDraftDialog, "open")
        await wait_until(pilot, lambda: asked, what="the draft's maps to be asked for")
        editor = screen.editor
        assert editor.open_item is not None and editor.open_item.key == "order-0001"
        editor.json_area.focus()
        set_editor_json(pilot, {"typed": "while the draft's maps travelled"})
        await pilot.pause()
        slow_answer.set()
        for _ in range(100):
            await pilot.pause(0.01)
            if isinstance(app.screen, UnsavedChangesDialog):
                break
            if editor.open_item is None or editor.open_item.key != "order-0001":
                pytest.fail("opening the draft cleared the edit typed while its maps were listed, unasked")
        await answer(pilot, UnsavedChangesDialog, "cancel")
        await settle(pilot)
        assert editor.open_item.key == "order-0001"
        assert json.loads(editor.text) == {"typed": "while the draft's maps travelled"}


async def test_opening_another_item_while_undo_last_save_fetches_leaves_the_new_item_alone(build_app, other_writer):
    """F9 on a slow network, then enter on another row before the undo's fetch answers (the undo
    and opening an item are flows of different groups: both run). The undo must not put the
    undone version of the item it was for into the editor that now shows the other item.

    Twice in one app (formerly a test for each): the other item's data differs, then it is the
    same (the editor's text alone cannot tell them apart). Each round opens order-0001 again and
    saves anew, so its undo has a save of its own to undo."""
    app = build_app(SERVICE, "orders", "order-0001")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        table = screen.item_table
        editor = screen.editor
        sid = screen.session.map_sid
        for same_data in (False, True):
            if same_data:  # back on order-0001
                table.focus()
                assert table.select_key("order-0001")
                await pilot.press("enter")
                await settle(pilot)
                assert editor.open_item.key == "order-0001", "order-0001 did not open again"
            saved = {**screen.session.base.data, "status": f"saved, same data: {same_data}"}
            set_editor_json(pilot, saved)
            await pilot.press("ctrl+s")
            await settle(pilot)
            if same_data:
                await other_writer.update_item(SERVICE, sid, "order-0002", data=saved, if_match=None)
            slow_answer, asked = hold_fetched_items(screen.client, "order-0001")
            await pilot.press("f9")
            await wait_until(pilot, lambda: asked, what=f"the undo's fetch to be sent (same data: {same_data})")
            table.focus()
            assert table.select_key("order-0002")
            await pilot.press("enter")
            await wait_until(pilot, lambda: editor.open_item is not None and editor.open_item.key == "order-0002",
                             what=f"order-0002 to open (same data: {same_data})")
            shown = json.loads(editor.text)
            slow_answer.set()
            await settle(pilot)
            assert editor.open_item.key == "order-0002", f"same data: {same_data}: order-0002 is no longer open"
            assert json.loads(editor.text) == shown, (
                f"same data: {same_data}: the undo of order-0001 changed the editor showing order-0002"
            )
            order_2 = await other_writer.fetch_item(SERVICE, sid, "order-0002")
            assert order_2.data == shown, f"same data: {same_data}: the undo of order-0001 wrote order-0002"


async def test_opening_another_item_while_f6_fetches_leaves_both_items_alone(build_app, other_writer):
    """F6 on a slow network, then enter on another row before its fetch answers (the review and
    opening an item run side by side). The review of the first item must not show the second
    item's text as "mine" against the first item's server version, nor load the first item into
    the editor: a conflict view there would offer to write the second item's text over the first."""
    from syncmap_tui.ui.dialogs.conflict import ConflictDialog

    app = build_app(SERVICE, "orders", "order-0001")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        sid = screen.session.map_sid
        first = screen.session.base.data
        await other_writer.update_item(SERVICE, sid, "order-0001", data={**first, "status": "theirs"}, if_match="0")
        client = screen.client
        slow_answer, asked = hold_fetched_items(client, "order-0001")
        await pilot.press("f6")
        await wait_until(pilot, lambda: asked, what="the review's fetch to be sent")
        table = screen.item_table
        table.focus()
        assert table.select_key("order-0002")
        await pilot.press("enter")
        editor = screen.editor
        await wait_until(pilot, lambda: editor.open_item is not None and editor.open_item.key == "order-0002",
                         what="order-0002 to open")
        shown = json.loads(editor.text)
        slow_answer.set()
        for _ in range(100):
            await pilot.pause(0.01)
            if isinstance(app.screen, ConflictDialog):
                pytest.fail("F6 of order-0001 opened a conflict view with order-0002's text as the edit")
        await settle(pilot)
        assert editor.open_item.key == "order-0002"
        assert json.loads(editor.text) == shown


async def test_opening_another_item_while_a_refused_save_looks_at_the_server_leaves_it_alone(build_app, other_writer):
    """ctrl+s meets a 412 and fetches the server's version (a slow network); meanwhile the user opens
    another row and discards the edit when asked. The refused save must not then open its
    conflict view with the other item's text as the edit: Overwrite there would write it over
    the first item."""
    from syncmap_tui.ui.dialogs.confirm import UnsavedChangesDialog
    from syncmap_tui.ui.dialogs.conflict import ConflictDialog

    from .helpers import answer

    app = build_app(SERVICE, "orders", "order-0001")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        sid = screen.session.map_sid
        first = screen.session.base.data
        await other_writer.update_item(SERVICE, sid, "order-0001", data={**first, "status": "theirs"}, if_match="0")
        set_editor_json(pilot, {**first, "status": "mine"})
        client = screen.client
        slow_answer, asked = hold_fetched_items(client, "order-0001")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: asked, what="the refused save's fetch to be sent")
        table = screen.item_table
        table.focus()
        assert table.select_key("order-0002")
        await pilot.press("enter")
        await answer(pilot, UnsavedChangesDialog, "discard")
        editor = screen.editor
        for _ in range(100):  # asked again once order-0002 has arrived: the edit is still there
            await pilot.pause(0.01)
            if isinstance(app.screen, UnsavedChangesDialog):
                await answer(pilot, UnsavedChangesDialog, "discard")
                break
            if editor.open_item.key == "order-0002":
                break
        await wait_until(pilot, lambda: editor.open_item is not None and editor.open_item.key == "order-0002",
                         what="order-0002 to open")
        shown = json.loads(editor.text)
        slow_answer.set()
        for _ in range(100):
            await pilot.pause(0.01)
            if isinstance(app.screen, ConflictDialog):
                pytest.fail("the refused save of order-0001 opened its conflict view with order-0002's text as the edit")
        await settle(pilot)
        assert editor.open_item.key == "order-0002"
        assert json.loads(editor.text) == shown
    current = await other_writer.fetch_item(SERVICE, sid, "order-0001")
    assert current.data["status"] == "theirs"
