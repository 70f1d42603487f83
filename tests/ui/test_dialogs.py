"""The conflict, merge, deleted and confirm dialogs, and the header, as a keyboard user meets them.

Each test here failed on the code before issue #10: letters answered the conflict dialog, enter
recreated a deleted item, the merge dialog's arrows moved a highlight that Apply ignored, the view
was two-way and cut long values, TTLs were not in it, and "(read-only)" could be cut off.
"""

from __future__ import annotations

import json
import re
import string

import pytest
from rich.text import Text
from textual import events
from textual.widgets import Button, OptionList, Static

from syncmap_tui.config import Target
from syncmap_tui.sync.errors import ItemNotFound
from syncmap_tui.ui.type_ahead import TYPE_AHEAD_GUARD_SECONDS
from syncmap_tui.ui.dialogs.base import ChoiceButton
from syncmap_tui.ui.dialogs.conflict import REVERTED_SIGN, ConflictDialog, DeletedDialog
from syncmap_tui.ui.dialogs.merge import MergeDialog, SideChoice
from syncmap_tui.ui.widgets.header import NOTICE_MAX_WIDTH, HeaderBar

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


async def orders_sid(client) -> str:
    return (await client.fetch_map(SERVICE, "orders")).sid


async def conflict(pilot, other_writer, *, theirs=None, mine=None, their_ttl=None, my_ttl=None) -> ConflictDialog:
    """Another writer saves `theirs` (and/or an ItemTtl) over the open item; the user saves `mine`
    (and/or an ItemTtl). Either may be a function of the loaded data."""
    main = main_screen(pilot)
    item = main.editor.open_item
    loaded = item.item.data
    theirs_data = theirs(loaded) if callable(theirs) else theirs
    await other_writer.update_item(SERVICE, item.map_sid, item.key, data=theirs_data, item_ttl=their_ttl, if_match=None)
    if mine is not None:
        set_editor_json(pilot, mine(loaded) if callable(mine) else mine)
    if my_ttl is not None:
        main.editor.item_ttl.value = str(my_ttl)
    await pilot.pause()
    await pilot.press("ctrl+s")
    return await wait_for_screen(pilot, ConflictDialog)


def row_lines(dialog: ConflictDialog) -> list[str]:
    return [option.prompt.plain for option in dialog.query_one("#conflict-rows", OptionList).options]


def reverts_line(dialog: ConflictDialog) -> str:
    return shown(dialog.query_one("#overwrite-reverts", Static))


def shown(widget: Static) -> str:
    return widget.render().plain if isinstance(widget.render(), Text) else str(widget.render())


def key_stamped(key: str, at: float) -> events.Key:
    """A key as the terminal driver stamps it, typed at `at` on Textual's message clock."""
    event = events.Key(key, key if len(key) == 1 else None)
    event.time = at
    return event


# --- case 1: type-ahead ---------------------------------------------------------------------------


async def test_keys_typed_before_or_just_after_the_dialog_appeared_do_not_answer_it(build_app, other_writer):
    app = build_app(SERVICE, "orders", "order-0101", dialog_guard_seconds=TYPE_AHEAD_GUARD_SECONDS)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        dialog = await conflict(pilot, other_writer, theirs={"theirs": 1}, mine={"mine": 1})
        await wait_until(pilot, lambda: dialog.keys_accepted_from < float("inf"), what="the dialog on the screen")
        opened = dialog.keys_accepted_from - TYPE_AHEAD_GUARD_SECONDS
        bells = []
        app.bell = lambda: bells.append(1)
        dialog.query_one("#back", Button).focus()  # even enter on Back must wait for the guard
        await pilot.pause()
        assert dialog.has_class("-guarded")  # the buttons look dimmed meanwhile
        for stamp in (opened - 0.2, opened + 0.01, dialog.keys_accepted_from - 0.01):
            for key in ("enter", "escape"):
                app.post_message(key_stamped(key, stamp))
                await pilot.pause()
                assert app.screen is dialog, f"{key} typed at {stamp - opened:+.2f} s answered the dialog"
        assert bells == [1]  # one bell says the keys went nowhere, not one a key
        await wait_until(pilot, lambda: not dialog.has_class("-guarded"), what="the guard to end", rounds=500)
        app.post_message(key_stamped("escape", dialog.keys_accepted_from))
        await settle(pilot)
        assert app.screen is main_screen(pilot) and main_screen(pilot).editor.is_dirty


