"""The edit lifecycle through the real screen (issue #10): each test is one case that lost an edit or
wrote over someone's change before the edit session existed."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from textual.widgets import Input

from syncmap_tui.config import Target, embedded_db_path
from syncmap_tui.drafts import KEPT_SLOT, Draft, DraftStore
from syncmap_tui.instances import InstanceLock, new_instance_id
from syncmap_tui.emulator import DEFAULT_ACCOUNT_SID
from syncmap_tui.emulator.faults import WRITE_METHODS
from syncmap_tui.sync.models import format_datetime
from syncmap_tui.sync.validation import encode_data
from syncmap_tui.ui import formatting
from syncmap_tui.ui.dialogs.confirm import ConfirmDialog, UnsavedChangesDialog
from syncmap_tui.ui.dialogs.conflict import ConflictDialog
from syncmap_tui.ui.dialogs.create import NewItemDialog
from syncmap_tui.ui.dialogs.drafts import RecoverDraftDialog

from syncmap_tui.ui.widgets.navigator import MapEntry

from .conftest import PINNED_NOW
from .helpers import (
    SIZE,
    SERVICE,
    answer,
    main_screen,
    record_notifications,
    set_editor_json,
    settle,
    wait_for_screen,
    wait_until,
)

READ_ONLY = Target(label="read-only test", base_url=None, credentials=None, is_embedded_emulator=True, read_only=True)


def drafts_on_disk() -> list[Draft]:
    return DraftStore().load_all()


def heading(pilot) -> str:
    return main_screen(pilot).editor.query_one("#editor-heading").render().plain


async def orders_sid(client) -> str:
    return (await client.fetch_map(SERVICE, "orders")).sid


async def test_case_2_a_draft_is_not_saved_over_an_item_created_again(build_app, other_writer):
    """Edit, kill -9, the item is deleted and created again (revision 0 again), restart, Open: the
    conflict view says it is another item; nothing is written."""
    sid = await orders_sid(other_writer)
    loaded = await other_writer.fetch_item(SERVICE, sid, "order-0021")
    dead = new_instance_id()
    DraftStore().save(Draft(
        account_sid=DEFAULT_ACCOUNT_SID, base_url=f"embedded:{embedded_db_path()}", target_label="local emulator",
        service_sid=loaded.service_sid, map_sid=sid, key="order-0021", base_revision=loaded.revision,
        text='{"mine": true}', item_ttl="", collection_ttl="", base_data=json.dumps(loaded.data),
        base_created=format_datetime(loaded.date_created), instance=dead,
    ))
    await other_writer.delete_item(SERVICE, sid, "order-0021", if_match=None)
    await other_writer.create_item(SERVICE, sid, "order-0021", {"someone": "else"})  # revision 0 again
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await answer(pilot, RecoverDraftDialog, "open")
        dialog = await wait_for_screen(pilot, ConflictDialog)
        assert dialog.view.recreated
        await answer(pilot, ConflictDialog, "back")
        await settle(pilot)
        assert json.loads(main_screen(pilot).editor.text) == {"mine": True}
        # The dead instance's draft became this instance's: one draft, ours.
        assert [d.instance for d in drafts_on_disk()] == [main_screen(pilot).draft_keeper.instance]
        await pilot.press("ctrl+s")
        await answer(pilot, ConflictDialog, "back")
        await settle(pilot)
    current = await other_writer.fetch_item(SERVICE, sid, "order-0021")
    assert current.data == {"someone": "else"} and current.revision == "0"


async def test_case_3_text_typed_while_the_save_travels_reaches_the_disk(build_app, emulator, other_writer):
    app = build_app(SERVICE, "orders", "order-0022")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(pilot)
        set_editor_json(pilot, {"first": 1})
        await pilot.pause()
        emulator.faults.update({"latency": 0.6, "methods": WRITE_METHODS})
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: main.session.in_flight is not None, what="the save on its way")
        set_editor_json(pilot, {"first": 1, "typed": "while it travelled"})
        await settle(pilot)
        emulator.faults.reset()
        assert (await other_writer.fetch_item(SERVICE, await orders_sid(other_writer), "order-0022")).data == {"first": 1}
        # The newer text stays on disk, now on top of the save that landed (revision 1).
        await wait_until(
            pilot, lambda: [(d.base_revision, "while it travelled" in d.text) for d in drafts_on_disk()] == [("1", True)],
            what="the newer text in a draft on revision 1",
        )
        path = main.flush_drafts()
        assert path is not None and path.exists()


async def test_case_4_another_instances_draft_is_neither_deleted_nor_offered(build_app, other_writer):
    sid = await orders_sid(other_writer)
    loaded = await other_writer.fetch_item(SERVICE, sid, "order-0023")
    alive = InstanceLock(DraftStore(), new_instance_id())
    alive.acquire()
    try:
        theirs = Draft(
            account_sid=DEFAULT_ACCOUNT_SID, base_url=f"embedded:{embedded_db_path()}", target_label="local emulator",
            service_sid=loaded.service_sid, map_sid=sid, key="order-0023", base_revision="0",
            text='{"other instance": true}', item_ttl="", collection_ttl="", instance=alive.instance,
        )
        DraftStore().save(theirs)
        app = build_app(SERVICE, "orders", "order-0023")
        told = record_notifications(app)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert not isinstance(app.screen, RecoverDraftDialog)
            set_editor_json(pilot, {"this instance": True})
            await wait_until(pilot, lambda: len(drafts_on_disk()) == 2, what="this instance's own draft")
            await pilot.press("ctrl+s")
            await settle(pilot)
            assert [d.instance for d in drafts_on_disk()] == [alive.instance]
            assert any("another syncmap-tui that is still running" in t for t in told)
    finally:
        alive.release()


@pytest.mark.long
async def test_take_theirs_keeps_the_edit_on_disk_throughout_and_f4_brings_it_back_when_reopened(build_app, other_writer):
    """Take theirs, twice (formerly five tests, one app each): after an expiry-only edit, F4 keeps
    their data; then one take theirs followed from the answer to the item opened again: the edit
    is on disk at every moment, kept in a draft the crash screen names, and F4 brings it back once
    its item is opened again."""
    app = build_app(SERVICE, "orders", "order-0028")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(pilot)
        sid = await orders_sid(other_writer)

        # Case 15: F4 after a TTL-only take theirs keeps their data.
        main.editor.item_ttl.value = "3600"
        await pilot.pause()
        await other_writer.update_item(SERVICE, sid, "order-0028", data={"theirs": "changed"}, if_match=None)
        await pilot.press("ctrl+s")
        await answer(pilot, ConflictDialog, "theirs")
        await settle(pilot)
        main.editor.json_area.focus()
        await pilot.press("f4")
        await pilot.pause()
        assert json.loads(main.editor.text) == {"theirs": "changed"} and main.editor.item_ttl.value == "3600", (
            "TTL-only take theirs: F4 did not keep their data with my expiry"
        )
        await pilot.press("ctrl+s")
        await settle(pilot)
        item = await other_writer.fetch_item(SERVICE, sid, "order-0028")
        assert item.data == {"theirs": "changed"} and item.date_expires is not None, (
            "TTL-only take theirs: the save after F4 lost their data or my expiry"
        )
        assert drafts_on_disk() == [], "TTL-only take theirs: a draft is left after the save"

        # One take theirs, from the answer to the item opened again (a draft of order-0031 only).
        main.open_key_from_palette("order-0031")
        await settle(pilot)
        base = json.loads(main.editor.text)
        mine = {**base, "mine": 1}
        await other_writer.update_item(SERVICE, sid, "order-0031", data={**base, "theirs": 1}, if_match=None)
        set_editor_json(pilot, mine)
        await wait_until(pilot, lambda: len(drafts_on_disk()) == 1, what="the edit's draft")
        await pilot.press("ctrl+s")
        await answer(pilot, ConflictDialog, "theirs")

        # Take theirs never leaves a moment with the edit on disk nowhere.
        for _ in range(20):  # the kept draft replaces the edit's: never neither on disk
            assert any(json.loads(d.text) == mine for d in drafts_on_disk()), "take theirs: a moment with the edit on disk nowhere"
            await pilot.pause(0.05)
        await settle(pilot)

        # Case 5: take theirs keeps the edit in a draft.
        assert not main.editor.is_dirty, "take theirs: the editor is left modified"
        await wait_until(pilot, lambda: any(d.slot == KEPT_SLOT for d in drafts_on_disk()), what="the kept draft")
        (kept,) = [d for d in drafts_on_disk() if d.slot == KEPT_SLOT]
        assert json.loads(kept.text) == mine and kept.base_revision == "0", "take theirs: the kept draft is not the edit on revision 0"
        assert "your edit is kept: F4" in heading(pilot), "take theirs: the heading does not say the edit is kept"

        # The crash screen names the kept edit's draft when the editor is clean.
        path = main.flush_drafts()
        assert path is not None and path.exists(), "crash screen: the kept edit's draft is not named"
        assert json.loads(DraftStore().load(path.stem).text) == mine, "crash screen: the draft named is not the kept edit"

        # The kept edit follows its item when it is opened again.
        main.open_key_from_palette("order-0032")
        await settle(pilot)
        assert main.session.key == "order-0032" and main.session.kept is None, "reopen: the kept edit followed another item"
        assert any(d.slot == KEPT_SLOT and d.key == "order-0031" for d in drafts_on_disk()), "reopen: the kept draft left the disk"
        main.open_key_from_palette("order-0031")
        await settle(pilot)
        assert "your edit is kept: F4" in heading(pilot), "reopen: the item opened again does not offer its kept edit"
        main.editor.json_area.focus()
        await pilot.press("f4")
        await pilot.pause()
        assert json.loads(main.editor.text) == {**mine, "theirs": 1}, "reopen: F4 did not merge the kept edit into theirs"


async def test_formatting_only_is_not_modified_and_refresh_says_the_editor_is_behind(build_app, other_writer):
    """Two headings of one item (formerly two tests, one app each): F3 alone is formatting only; an
    edit refreshed under someone's newer save is behind, and F6 shows the diff."""
    app = build_app(SERVICE, "orders", "order-0025")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(pilot)

        # Case 10: formatting only is not modified.
        main.editor.json_area.focus()
        await pilot.press("f3")
        await pilot.pause(0.1)
        assert "formatting only" in heading(pilot) and "modified" not in heading(pilot), "F3: the heading is not formatting only"
        assert not main.editor.modified, "F3: formatting only counts as modified"

        # Case 7: refresh says the editor is behind, and F6 shows the diff.
        sid = await orders_sid(other_writer)
        set_editor_json(pilot, {"mine": 1})
        await other_writer.update_item(SERVICE, sid, "order-0025", data={"theirs": 1}, if_match=None)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert "server has revision 1, you have 0" in heading(pilot), "refresh: the heading does not say the editor is behind"
        main.editor.json_area.focus()
        await pilot.press("f6")
        dialog = await wait_for_screen(pilot, ConflictDialog)
        assert dialog.view.theirs.data == {"theirs": 1} and dialog.view.mine_data == {"mine": 1}, "F6: the diff is not theirs against mine"
        await answer(pilot, ConflictDialog, "back")
        await settle(pilot)
        assert "server has revision 1, you have 0" in heading(pilot), "F6 back: the heading forgot the editor is behind"
        assert (await other_writer.fetch_item(SERVICE, sid, "order-0025")).data == {"theirs": 1}, "F6 back: something was written"


