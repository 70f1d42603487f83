"""Issue #11, item 4: 16 KB pasted as keystrokes (no bracketed paste) is inserted as one edit,
not 16,000; the order of other keys is kept, and single keystrokes stay single edits. Counts work
(edits), not time: bench/bench_key_storm.py times it."""

from __future__ import annotations

import json

from textual import events
from textual.keys import _character_to_key

from syncmap_tui.ui.widgets.json_area import JsonArea

from .helpers import SIZE, SERVICE, main_screen, settle


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


async def start_again(pilot, area: JsonArea, text: str) -> None:
    """The next step starts from the order as opened: its text back, the cursor between members,
    the focus in the editor, and a person's pause since the last key (no storm carried over)."""
    area.load_text(text)
    area.focus()
    area.move_cursor((1, 0))
    await settle(pilot)
    await pilot.pause(0.05)
    assert area.text == text and area.has_focus, "the order is back as opened"


def post_keys(app, characters: str) -> None:
    for character in characters:  # as the driver posts them: all queued before the app runs
        app.post_message(key_event(character))


async def test_bursts_of_keys_in_one_order_are_single_edits_in_order_and_keep_the_focus(build_app, monkeypatch):
    app = build_app(SERVICE, "orders", "order-0001")
    async with app.run_test(size=SIZE) as pilot:
        area = await open_order(pilot)
        opened = area.text
        edits = count_edits(monkeypatch)

        # A 16 KB paste as keys is one edit.
        members = "".join(f'  "k{n:04}": "{"x" * 20}",\n' for n in range(500))
        assert len(members) >= 16_000
        post_keys(app, members)
        await settle(pilot)
        assert len(edits) <= 3, f"16 KB paste: {len(edits)} edits"  # one per burst the queue was read in
        assert "".join(edits) == members, "16 KB paste: the text inserted"
        value = json.loads(area.text)
        assert value["k0499"] == "x" * 20 and len([k for k in value if k.startswith("k0")]) == 500, "16 KB paste: the members"

        # A key that is not text inserts the burst before it acts.
        await start_again(pilot, area, opened)
        for event in [key_event("a"), key_event("b"), events.Key("left", None)]:
            app.post_message(event)
        await settle(pilot)
        # Collected to the end of the burst, "ab" would land where the arrow had moved the cursor.
        assert area.text.split("\n")[1].startswith("ab  ") and area.cursor_location == (1, 1), "an arrow after a burst"
        assert area.text.replace("ab", "", 1) == opened, "an arrow after a burst: nothing else changed"

        # A tab or line feed inside a burst is text and keeps the focus.
        await start_again(pilot, area, opened)
        # A tab would move the focus to the item table, where the rest of the paste would act
        # as commands; a line feed (LF, from tools that type text) is read as ctrl+j.
        for event in [key_event("x"), key_event("\t"), key_event("y"), events.Key("ctrl+j", "\n"), key_event("z")]:
            app.post_message(event)
        await settle(pilot)
        assert area.has_focus and area.text.split("\n")[1:3] == ["x\ty", 'z  "status": "paid",'], "a tab and a line feed in a burst"

        # A paste read in two pieces is one storm: the app caught up with the first piece before
        # the second came: a tab that starts the second piece, read 5 ms after the first piece's
        # last key, is still text (the focus stays).
        await start_again(pilot, area, opened)
        first = [key_event(character) for character in "ab"]
        for event in first:
            app.post_message(event)
        await settle(pilot)
        second = [key_event(character) for character in "\tc\n"]
        for offset, event in enumerate(second):
            event.time = first[-1].time + 0.005 + offset * 1e-6
            app.post_message(event)
        await settle(pilot)
        assert area.has_focus and area.text.split("\n")[1:3] == ["ab\tc", '  "status": "paid",'], "a paste in two pieces"

        # The cursor is in view after a burst of many lines (60 lines: more than the editor's
        # height at this size).
        await start_again(pilot, area, opened)
        post_keys(app, "".join(f'  "k{n:04}": 1,\n' for n in range(60)))
        await settle(pilot)
        row = area.cursor_location[0]
        assert row == 61 and area.scroll_y <= row < area.scroll_y + area.content_size.height, "the cursor in view after many lines"
        assert area.content_size.height < 61, "the burst was taller than the editor"

        # Single keystrokes stay single edits and a tab alone moves the focus (last: it takes the
        # focus away).
        await start_again(pilot, area, opened)
        edits.clear()
        for character in "xyz":
            await pilot.press(character)
        assert edits == ["x", "y", "z"], "single keystrokes"
        await pilot.pause(0.05)  # as a person types: not within a storm's gap of the last key
        await pilot.press("tab")
        assert not area.has_focus and edits == ["x", "y", "z"], "a tab alone moves the focus"