# --- case 8: the three-way view --------------------------------------------------------------------


async def test_the_view_says_who_changed_what_and_what_overwrite_reverts(build_app, other_writer):
    app = build_app(SERVICE, "orders", "order-0106")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        dialog = await conflict(
            pilot, other_writer,
            theirs=lambda base: {**base, "status": "shipped", "carrier": "DHL", "total_cents": 1},
            mine=lambda base: {**base, "note": "mine", "carrier": "DHL", "total_cents": 2},
        )
        who = {path: line for line in row_lines(dialog) for path in line.split() if path.startswith("$.")}
        assert who["$.status"].split()[-3:] == ['"paid"', "→", '"shipped"'] and " they " in who["$.status"]
        assert " you " in who["$.note"] and " both = " in who["$.carrier"] and " both ≠ " in who["$.total_cents"]
        reverts = reverts_line(dialog)
        assert reverts == "Overwrite reverts 2 change(s) of theirs (↺): $.status, $.total_cents"
        await answer(pilot, ConflictDialog, "back")


# --- remote text, read-only, 80 columns ---------------------------------------------------------------


async def test_remote_text_shows_literally_in_the_table_the_editor_and_the_conflict_view(build_app, other_writer):
    """The table, heading and header, then the editor on another item, then the conflict view on
    the first item again (opened from the table: the editor is clean)."""
    app = build_app(SERVICE, "edge-cases", "[bold red]x")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        main = main_screen(pilot)

        # Markup-like keys and escape sequences show literally (moved from test_flows.py).
        cells = [main.item_table.get_row(key)[0] for key in main.item_table.items]
        assert all(isinstance(cell, Text) for cell in cells), "table cells are Text, not markup"
        plain = {cell.plain for cell in cells}
        assert "[bold]x[/bold]" in plain and "[bold red]x" in plain, f"markup-like keys literally: {plain}"
        assert not any(cell.spans for cell in cells), "no style from a key"
        heading = main.editor.query_one("#editor-heading").render()
        assert heading.plain.startswith("[bold red]x"), "the editor heading shows the key literally"
        assert "[bold red]x" in main.header.query_one("#location").render().plain, "the header shows the key literally"

        main.item_table.focus()
        main.item_table.select_key("escape-sequence")
        await pilot.press("enter")
        await settle(pilot)
        assert "\x1b" not in main.editor.text, "no raw escape in the editor"
        assert "\\u001b[2J" in main.editor.text, "the escape shows escaped in the editor"

        # Remote text in the conflict view shows literally.
        main.item_table.focus()
        main.item_table.select_key("[bold red]x")
        await pilot.press("enter")
        await settle(pilot)
        assert main.editor.open_item.key == "[bold red]x", "the markup-like key opened again"
        dialog = await conflict(
            pilot, other_writer,
            theirs=lambda base: {**base, "[b]k[/b]": "[red]v\x1b[31m"},
            mine=lambda base: {**base, "value": "\u202emine"},
        )
        assert shown(dialog.query_one("#conflict-summary", Static)).startswith("[bold red]x: you loaded")
        lines = row_lines(dialog)
        assert any('$["[b]k[/b]"]' in line and '"[red]v\\u001b[31m"' in line for line in lines), lines
        assert any('"\\u202emine"' in line for line in lines), lines
        for option in dialog.query_one("#conflict-rows", OptionList).options:
            assert "\x1b" not in option.prompt.plain and "\u202e" not in option.prompt.plain
        theirs_row = next(index for index, line in enumerate(lines) if "[b]k[/b]" in line)
        dialog.query_one("#conflict-rows", OptionList).highlighted = theirs_row
        await pilot.pause()
        detail = shown(dialog.query_one("#conflict-detail-text", Static))
        assert "[red]v\\u001b[31m" in detail and "\x1b" not in detail
        await answer(pilot, ConflictDialog, "back")


