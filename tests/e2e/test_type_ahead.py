"""End to end: typing on through a slow save never answers the conflict dialog that the save opens.

The real `syncmap-tui` in a pty against a `syncmap-tui emulator --latency` whose writes take 1.5 s.
Someone else changes the item; the user edits, presses ctrl+s and keeps typing "lorem ipsum dolor
sit amet" at a fast typist's pace (30-80 ms a key) while the save travels, so the dialog appears
mid-word and the letters of "dolor", "sit" and "amet" (o, t, m) arrive before, as and well after
it does. Before the type-ahead guard, the `o` chose Overwrite (the other writer's data was gone,
the toast said "Saved") or the `t` chose Take theirs.
"""

from __future__ import annotations

import json
import random
import time

import pexpect
import pytest

from .conftest import CTRL_S, DOWN, LEFT, Emulator, Terminal, child_env

ITEM_PATH = "/v1/Services/demo-store/Maps/orders/Items/order-0001"
SAVE_LATENCY_SECONDS = 1.5
SENTENCE = "lorem ipsum dolor sit amet "
DIALOG_TITLE = "Someone else changed this item"
KEEP_TYPING_AFTER_THE_DIALOG_SECONDS = 1.5
"""Three times the guard: letters land both inside it and after it, as a typist's would (and at
least the whole sentence is typed after the dialog showed)."""


TYPISTS = {
    "fast typist": (0.03, 0.08),
    "burst (a paste without bracketed paste)": (0.005, 0.015),
    "slow typist": (0.12, 0.25),
}
"""Seconds between keys: the slow typist's keys mostly land after the guard, where no letter answers."""


@pytest.mark.parametrize("typist", list(TYPISTS))
def test_typing_on_through_a_slow_save_does_not_answer_the_conflict_dialog(typist, isolated_home, tmp_path, start_app):
    emulator = Emulator("--seed", env=child_env(), log=tmp_path / "emulator.stderr")
    try:
        with emulator.client() as server:
            app = start_app("demo-store", "orders", "order-0001", "--base-url", emulator.url)
            app.wait_for('"status": "paid"', "✓ valid JSON")
            theirs = {"status": "cancelled", "by": "the other writer"}
            response = server.post(ITEM_PATH, data={"Data": json.dumps(theirs)})
            assert response.status_code == 200, response.text
            slow_writes = {"latency": SAVE_LATENCY_SECONDS, "methods": "POST"}  # the app's save, not the change above
            server.post("/__emulator__/faults", json=slow_writes).raise_for_status()

            app.send(DOWN)
            app.wait_for_cursor_on('"status": "paid"')
            # The typist writes inside a string value, so the JSON stays valid and the save's 412
            # opens the conflict dialog (text that does not parse opens none: it is said instead).
            app.send('"mine": "", ' + LEFT * 3)
            app.wait_for('"mine": "",', "● modified", "✓ valid JSON")
            app.send(CTRL_S)

            pace = random.Random(10)
            typed_after_dialog = ""
            dialog_seen_at = None
            index = 0
            while (
                dialog_seen_at is None
                or time.monotonic() - dialog_seen_at < KEEP_TYPING_AFTER_THE_DIALOG_SECONDS
                or len(typed_after_dialog) < len(SENTENCE)  # every letter of it, after the guard too
            ):
                key = SENTENCE[index % len(SENTENCE)]
                app.send(key)
                index += 1
                if dialog_seen_at is not None:
                    typed_after_dialog += key
                read_until(app, time.monotonic() + pace.uniform(*TYPISTS[typist]))
                if dialog_seen_at is None and DIALOG_TITLE in app.text():
                    dialog_seen_at = time.monotonic()
                assert index < 2000, f"the conflict dialog never showed:\n{app.text()}"
            assert {"o", "t", "m"} <= set(typed_after_dialog), typed_after_dialog

            app.settle(quiet=0.5)
            screen = app.text()
            assert DIALOG_TITLE in screen, f"a typed key answered the dialog:\n{screen}"
            assert "Saved" not in screen, screen
            item = server.get(ITEM_PATH).json()
            assert item["data"] == theirs, "the other writer's data was overwritten"
    finally:
        status = emulator.stop()
    assert status == 0, emulator.stderr()


def read_until(app: Terminal, deadline: float) -> None:
    """Feed the app's output to its screen until `deadline`, and no later: Terminal.pump may read
    on for half a second while the app writes, which would slow the typist down."""
    while (left := deadline - time.monotonic()) > 0:
        try:
            data = app.child.read_nonblocking(65536, timeout=left)
        except pexpect.TIMEOUT:
            return
        app.raw += data
        app.stream.feed(data)
