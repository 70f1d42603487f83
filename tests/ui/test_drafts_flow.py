"""Edits survive: drafts are written while typing, offered on the next start, and a crash keeps them."""

from __future__ import annotations

import json

import pytest

from syncmap_tui.drafts import Draft, DraftStore
from syncmap_tui.emulator import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
from syncmap_tui.config import embedded_db_path, state_dir
from syncmap_tui.ui.dialogs.conflict import ConflictDialog
from syncmap_tui.ui.dialogs.drafts import RecoverDraftDialog
from syncmap_tui.ui.dialogs.file_path import FilePathDialog
from syncmap_tui.ui.widgets.editor import ItemEditor

from .helpers import SERVICE, answer, main_screen, record_notifications, set_editor_json, settle, wait_for_screen, wait_until

SIZE = (100, 30)


def drafts_on_disk() -> list[Draft]:
    return DraftStore().load_all()


async def test_typing_writes_a_draft_and_saving_removes_it(build_app):
    app = build_app(SERVICE, "orders", "order-0050")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        set_editor_json(pilot, {"typed": "not saved yet"})
        await wait_until(pilot, lambda: len(drafts_on_disk()) == 1, what="the draft on disk")
        (draft,) = drafts_on_disk()
        assert draft.key == "order-0050" and draft.base_revision == "0"
        assert json.loads(draft.text) == {"typed": "not saved yet"}
        assert json.loads(draft.base_data)["customer"]["name"] == "Customer 50"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert drafts_on_disk() == []


async def draft_for(other_writer, key: str, text: str, base_revision: str, base_data: dict) -> Draft:
    sync_map = await other_writer.fetch_map(SERVICE, "orders")
    service = await other_writer.fetch_service(SERVICE)
    draft = Draft(
        account_sid=DEFAULT_ACCOUNT_SID,
        base_url=f"embedded:{embedded_db_path()}",
        target_label="local emulator",
        service_sid=service.sid,
        map_sid=sync_map.sid,
        key=key,
        base_revision=base_revision,
        text=text,
        item_ttl="",
        collection_ttl="",
        base_data=json.dumps(base_data),
    )
    DraftStore().save(draft)
    return draft


async def test_a_draft_is_offered_on_start_and_opens_dirty(build_app, other_writer):
    sid = (await other_writer.fetch_map(SERVICE, "orders")).sid
    current = await other_writer.fetch_item(SERVICE, sid, "order-0051")
    await draft_for(other_writer, "order-0051", '{"recovered": true}', current.revision, current.data)
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        dialog = await wait_for_screen(pilot, RecoverDraftDialog)
        assert "order-0051" in str(dialog.query_one("#draft-fields").render())
        await pilot.click("#open")
        await settle(pilot)
        editor = main_screen(pilot).query_one(ItemEditor)
        assert editor.open_item.key == "order-0051"
        assert json.loads(editor.text) == {"recovered": True}
        assert editor.is_dirty
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert (await other_writer.fetch_item(SERVICE, sid, "order-0051")).data == {"recovered": True}
        assert drafts_on_disk() == []


async def test_a_draft_whose_item_moved_goes_to_the_conflict_dialog(build_app, other_writer):
    sid = (await other_writer.fetch_map(SERVICE, "orders")).sid
    base = await other_writer.fetch_item(SERVICE, sid, "order-0052")
    await draft_for(other_writer, "order-0052", json.dumps({**base.data, "mine": 1}), base.revision, base.data)
    await other_writer.update_item(SERVICE, sid, "order-0052", data={**base.data, "theirs": 2}, if_match=None)
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_screen(pilot, RecoverDraftDialog)
        await pilot.click("#open")
        await answer(pilot, ConflictDialog, "merge")
        await settle(pilot)
        editor = main_screen(pilot).editor
        assert json.loads(editor.text) == {**base.data, "mine": 1, "theirs": 2}
        # Merge saves, as Overwrite does: the recovered edit is on the server with theirs.
        assert (await other_writer.fetch_item(SERVICE, sid, "order-0052")).data == {**base.data, "mine": 1, "theirs": 2}
        assert not editor.is_dirty


async def test_a_draft_can_be_saved_to_a_file_or_discarded(build_app, other_writer, tmp_path):
    await draft_for(other_writer, "order-0053", "{ not json yet", "0", {})
    await draft_for(other_writer, "order-0054", '{"drop": 1}', "0", {})
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        first = await wait_for_screen(pilot, RecoverDraftDialog)
        exported_key = first.draft.key
        await pilot.click("#export")
        dialog = await wait_for_screen(pilot, FilePathDialog)
        dialog.query_one("#export-path").value = str(tmp_path / "mine.json")
        await pilot.click("#save")
        second = await wait_for_screen(pilot, RecoverDraftDialog)
        assert second.draft.key != exported_key
        await pilot.click("#discard")
        await settle(pilot)
    assert drafts_on_disk() == []
    expected = "{ not json yet" if exported_key == "order-0053" else '{"drop": 1}'
    assert (tmp_path / "mine.json").read_text(encoding="utf-8") == expected


async def test_a_crash_keeps_the_draft_and_shows_no_secret(build_app, monkeypatch):
    app = build_app(SERVICE, "orders", "order-0055")
    with pytest.raises(RuntimeError, match="boom"):
        await crash_while_editing(app, monkeypatch)
    assert app.return_code == 1
    (draft,) = drafts_on_disk()
    assert json.loads(draft.text) == {"typed before the crash": True}
    reports = list(state_dir().glob("crash-*.txt"))
    assert len(reports) == 1
    report = reports[0].read_text()
    assert "RuntimeError" in report and DEFAULT_AUTH_TOKEN not in report
    assert reports[0].stat().st_mode & 0o077 == 0


async def crash_while_editing(app, monkeypatch) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        set_editor_json(pilot, {"typed before the crash": True})
        await pilot.pause()
        main = main_screen(pilot)

        def broken(*_args):
            raise RuntimeError(f"boom with {DEFAULT_AUTH_TOKEN} inside")

        monkeypatch.setattr(type(main), "action_refresh", broken)
        await pilot.press("ctrl+r")
        await pilot.pause()


async def test_save_to_file_suggests_a_private_folder_and_says_the_full_path(build_app, other_writer):
    """Issue #15: "Save to file" wrote into the current directory and the toast gave no full path."""
    from syncmap_tui.drafts import default_exports_dir

    await draft_for(other_writer, "order-0056", '{"kept": 1}', "0", {})
    app = build_app()
    told = record_notifications(app)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_screen(pilot, RecoverDraftDialog)
        await pilot.click("#export")
        dialog = await wait_for_screen(pilot, FilePathDialog)
        suggested = dialog.query_one("#export-path").value
        assert suggested == str(default_exports_dir() / "order-0056.json")
        await pilot.click("#save")
        await settle(pilot)
    written = default_exports_dir() / "order-0056.json"
    assert written.read_text(encoding="utf-8") == '{"kept": 1}'
    assert oct(written.parent.stat().st_mode & 0o777) == "0o700"
    assert any(str(written.resolve()) in message for message in told), told


async def test_the_draft_dialog_names_the_service_and_the_map(build_app, other_writer):
    """Issue #15: the dialog showed the SIDs of the service and the map, which have names."""
    await draft_for(other_writer, "order-0057", '{"kept": 1}', "0", {})
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        dialog = await wait_for_screen(pilot, RecoverDraftDialog)
        fields = str(dialog.query_one("#draft-fields").render())
        assert "map: orders" in fields and "service: Demo Store" in fields, fields
        assert "MP" not in fields and "IS" not in fields, fields