async def test_a_read_only_session_is_offered_no_write(build_app, other_writer):
    target = Target(label="ro", base_url=None, credentials=None, is_embedded_emulator=True, read_only=True)
    app = build_app(target=target)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        from syncmap_tui.sync.conflict import ThreeWay

        item = await other_writer.fetch_item(SERVICE, await orders_sid(other_writer), "order-0111")
        view = ThreeWay(item, item, {"mine": 1}, None, None)
        app.push_screen(ConflictDialog(view, read_only=True))
        dialog = await wait_for_screen(pilot, ConflictDialog)
        assert [b.id for b in dialog.query(ChoiceButton)] == ["back", "theirs"]
        app.push_screen(DeletedDialog("order-0111", read_only=True))
        deleted = await wait_for_screen(pilot, DeletedDialog)
        assert [b.id for b in deleted.query(ChoiceButton)] == ["back", "discard"]


async def test_every_button_of_the_conflict_dialog_is_whole_at_80_by_24(build_app, other_writer):
    """The fullest view: a key that wraps the summary, more rows than fit, a TTL conflict and a
    list of reverted paths that wraps."""
    key = "customer-account-" + "x" * 60
    base = {f"field_with_a_long_name_{n:02}": n for n in range(24)}
    sid = await orders_sid(other_writer)
    await other_writer.create_item(SERVICE, sid, key, base)
    app = build_app(SERVICE, "orders", key)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        theirs = {name: value + 100 if value % 2 else value for name, value in base.items()}
        mine = {name: value + 200 if value % 3 == 0 else value for name, value in base.items()}
        dialog = await conflict(pilot, other_writer, theirs=theirs, mine=mine, their_ttl=3600, my_ttl=60)
        lines = row_lines(dialog)
        assert len(lines) > 10
        # Long paths are cut in the middle: paths that differ only at the end stay apart.
        paths = [re.search(r"\$\.field\S*", line).group() for line in lines if "$.field" in line]
        assert len(set(paths)) == len(paths) == 16 and paths[1] == "$.field_wi…ong_name_01"
        assert any(REVERTED_SIGN in line and "name_01" in line for line in lines)
        box = dialog.query_one("#conflict").content_region
        assert pilot.app.screen.region.contains_region(dialog.query_one("#conflict").region)
        for button in dialog.query(ChoiceButton):
            assert box.contains_region(button.region), (button.id, button.region, box)
            assert button.region.width >= len(str(button.label)), button.id
        await answer(pilot, ConflictDialog, "back")


# --- case 9: the header -----------------------------------------------------------------------------

LONG_LABEL = "acme-production-eu-west-1-customer-facing-sync-account"


@pytest.mark.parametrize("production", [False, True])
async def test_the_header_always_shows_read_only_and_cuts_the_label_instead(build_app, production):
    target = Target(label=LONG_LABEL, base_url=None, credentials=None, read_only=True, production=production)
    app = build_app(SERVICE, "orders", "order-0001", target=target)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        header = main_screen(pilot).header
        flag = header.query_one("#read-only", Static)
        assert shown(flag).strip() == "READ-ONLY" and flag.region.width == len(" READ-ONLY ")
        assert header.region.contains_region(flag.region)
        target_widget = header.query_one("#target", Static)
        assert target_widget.region.width < len(LONG_LABEL)  # the label is cut, not the flag
        assert target_widget.region.right <= flag.region.x
        if production:
            assert shown(target_widget).startswith("PRODUCTION ")
        header.show_notice("behind-server", "server has revision 9, you have 3 " * 3, "warning")
        header.show_notice("watch", "watching", "information")
        header.show_activity("checking whether the save arrived…")
        await pilot.pause()
        assert header.region.contains_region(flag.region) and flag.region.width == len(" READ-ONLY ")


