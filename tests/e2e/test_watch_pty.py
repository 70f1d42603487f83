"""End to end (issue #13): the real process shows a change made behind its back in the header within
the watch's interval, with no key pressed, and writes nothing to the terminal while nothing changes."""

from __future__ import annotations

import json
import time

from syncmap_tui.sync.watch import ITEM_INTERVAL

ITEM = "/v1/Services/demo-store/Maps/orders/Items/{}"


def test_a_change_behind_the_apps_back_shows_in_the_header_without_a_keypress_and_no_watch_never_notices(
    emulator, start_app
):
    """Two processes side by side, so that one wait of a poll interval serves both: one watches,
    the other runs with --no-watch."""
    app = start_app("demo-store", "orders", "order-0005", "--base-url", emulator.url)
    unwatched = start_app("demo-store", "orders", "order-0006", "--base-url", emulator.url, "--no-watch")
    app.wait_for("✓ valid JSON", "order-0005", "watch on")
    unwatched.wait_for("✓ valid JSON", "order-0006", "watch off")
    app.settle(quiet=0.5)
    quiet_since = len(app.raw)
    with emulator.client() as other:
        other.post(ITEM.format("order-0006"), data={"Data": json.dumps({"theirs": "moved"})}).raise_for_status()
    time.sleep(ITEM_INTERVAL + 1)  # at least one poll that finds nothing new, and one the other app never makes
    app.pump()
    assert len(app.raw) == quiet_since, "the watch wrote to the terminal while nothing changed"
    unwatched.pump()
    assert "server: rev" not in unwatched.text()

    with emulator.client() as other:
        other.post(ITEM.format("order-0005"), data={"Data": json.dumps({"theirs": "moved"})}).raise_for_status()
    # Within the poll interval is checked on a fake clock (tests/ui/test_watch.py); here, in a real
    # process on a loaded machine, a poll that times out backs off, so allow three intervals.
    app.wait_for("server: rev 1, changed", timeout=3 * ITEM_INTERVAL)
    app.wait_for("server has revision 1")  # the editor's heading too (F6 merges)