async def test_case_9_a_read_only_session_refuses_writes_before_any_dialog(build_app):
    app = build_app(SERVICE, "orders", "order-0026", target=READ_ONLY)
    async with app.run_test(size=SIZE) as pilot:
        told = record_notifications(app)
        await settle(pilot)
        main = main_screen(pilot)
        before = main.editor.text
        main.editor.json_area.focus()
        await pilot.press("x", "y")
        assert main.editor.text == before and "read-only" in heading(pilot)
        main.item_table.focus()
        for key in ("n", "d", "ctrl+s"):
            await pilot.press(key)
            await pilot.pause()
            assert app.screen is main, key
        main.navigator.focus()
        await pilot.press("m")
        await pilot.pause()
        assert app.screen is main
        assert sum("read-only" in t for t in told) >= 3


async def test_case_11_a_save_never_lands_blind_on_an_expired_and_recreated_item(
    build_app, emulator, other_writer, monkeypatch
):
    sid = await orders_sid(other_writer)
    service_sid = (await other_writer.fetch_service(SERVICE)).sid
    emulator.store.create_item(DEFAULT_ACCOUNT_SID, service_sid, sid, "short-lived", encode_data({"v": 1}), ttl=40)
    app = build_app(SERVICE, "orders", "short-lived")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        set_editor_json(pilot, {"v": "mine"})
        later = PINNED_NOW + timedelta(seconds=41)
        monkeypatch.setattr(formatting, "now_utc", lambda: later)
        emulator.store.clock = lambda: later
        await other_writer.create_item(SERVICE, sid, "short-lived", {"v": "someone else's"})
        await pilot.press("ctrl+s")
        dialog = await wait_for_screen(pilot, ConflictDialog)
        assert dialog.view.recreated
        await answer(pilot, ConflictDialog, "back")
        await settle(pilot)
    assert (await other_writer.fetch_item(SERVICE, sid, "short-lived")).data == {"v": "someone else's"}