async def test_the_view_shows_what_overwrite_sends_even_if_the_editor_changed_during_the_save(
    build_app, emulator, other_writer
):
    """Mine is read when the conflict is met, and that is what the view shows and Overwrite sends:
    text typed while the save travelled that does not parse opens no view (it is said, and kept);
    once it parses, the view shows it."""
    app = build_app(SERVICE, "orders", "order-0113")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(pilot)
        told = record_notifications(app)
        sid = main.editor.open_item.map_sid
        await other_writer.update_item(SERVICE, sid, "order-0113", data={"theirs": 1}, if_match=None)
        set_editor_json(pilot, {"mine": 1})
        await pilot.pause()
        emulator.faults.update({"latency": 0.3, "methods": ["POST"]})
        await pilot.press("ctrl+s")
        main.editor.replace_text('{"mine": 1, lorem ipsum')
        await settle(pilot)
        assert not isinstance(app.screen, ConflictDialog)
        assert any("Fix this first" in message for message in told), told
        assert main.editor.text == '{"mine": 1, lorem ipsum'
        assert (await other_writer.fetch_item(SERVICE, sid, "order-0113")).data == {"theirs": 1}

        set_editor_json(pilot, {"mine": 2})
        await pilot.press("ctrl+s")
        dialog = await wait_for_screen(pilot, ConflictDialog)
        assert any("$.mine" in line and " you " in line for line in row_lines(dialog)), row_lines(dialog)
        assert reverts_line(dialog) == "Overwrite reverts 1 change(s) of theirs (↺): $.theirs"
        await answer(pilot, ConflictDialog, "back")


async def test_a_click_in_the_guard_time_does_not_answer_either(build_app, other_writer):
    """A click meant for the editor can land on a button that just appeared under the pointer."""
    app = build_app(SERVICE, "orders", "order-0114", dialog_guard_seconds=TYPE_AHEAD_GUARD_SECONDS)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        dialog = await conflict(pilot, other_writer, theirs={"theirs": 1}, mine={"mine": 1})
        await wait_until(pilot, lambda: dialog.keys_accepted_from < float("inf"), what="the dialog on the screen")
        overwrite = dialog.query_one("#overwrite", Button)
        for stamp in (dialog.keys_accepted_from - TYPE_AHEAD_GUARD_SECONDS, dialog.keys_accepted_from - 0.01):
            for event in click_stamped(overwrite, stamp):
                app.post_message(event)  # as the terminal driver does (Pilot.click skips the app)
            await pilot.pause()
            assert app.screen is dialog
        server = await other_writer.fetch_item(SERVICE, await orders_sid(other_writer), "order-0114")
        assert server.data == {"theirs": 1}
        for event in click_stamped(dialog.query_one("#back", Button), dialog.keys_accepted_from):
            app.post_message(event)
        await settle(pilot)
        assert app.screen is main_screen(pilot)


def click_stamped(widget, at: float) -> list[events.MouseEvent]:
    """Press and release on `widget`, stamped `at`: the app makes a Click of the two."""
    x, y = widget.region.offset
    stamped = []
    for kind in (events.MouseDown, events.MouseUp):
        event = kind(
            widget=None, x=x, y=y, delta_x=0, delta_y=0, button=1, shift=False, meta=False, ctrl=False,
            screen_x=x, screen_y=y,
        )
        event.time = at
        stamped.append(event)
    return stamped


async def test_overwrite_after_a_second_write_during_the_dialog_shows_the_new_version_first(build_app, other_writer):
    """Overwrite writes over what the dialog showed, never over what came after it unseen."""
    app = build_app(SERVICE, "orders", "order-0115")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        first = await conflict(pilot, other_writer, theirs={"theirs": 1}, mine={"mine": 1})
        sid = await orders_sid(other_writer)
        await other_writer.update_item(SERVICE, sid, "order-0115", data={"theirs": 2, "later": True}, if_match=None)
        await answer(pilot, ConflictDialog, "overwrite")
        second = await wait_until_new_dialog(pilot, first)
        assert second.theirs.data == {"theirs": 2, "later": True}
        assert any("$.later" in line and REVERTED_SIGN in line for line in row_lines(second))
        assert (await other_writer.fetch_item(SERVICE, sid, "order-0115")).data == {"theirs": 2, "later": True}
        await answer(pilot, ConflictDialog, "back")


