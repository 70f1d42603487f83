"""End to end: the real process is killed with SIGKILL mid-edit; the next start offers the draft."""

from __future__ import annotations

import os
import signal
import time

from syncmap_tui.drafts import DraftStore

from .conftest import DOWN, ENTER


def test_an_edit_survives_sigkill_and_is_offered_on_the_next_start(emulator, start_app):
    app = start_app("demo-store", "orders", "order-0002", "--base-url", emulator.url)
    app.wait_for('"status": "shipped"', "✓ valid JSON")
    app.send(DOWN)
    app.wait_for_cursor_on('"status": "shipped"')
    app.send('"survives": "sigkill", ')
    app.wait_for('"survives": "sigkill",', "● modified")

    # The draft reaches the disk within a second of typing stopping; then the process dies hard.
    app.wait_until(lambda _text: len(DraftStore().load_all()) == 1, what="the draft on disk")
    os.kill(app.child.pid, signal.SIGKILL)
    app.wait_for_exit()
    (draft,) = DraftStore().load_all()
    assert '"survives": "sigkill"' in draft.text and draft.key == "order-0002"

    again = start_app("--base-url", emulator.url)
    again.wait_for("Unsaved edit found", "order-0002")
    time.sleep(0.8)  # past the dialog's type-ahead guard: keys sooner are dropped on purpose
    again.send(ENTER)  # "Open" has the focus
    again.wait_for('"survives": "sigkill",', "● modified", "order-0002")
    with emulator.client() as server:
        item = server.get("/v1/Services/demo-store/Maps/orders/Items/order-0002").json()
    assert "survives" not in item["data"]  # not saved behind the user's back: it waits for ctrl+s