async def test_case_12_opening_another_item_or_map_waits_for_the_save(build_app, emulator, other_writer):
    app = build_app(SERVICE, "orders", "order-0040")
    async with app.run_test(size=SIZE) as pilot:
        told = record_notifications(app)
        await settle(pilot)
        main = main_screen(pilot)
        set_editor_json(pilot, {"for": "order-0040"})
        await pilot.pause()
        emulator.faults.update({"latency": 0.6, "methods": WRITE_METHODS})
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: main.session.in_flight is not None, what="the save on its way")
        main.open_key_from_palette("order-0041")
        await pilot.pause(0.05)
        catalog = await other_writer.fetch_map(SERVICE, "catalog")
        main.open_map_from_palette(MapEntry(main.current_map.service, catalog))
        await settle(pilot)
        emulator.faults.reset()
        assert any("on its way" in t for t in told)
        assert main.editor.open_item.key == "order-0040" and main.session.key == "order-0040"
        assert not main.editor.is_dirty
    sid = await orders_sid(other_writer)
    assert (await other_writer.fetch_item(SERVICE, sid, "order-0040")).data == {"for": "order-0040"}
    assert (await other_writer.fetch_item(SERVICE, sid, "order-0041")).revision == "0"


async def test_case_13_escape_during_a_slow_create_keeps_the_new_item(build_app, emulator):
    app = build_app(SERVICE, "orders")
    told = record_notifications(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(pilot)
        main.item_table.focus()
        await pilot.press("n")
        dialog = await wait_for_screen(pilot, NewItemDialog)
        await pilot.press(*"brand-new")
        dialog.query_one("#new-data").load_text('{"made": "by hand"}')
        emulator.faults.update({"latency": 0.8, "methods": WRITE_METHODS})
        dialog.query_one("#create").press()
        await wait_until(pilot, lambda: main.item_flows.creating is not None, what="the create on its way")
        await pilot.press("escape")
        await settle(pilot)
        emulator.faults.reset()
        assert not any("still in the editor" in t for t in told), told  # no item is open: it would be false
        assert any("n reopens them" in t for t in told)
        await wait_until(pilot, lambda: any(d.key == "brand-new" for d in drafts_on_disk()), what="a draft of it")
        main.item_table.focus()
        await pilot.press("n")
        reopened = await wait_for_screen(pilot, NewItemDialog)
        assert reopened.typed().key == "brand-new" and json.loads(reopened.typed().text) == {"made": "by hand"}


async def test_case_13_quitting_with_the_new_item_dialog_open_asks_keeps_a_draft_and_discard_leaves_none(build_app):
    """ctrl+q with the new item dialog open, answered twice (formerly two tests, one app each):
    Cancel returns to the dialog with a draft of it on disk; Discard quits and leaves no draft."""
    app = build_app(SERVICE, "orders")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main_screen(pilot).item_table.focus()
        await pilot.press("n")
        dialog = await wait_for_screen(pilot, NewItemDialog)

        # Case 13: quitting asks, and keeps a draft.
        await pilot.press(*"half-typed")
        await pilot.press("ctrl+q")
        await wait_for_screen(pilot, UnsavedChangesDialog)
        assert any(d.key == "half-typed" and d.base_revision is None for d in drafts_on_disk()), "quit: no draft of the new item"
        await answer(pilot, UnsavedChangesDialog, "cancel")
        await pilot.pause()
        assert app.screen is dialog, "quit, cancel: the new item dialog is gone"

        # Quitting with the new item dialog open and Discard leaves no draft (not even the one
        # the first ctrl+q wrote).
        await pilot.press("ctrl+q")
        await answer(pilot, UnsavedChangesDialog, "discard")
        await pilot.pause(0.3)
    assert not any(d.key == "half-typed" for d in drafts_on_disk()), "quit, discard: a draft of the new item is left"


async def test_a_new_items_key_typed_over_after_a_quit_leaves_no_draft_when_discarded(build_app):
    """Found while merging the two ctrl+q tests above: a ctrl+q answered Cancel keeps the new item's
    draft under its key; with the key typed over, the next ctrl+q kept a second draft beside it,
    and Discard dropped only that one: the first stayed, and the next start offered it."""
    app = build_app(SERVICE, "orders")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main_screen(pilot).item_table.focus()
        await pilot.press("n")
        dialog = await wait_for_screen(pilot, NewItemDialog)
        await pilot.press(*"half-typed")
        await pilot.press("ctrl+q")
        await answer(pilot, UnsavedChangesDialog, "cancel")
        await pilot.pause()
        dialog.query_one("#new-key", Input).value = "dropped"
        await pilot.press("ctrl+q")
        await answer(pilot, UnsavedChangesDialog, "cancel")
        await pilot.pause()
        assert [d.key for d in drafts_on_disk()] == ["dropped"], "quit, cancel: one draft, under the key as typed now"
        await pilot.press("ctrl+q")
        await answer(pilot, UnsavedChangesDialog, "discard")
        await pilot.pause(0.3)
    assert [d.key for d in drafts_on_disk()] == [], "quit, discard: a draft of the new item under an earlier key is left"


@pytest.mark.long
async def test_an_edits_draft_is_named_only_while_there_and_deleting_its_item_or_map_asks_and_removes_it(
    build_app, other_writer
):
    """An unsaved edit's draft (formerly three tests, one app each): the crash screen names it only
    while it is on disk; deleting the item, then (on another map's item) the map, asks about the
    edit and removes its draft."""
    app = build_app(SERVICE, "orders", "order-0029")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(pilot)

        # The crash screen never names a draft file that is not there.
        set_editor_json(pilot, {"typed": 1})
        await wait_until(pilot, lambda: len(drafts_on_disk()) == 1, what="the draft")
        path = main.flush_drafts()
        assert path is not None and path.exists(), "crash screen: the edit's draft is not named"
        path.unlink()  # gone behind the app's back (a full disk's cleanup, a user): nothing pending now
        assert main.flush_drafts() is None, "crash screen: names a draft file that is not there"

        # Case 16: deleting the open modified item asks and removes its draft (a new edit: a new draft).
        set_editor_json(pilot, {"unsaved": True})
        await wait_until(pilot, lambda: len(drafts_on_disk()) == 1, what="the new edit's draft")
        main.item_table.focus()
        main.item_table.select_key("order-0029")
        await pilot.press("d")
        await answer(pilot, UnsavedChangesDialog, "discard")
        await answer(pilot, ConfirmDialog, True)
        await settle(pilot)
        assert main.editor.open_item is None and drafts_on_disk() == [], "delete: the item or its draft is still there"

        # Case 16: deleting the open map asks about the unsaved edit (carts, opened from a clean start:
        # no item open, no draft).
        carts = await other_writer.fetch_map(SERVICE, "carts")
        main.open_map_from_palette(MapEntry(main.current_map.service, carts))
        await settle(pilot)
        main.open_key_from_palette("cart-1")
        await settle(pilot)
        assert main.editor.open_item is not None and main.editor.open_item.key == "cart-1", "cart-1 did not open"
        set_editor_json(pilot, {"unsaved": True})
        await wait_until(pilot, lambda: len(drafts_on_disk()) == 1, what="the draft of cart-1")
        main.navigator.focus()
        await pilot.press("D")
        await answer(pilot, UnsavedChangesDialog, "cancel")
        await settle(pilot)
        assert main.editor.open_item is not None and len(drafts_on_disk()) == 1, "delete map, cancel: the edit or its draft is gone"
        await pilot.press("D")
        await answer(pilot, UnsavedChangesDialog, "discard")
        await answer(pilot, ConfirmDialog, True)
        await settle(pilot)
        assert main.editor.open_item is None and drafts_on_disk() == [], "delete map: the item or its draft is still there"