async def wait_until_new_dialog(pilot, old: ConflictDialog) -> ConflictDialog:
    def new_dialog() -> bool:
        return isinstance(pilot.app.screen, ConflictDialog) and pilot.app.screen is not old

    await wait_until(pilot, new_dialog, what="a new conflict dialog")
    return await wait_for_screen(pilot, ConflictDialog)


async def test_a_dialog_opened_to_type_into_takes_keys_at_once(build_app):
    """The guard is for dialogs that appear on their own: the new-item dialog, opened by `n`, gets
    the key name typed right after."""
    from syncmap_tui.ui.dialogs.create import NewItemDialog

    app = build_app(SERVICE, "orders", dialog_guard_seconds=TYPE_AHEAD_GUARD_SECONDS)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main_screen(pilot).item_table.focus()
        await pilot.press("n")
        dialog = await wait_for_screen(pilot, NewItemDialog)
        await pilot.press(*"fresh-key")
        assert dialog.query_one("#new-key").value == "fresh-key"
        await pilot.press("escape")


# --- merged scenarios: one app start for several dialogs of the same set-up ----------------------------
# An app start costs ~0.27 s of CPU with a deep link (measured, issue #12). Each step below starts
# from what the one before left: a conflict answered Back keeps the edit on the loaded revision, so
# the next save meets a new conflict against the other writer's new version (which replaces the
# data whole); each step says in its messages which behaviour it checks.


