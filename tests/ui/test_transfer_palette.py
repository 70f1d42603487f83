"""The palette's "Export map…" and "Import into map…" on the open map (issue #14 part 3)."""

from __future__ import annotations

import json
import stat

from textual.widgets import Input, Static

from syncmap_tui.config import Target
from syncmap_tui.ui.commands import ACTIONS
from syncmap_tui.ui.dialogs.confirm import ConfirmDialog
from syncmap_tui.ui.dialogs.file_path import FilePathDialog

from .conftest import EMBEDDED
from .helpers import SIZE, SERVICE, answer, main_screen, record_notifications, settle, wait_for_screen, wait_until


async def give_path(pilot, path) -> None:
    dialog = await wait_for_screen(pilot, FilePathDialog)
    field = dialog.query_one("#export-path", Input)
    field.value = str(path)
    field.focus()
    await pilot.press("enter")


def test_the_palette_lists_both():
    actions = {action for _, action, _ in ACTIONS}
    assert {"export_map", "import_into_map"} <= actions


async def test_export_then_import_into_other_maps_through_the_palette(build_app, emulator, tmp_path, other_writer):
    """Export, a refused second export, an import preview cancelled then confirmed, and both dialogs
    on a map named like markup: one app, each step on a map the previous step left as it was."""
    from syncmap_tui.emulator import DEFAULT_ACCOUNT_SID
    from syncmap_tui.ui.widgets.navigator import MapEntry

    markup_name = "[bold red]m[/]"
    emulator.store.create_map(DEFAULT_ACCOUNT_SID, SERVICE, unique_name=markup_name)
    path = tmp_path / "carts.jsonl"
    app = build_app(SERVICE, "carts")
    async with app.run_test(size=SIZE) as pilot:
        told = record_notifications(app)
        await settle(pilot)
        main = main_screen(pilot)
        await main.run_action("export_map")
        await give_path(pilot, path)
        await settle(pilot)
        assert any("Exported 2 items of 'carts'" in message for message in told), f"export: {told}"
        lines = path.read_text().splitlines()
        assert [json.loads(line).get("key") for line in lines] == [None, "cart-1", "cart-2"], "export: the file"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, "export: a private file"

        # Again to the same file: refused, the file kept.
        await main.run_action("export_map")
        await give_path(pilot, path)
        await settle(pilot)
        assert any("exists already; nothing was written" in message for message in told), f"second export: {told}"
        assert path.read_text().splitlines() == lines, "second export: the file kept"

        empty = await other_writer.fetch_map(SERVICE, "empty")
        service = await other_writer.fetch_service(SERVICE)
        main.open_map_from_palette(MapEntry(service, empty))
        await settle(pilot)

        # Cancelling the preview writes nothing.
        await main.run_action("import_into_map")
        await give_path(pilot, path)
        await answer(pilot, ConfirmDialog, False)
        await settle(pilot)
        assert [item.key async for item in other_writer.list_items(service.sid, empty.sid)] == [], "a cancelled preview wrote"

        await main.run_action("import_into_map")
        await give_path(pilot, path)
        dialog = await wait_for_screen(pilot, ConfirmDialog)
        shown = str(dialog.query_one("#confirm-fields", Static).render())
        assert "2 would be created" in shown, f"import preview: {shown}"
        assert [item.key async for item in other_writer.list_items(service.sid, empty.sid)] == [], "the preview wrote"
        await answer(pilot, ConfirmDialog, True)
        await settle(pilot)
        assert [item.key async for item in other_writer.list_items(service.sid, empty.sid)] == ["cart-1", "cart-2"], "import: the items"
        assert set(main.item_table.items) == {"cart-1", "cart-2"}, "the list shows what was imported"
        assert any("2 created" in message for message in told), f"import: {told}"

        # A map named like markup is shown literally in both dialogs.
        (marked,) = [m async for m in other_writer.list_maps(service.sid) if m.unique_name == markup_name]
        main.open_map_from_palette(MapEntry(service, marked))
        await settle(pilot)
        await main.run_action("export_map")
        dialog = await wait_for_screen(pilot, FilePathDialog)
        assert markup_name in str(dialog.query_one(".dialog-title", Static).render()), "the export dialog's title"
        await pilot.press("escape")
        await settle(pilot)
        await main.run_action("import_into_map")
        await give_path(pilot, path)
        confirm = await wait_for_screen(pilot, ConfirmDialog)
        assert f"map: {markup_name}" in str(confirm.query_one("#confirm-fields", Static).render()), "the import preview's map"
        await answer(pilot, ConfirmDialog, False)
        await settle(pilot)


async def test_read_only_refuses_the_import(build_app, tmp_path):
    read_only = Target(**{**EMBEDDED.__dict__, "read_only": True})
    app = build_app(SERVICE, "empty", target=read_only)
    async with app.run_test(size=SIZE) as pilot:
        told = record_notifications(app)
        await settle(pilot)
        await main_screen(pilot).run_action("import_into_map")
        await settle(pilot)
        assert not isinstance(app.screen, FilePathDialog)
        assert any("read-only" in message for message in told), told


async def test_escape_cancels_an_import_and_says_what_it_did(build_app, emulator, tmp_path, other_writer):
    path = tmp_path / "many.jsonl"
    path.write_text("".join(f'{{"key":"k{n:03}","data":{{"n":{n}}}}}\n' for n in range(200)))
    app = build_app(SERVICE, "empty")
    async with app.run_test(size=SIZE) as pilot:
        told = record_notifications(app)
        await settle(pilot)
        await main_screen(pilot).run_action("import_into_map")
        await give_path(pilot, path)
        emulator.faults.update({"latency": 0.02, "methods": ["POST"]})
        await answer(pilot, ConfirmDialog, True)
        await wait_until(pilot, lambda: "importing" in str(main_screen(pilot).header.query_one("#activity", Static).render()),
                         what="the import under way")
        await pilot.press("escape")
        await settle(pilot)
    empty = await other_writer.fetch_map(SERVICE, "empty")
    written = [item.key async for item in other_writer.list_items(empty.service_sid, empty.sid)]
    assert 0 < len(written) < 200
    assert [message for message in told if message.startswith("Cancelled")] == [
        next(message for message in told if message.startswith("Cancelled. Interrupted the import"))
    ], told
    assert "goes on where this stopped" in told[-1], told
