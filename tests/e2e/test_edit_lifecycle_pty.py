"""End to end (issue #10): text typed while a slow save travels, and the edit kept after "take theirs",
both survive kill -9 of the real process and are offered on the next start."""

from __future__ import annotations

import json
import os
import re
import signal

from syncmap_tui.drafts import KEPT_SLOT, DraftStore

from .conftest import CTRL_S, DOWN, ENTER, SHIFT_TAB

ITEM = "/v1/Services/demo-store/Maps/orders/Items/{}"


def focused_button(screen: str) -> str | None:
    """The label of the button with the focus, which shows as ▶ … ◀."""
    found = re.search(r"▶ (.+?) ◀", screen)
    return found.group(1) if found else None


def drafts() -> list:
    return DraftStore().load_all()


def test_text_typed_while_a_slow_save_travels_survives_kill_9(emulator, start_app):
    app = start_app("demo-store", "orders", "order-0003", "--base-url", emulator.url)
    app.wait_for('"status": "delivered"', "✓ valid JSON")
    app.send(DOWN)
    app.wait_for_cursor_on('"status": "delivered"')
    app.send('"saved": "slowly", ')
    app.wait_for('"saved": "slowly",', "● modified")
    with emulator.client() as control:
        control.post("/__emulator__/faults", json={"latency": 8, "methods": ["POST", "DELETE"]}).raise_for_status()
    app.send(CTRL_S)
    app.wait_for("saving…")
    app.send('"typed": "meanwhile", ')
    app.wait_for('"typed": "meanwhile",')
    # Within a second of typing stopping, while the save still travels, the newer text is on disk.
    app.wait_until(lambda _text: any('"typed": "meanwhile"' in d.text for d in drafts()), what="the newer draft")
    os.kill(app.child.pid, signal.SIGKILL)
    app.wait_for_exit()
    with emulator.client() as control:
        control.post("/__emulator__/faults", json={"latency": 0}).raise_for_status()

    again = start_app("--base-url", emulator.url)
    again.wait_for_dialog("Unsaved edit found", "order-0003")
    again.send(ENTER)  # "Open" has the focus
    again.wait_for('"typed": "meanwhile",', "order-0003")


def test_the_edit_kept_after_take_theirs_survives_kill_9(emulator, start_app):
    app = start_app("demo-store", "orders", "order-0004", "--base-url", emulator.url)
    app.wait_for("✓ valid JSON", "order-0004")
    app.send(DOWN)
    app.send('"mine": "kept", ')
    app.wait_for('"mine": "kept",', "● modified")
    with emulator.client() as other:
        other.post(ITEM.format("order-0004"), data={"Data": json.dumps({"theirs": "won"})}).raise_for_status()
    app.send(CTRL_S)
    app.wait_for_dialog("Someone else changed this item")
    for _ in range(8):  # back from the list of changes to "Take theirs": Overwrite comes first
        focused = focused_button(app.text())
        if focused == "Take theirs":
            break
        app.send(SHIFT_TAB)
        app.wait_until(lambda text: focused_button(text) != focused, what=f"the focus off {focused!r}")
    app.send(ENTER)
    app.wait_for('"theirs": "won"', "your edit is kept: F4")
    app.wait_until(lambda _text: any(d.slot == KEPT_SLOT for d in drafts()), what="the kept draft on disk")
    os.kill(app.child.pid, signal.SIGKILL)
    app.wait_for_exit()
    (kept,) = [d for d in drafts() if d.slot == KEPT_SLOT]
    assert '"mine": "kept"' in kept.text

    again = start_app("--base-url", emulator.url)
    again.wait_for_dialog("Unsaved edit found", "order-0004")
    again.send(ENTER)  # Open: it was made on revision 0, the server has 1: the conflict view
    again.wait_for("Someone else changed this item")
    with emulator.client() as server:
        assert server.get(ITEM.format("order-0004")).json()["data"] == {"theirs": "won"}