@pytest.mark.long
async def test_one_item_through_the_merge_conflict_and_deleted_dialogs(build_app, other_writer):
    app = build_app(SERVICE, "orders", "order-0102")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        sid = await orders_sid(other_writer)

        # Case 6, the merge dialog: arrows, space and enter choose what Apply saves.
        await conflict(
            pilot, other_writer,
            theirs=lambda base: {**base, "status": "theirs", "total_cents": 1, "note": "t"},
            mine=lambda base: {**base, "status": "mine", "total_cents": 2, "note": "m"},
        )
        await answer(pilot, ConflictDialog, "merge")
        dialog = await wait_for_screen(pilot, MergeDialog)
        choices = list(dialog.query(SideChoice))
        assert [c.conflict.path for c in choices] == [("status",), ("total_cents",), ("note",)], "merge: a choice a path"
        assert choices[0].has_focus and "▶ $.status" in choices[0].render().plain, "merge: the first path has the focus"
        assert "(•) mine" in choices[0].render().plain and "( ) theirs" in choices[0].render().plain, "merge: mine by default"

        await pilot.press("down")  # the arrow chooses: what is marked is what is chosen
        assert choices[0].side == "theirs" and "(•) theirs" in choices[0].render().plain, "merge: down chooses theirs"
        await pilot.press("enter")  # on to the next path; never Apply from a path
        assert choices[1].has_focus and app.screen is dialog, "merge: enter on a path goes to the next"
        await pilot.press("space")
        assert choices[1].side == "theirs", "merge: space toggles to theirs"
        await pilot.press("space")
        assert choices[1].side == "mine", "merge: space toggles back to mine"
        await pilot.press("enter", "right", "left", "right")
        assert choices[2].side == "theirs", "merge: left and right choose"
        apply = dialog.query_one("#apply", Button)
        unfocused_label = str(apply.label)
        await pilot.press("enter")
        assert apply.has_focus and str(apply.label) != unfocused_label and "▶" in str(apply.label), "merge: enter on the last path focuses Apply"
        assert dialog.choices() == {("status",): "theirs", ("total_cents",): "mine", ("note",): "theirs"}, "merge: the choices"
        await pilot.press("enter")
        await settle(pilot)
        server = await other_writer.fetch_item(SERVICE, sid, "order-0102")
        assert (server.data["status"], server.data["total_cents"], server.data["note"]) == ("theirs", 2, "t"), "merge: Apply saves the choices"

        # No printable key answers the conflict dialog.
        dialog = await conflict(pilot, other_writer, theirs={"theirs": 1}, mine={"mine": 1})
        for key in string.ascii_letters + string.digits + string.punctuation + " ":
            await pilot.press(key)
        await pilot.pause()
        assert app.screen is dialog, "a printable key answered the conflict dialog"
        server = await other_writer.fetch_item(SERVICE, sid, "order-0102")
        assert server.data == {"theirs": 1}, "a printable key wrote over theirs"
        await answer(pilot, ConflictDialog, "back")

        # Focus shows without colour, and the arrows move along the buttons.
        dialog = await conflict(pilot, other_writer, theirs={"theirs": 1}, mine={"mine": 1})
        rows = dialog.query_one("#conflict-rows", OptionList)
        assert rows.has_focus and row_lines(dialog)[0].startswith("▶ "), "the focused row is marked"
        assert all(not line.startswith("▶") for line in row_lines(dialog)[1:]), "only the focused row is marked"
        buttons = list(dialog.query(ChoiceButton))
        assert [b.id for b in buttons] == ["back", "merge", "theirs", "overwrite"], "the buttons' order"
        assert not any("▶" in str(b.label) for b in buttons), "no button is marked while the rows have the focus"
        buttons[0].focus()
        for expected in ("back", "merge", "theirs", "overwrite", "overwrite"):
            await pilot.pause()
            marked = [b.id for b in buttons if str(b.label).startswith("▶ ")]
            assert marked == [expected], f"right along the buttons: {expected} is marked, not {marked}"
            await pilot.press("right")
        await pilot.press("left", "left", "left", "left")
        assert app.focused is buttons[0], "left goes back to the first button"
        await answer(pilot, ConflictDialog, "back")

        # Case 8: a write that changed nothing shows nothing of theirs.
        dialog = await conflict(
            pilot, other_writer, theirs=lambda base: base, mine=lambda base: {**base, "status": "x"}
        )
        assert "They changed nothing" in shown(dialog.query_one("#conflict-summary", Static)), "their empty write is said"
        lines = row_lines(dialog)
        assert len(lines) == 1 and " you " in lines[0] and "$.status" in lines[0], f"only my row: {lines}"
        assert reverts_line(dialog) == "Overwrite reverts none of their changes.", "nothing of theirs to revert"
        await answer(pilot, ConflictDialog, "back")

        # Long values can be read in full.
        long_note = "".join(f"word{n} " for n in range(300)).strip()
        dialog = await conflict(
            pilot, other_writer,
            theirs=lambda base: {**base, "note": long_note},
            mine=lambda base: {**base, "status": "x"},
        )
        rows = dialog.query_one("#conflict-rows", OptionList)
        rows.highlighted = next(index for index, line in enumerate(row_lines(dialog)) if "$.note" in line)
        await pilot.pause()
        assert rows.virtual_size.height == len(row_lines(dialog)), "a row is one line, cut"
        detail = shown(dialog.query_one("#conflict-detail-text", Static))
        assert json.dumps(long_note) in detail, "the pane below holds the value whole"
        scroll = dialog.query_one("#conflict-detail")
        assert scroll.max_scroll_y > 0 and scroll.focusable, "tab reaches the pane, to scroll it"
        await answer(pilot, ConflictDialog, "back")

        # Enter in the deleted dialog goes back to editing, and letters do nothing.
        await other_writer.delete_item(SERVICE, sid, "order-0102", if_match=None)
        set_editor_json(pilot, {"mine": 1})
        await pilot.pause()
        await pilot.press("ctrl+s")
        dialog = await wait_for_screen(pilot, DeletedDialog)
        assert "▶ Back to editing ◀" in str(dialog.query_one("#back", Button).label), "Back has the focus"
        for key in "rdRD y":
            await pilot.press(key)
        assert app.screen is dialog, "a letter answered the deleted dialog"
        await pilot.press("enter")
        await settle(pilot)
        with pytest.raises(ItemNotFound):
            await other_writer.fetch_item(SERVICE, sid, "order-0102")
        editor = main_screen(pilot).editor
        assert json.loads(editor.text) == {"mine": 1} and editor.is_dirty, "enter went back to the edit, kept"


