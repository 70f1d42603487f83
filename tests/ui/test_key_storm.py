"""Issue #11, item 4: 16 KB pasted as keystrokes (no bracketed paste) is inserted as one edit,
not 16,000; the order of other keys is kept, and single keystrokes stay single edits. Counts work
(edits), not time: bench/bench_key_storm.py times it."""

from __future__ import annotations

import json

from textual import events
from textual.keys import _character_to_key

from syncmap_tui.ui.widgets.json_area import JsonArea

from .helpers import SERVICE, main_screen, settle

SIZE = (100, 30)


def key_event(character: str) -> events.Key:
    """The event Textual's driver makes for a character read from the terminal."""
    if character == "\n":
        return events.Key("enter", "\r")
    if character == "\t":
        return events.Key("tab", "\t")
    return events.Key(_character_to_key(character), character)


def count_edits(monkeypatch) -> list[str]:
    made: list[str] = []
    edit = JsonArea.edit

    def counting(self, change):
        made.append(change.text)
        return edit(self, change)

    monkeypatch.setattr(JsonArea, "edit", counting)
    return made


async def open_order(pilot) -> JsonArea:
    await settle(pilot)
    area = main_screen(pilot).editor.json_area
    area.focus()
    area.move_cursor((1, 0))  # the start of the second line: between members
    await pilot.pause()
    return area


async def test_a_16_kb_paste_as_keys_is_one_edit(build_app, monkeypatch):
    app = build_app(SERVICE, "orders", "order-0001")
    async with app.run_test(size=SIZE) as pilot:
        area = await open_order(pilot)
        edits = count_edits(monkeypatch)
        members = "".join(f'  "k{n:04}": "{"x" * 20}",\n' for n in range(500))
        assert len(members) >= 16_000
        for character in members:  # as the driver posts them: all queued before the app runs
            app.post_message(key_event(character))
        await settle(pilot)
        assert len(edits) <= 3, len(edits)  # one per burst the queue was read in
        assert "".join(edits) == members
        value = json.loads(area.text)
        assert value["k0499"] == "x" * 20 and len([k for k in value if k.startswith("k0")]) == 500


async def test_a_key_that_is_not_text_inserts_the_burst_before_it_acts(build_app):
    app = build_app(SERVICE, "orders", "order-0001")
    async with app.run_test(size=SIZE) as pilot:
        area = await open_order(pilot)
        before = area.text
        for event in [key_event("a"), key_event("b"), events.Key("left", None)]:
            app.post_message(event)
        await settle(pilot)
        # Collected to the end of the burst, "ab" would land where the arrow had moved the cursor.
        assert area.text.split("\n")[1].startswith("ab  ") and area.cursor_location == (1, 1)
        assert area.text.replace("ab", "", 1) == before


async def test_a_tab_or_line_feed_inside_a_burst_is_text_and_keeps_the_focus(build_app):
    app = build_app(SERVICE, "orders", "order-0001")
    async with app.run_test(size=SIZE) as pilot:
        area = await open_order(pilot)
        # A tab would move the focus to the item table, where the rest of the paste would act
        # as commands; a line feed (LF, from tools that type text) is read as ctrl+j.
        for event in [key_event("x"), key_event("\t"), key_event("y"), events.Key("ctrl+j", "\n"), key_event("z")]:
            app.post_message(event)
        await settle(pilot)
        assert area.has_focus and area.text.split("\n")[1:3] == ["x\ty", 'z  "status": "paid",']


async def test_single_keystrokes_stay_single_edits_and_a_tab_alone_moves_the_focus(build_app, monkeypatch):
    app = build_app(SERVICE, "orders", "order-0001")
    async with app.run_test(size=SIZE) as pilot:
        area = await open_order(pilot)
        edits = count_edits(monkeypatch)
        for character in "xyz":
            await pilot.press(character)
        assert edits == ["x", "y", "z"]
        await pilot.pause(0.05)  # as a person types: not within a storm's gap of the last key
        await pilot.press("tab")
        assert not area.has_focus and edits == ["x", "y", "z"]


async def test_the_cursor_is_in_view_after_a_burst_of_many_lines(build_app):
    app = build_app(SERVICE, "orders", "order-0001")
    async with app.run_test(size=(80, 24)) as pilot:
        area = await open_order(pilot)
        for character in "".join(f'  "k{n:04}": 1,\n' for n in range(60)):
            app.post_message(key_event(character))
        await settle(pilot)
        row = area.cursor_location[0]
        assert row == 61 and area.scroll_y <= row < area.scroll_y + area.content_size.height


async def test_a_paste_read_in_two_pieces_is_one_storm(build_app):
    """The app caught up with the first piece before the second came: a tab that starts the second
    piece, read 5 ms after the first piece's last key, is still text (the focus stays)."""
    app = build_app(SERVICE, "orders", "order-0001")
    async with app.run_test(size=SIZE) as pilot:
        area = await open_order(pilot)
        first = [key_event(character) for character in "ab"]
        for event in first:
            app.post_message(event)
        await settle(pilot)
        second = [key_event(character) for character in "\tc\n"]
        for offset, event in enumerate(second):
            event.time = first[-1].time + 0.005 + offset * 1e-6
            app.post_message(event)
        await settle(pilot)
        assert area.has_focus and area.text.split("\n")[1:3] == ["ab\tc", '  "status": "paid",']