async def test_ttls_in_the_conflict_view(build_app, other_writer):
    """Case 14: the TTLs in the view; the ItemTtl the first step types is cleared before the second."""
    app = build_app(SERVICE, "orders", "order-0109")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)

        # Their TTL and mine are a conflict row, and Overwrite says it reverts theirs.
        dialog = await conflict(pilot, other_writer, their_ttl=3600, my_ttl=60)
        summary = shown(dialog.query_one("#conflict-summary", Static))
        assert "only the revision moved" not in summary and "changed nothing" not in summary, summary
        lines = row_lines(dialog)
        assert len(lines) == 1 and " both ≠ " in lines[0] and "expiry" in lines[0], f"one expiry row: {lines}"
        assert "2026-01-15 13:00:00Z" in lines[0] and "1m after the save" in lines[0], f"both expiries: {lines}"
        detail = shown(dialog.query_one("#conflict-detail-text", Static))
        assert "theirs: 2026-01-15 13:00:00Z (in 1h)" in detail and "mine: 1m after the save (ItemTtl 60)" in detail, detail
        assert "Overwrite reverts this change of theirs." in detail, detail
        assert reverts_line(dialog) == "Overwrite reverts 1 change(s) of theirs (↺): expiry", "the expiry is reverted"
        await answer(pilot, ConflictDialog, "back")

        # Their TTL beside my data change is kept by Overwrite.
        main_screen(pilot).editor.item_ttl.value = ""
        dialog = await conflict(pilot, other_writer, their_ttl=3600, mine=lambda base: {**base, "status": "x"})
        lines = row_lines(dialog)
        assert [" you " in lines[0], " they " in lines[1] and "expiry" in lines[1]] == [True, True], f"my row, their expiry: {lines}"
        assert reverts_line(dialog) == "Overwrite reverts none of their changes.", "their expiry is kept"
        await answer(pilot, ConflictDialog, "overwrite")
        await settle(pilot)
        server = await other_writer.fetch_item(SERVICE, await orders_sid(other_writer), "order-0109")
        assert server.data["status"] == "x" and server.date_expires is not None, "overwrite kept their expiry"


async def test_at_80_columns_the_deleted_dialog_is_whole_and_header_notices_stack(build_app):
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)

        # Every button of the deleted dialog is whole at 80 columns, expired or not.
        for expired in (False, True):
            app.push_screen(DeletedDialog("order-0001-with-a-rather-long-key-name", expired=expired))
            dialog = await wait_for_screen(pilot, DeletedDialog)
            box = dialog.query_one("#deleted").content_region
            for button in dialog.query(ChoiceButton):
                assert box.contains_region(button.region), (expired, button.id, button.region, box)
                assert button.region.width >= len(str(button.label)), (expired, button.id)
            app.pop_screen()
            await pilot.pause()
            assert not isinstance(app.screen, DeletedDialog)

        # Header notices are kept per source, and the most severe shows.
        header = pilot.app.screen.query_one(HeaderBar)
        notice = header.query_one("#notice", Static)
        header.show_notice("watch", "watching [b]orders[/b]")
        assert shown(notice) == "watching [b]orders[/b]", "a notice shows literally"
        header.show_notice("behind-server", "server has revision 9, you have 3, and a lot more text", "warning")
        text = shown(notice)
        assert text.startswith("⚠ server has revision 9") and text.endswith("… +1"), f"the warning shows first: {text}"
        assert len(text) <= NOTICE_MAX_WIDTH - 2 and notice.has_class("-warning"), f"the warning is cut: {text}"
        header.clear_notice("behind-server")
        assert shown(notice) == "watching [b]orders[/b]" and not notice.has_class("-warning"), "the notice under it comes back"
        header.clear_notice("watch")
        assert shown(notice) == "", "no notice left"
