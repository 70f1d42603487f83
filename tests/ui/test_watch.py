"""Watch, history and conditional undo through the real screen (issue #13), against the in-process
emulator, with the poll intervals shortened (no sleeps of seconds)."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest

from syncmap_tui.sync.errors import RateLimited
from syncmap_tui.ui.dialogs.confirm import ConfirmDialog
from syncmap_tui.ui.dialogs.conflict import ConflictDialog
from syncmap_tui.ui.flows import watch as watch_flow
from syncmap_tui.ui.dialogs.history import HistoryDialog

from .conftest import EMBEDDED
from .helpers import SIZE, SERVICE, answer, main_screen, open_row, record_notifications, set_editor_json, settle, wait_for_screen, wait_until

WATCHED = replace(EMBEDDED, watch=True)
ITEM_SECONDS = 0.2


@pytest.fixture(autouse=True)
def short_intervals(monkeypatch):
    monkeypatch.setattr(watch_flow, "ITEM_INTERVAL", ITEM_SECONDS)
    monkeypatch.setattr(watch_flow, "PAGE_INTERVAL", 0.3)


def shown_keys(table) -> list[str]:
    return [table.get_row_at(row)[0].plain for row in range(table.row_count)]


def header_text(pilot) -> str:
    return main_screen(pilot).header.query_one("#notice").render().plain


async def orders_sid(client) -> str:
    return (await client.fetch_map(SERVICE, "orders")).sid


class CountingClient:
    """Counts the app client's reads of one kind."""

    def __init__(self, client) -> None:
        self.count = 0
        real = client.fetch_item

        async def fetch_item(*args, **kwargs):
            self.count += 1
            return await real(*args, **kwargs)

        client.fetch_item = fetch_item


async def test_the_watch_of_the_open_item_polls_only_in_sight_and_shows_changes_and_deletes(build_app, other_writer):
    """One start for the open item's watch (each start costs ~0.27 s of CPU with a deep link): the
    steps' order matters, the change and the delete of order-0001 come last."""
    app = build_app(SERVICE, "orders", "order-0001", target=WATCHED)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        counter = CountingClient(screen.client)

        # The watch stops while the app has no focus and resumes with it.
        await wait_until(pilot, lambda: counter.count >= 1, rounds=100, what="a first poll")
        app.app_focus = False
        await pilot.pause()
        before = counter.count
        await pilot.pause(ITEM_SECONDS * 4)
        assert counter.count == before, "no focus: the watch still polled"
        app.app_focus = True
        await wait_until(pilot, lambda: counter.count > before, rounds=100, what="polls to resume")

        # The watch pauses under a dialog.
        await pilot.press("f8")
        await wait_for_screen(pilot, HistoryDialog)
        before = counter.count
        await pilot.pause(ITEM_SECONDS * 4)
        assert counter.count == before and not screen.watching.watcher.active, "the watch polled under a dialog"
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen, what="the history dialog to close")

        # Another writer's change shows in the header within the interval without a keypress.
        assert screen.session is not None and screen.session.key == "order-0001"
        assert "watch on" in header_text(pilot), "the header says the watch is on"
        sid = await orders_sid(other_writer)
        await other_writer.update_item(SERVICE, sid, "order-0001", data={"changed": "behind your back"}, if_match=None)
        await wait_until(pilot, lambda: screen.session.newer is not None, rounds=100, what="the watch to see it")
        await pilot.pause()
        assert "server: rev 1, changed 12:00:00" in header_text(pilot), "the header shows the server's revision"
        assert "server has revision 1" in screen.editor.query_one("#editor-heading").render().plain, "editor heading"
        assert "1•" in str(screen.item_table.get_cell("order-0001", "revision")), "the row is marked changed"

        # An item deleted while watched says so.
        await other_writer.delete_item(SERVICE, sid, "order-0001", if_match=None)
        await wait_until(pilot, lambda: screen.session.gone, rounds=100, what="the watch to see the delete")
        await pilot.pause()
        assert "gone from the server" in header_text(pilot), "the header says the item is gone"

        # The header forgets the server state when the item closes. Clearing the editor posts its
        # Edited message, which redraws the server state: none.
        screen.editor.clear_item()
        screen.show_location()
        await pilot.pause()
        assert "gone from the server" not in header_text(pilot) and "watch on" in header_text(pilot), \
            "the header kept the closed item's server state"


async def test_the_page_watch_marks_changed_and_deleted_rows_and_only_rows_on_the_screen(build_app, other_writer):
    app = build_app(SERVICE, "orders", target=WATCHED)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        table = screen.item_table
        table.focus()
        sid = await orders_sid(other_writer)

        # The watch marks changed rows and leaves the others.
        untouched = table.get_cell("order-0003", "revision")
        await other_writer.update_item(SERVICE, sid, "order-0002", data={"moved": True}, if_match=None)
        await wait_until(pilot, lambda: "•" in str(table.get_cell("order-0002", "revision")), rounds=150,
                         what="the row to be marked")
        assert table.get_cell("order-0003", "revision") is untouched, "an unchanged row was made again (repainted)"

        # A row deleted by someone else is marked.
        await other_writer.delete_item(SERVICE, sid, "order-0003", if_match=None)
        await wait_until(pilot, lambda: "✖" in str(table.get_cell("order-0003", "revision")), rounds=150,
                         what="the row to be marked gone")
        assert "✖" not in str(table.get_cell("order-0004", "revision")), "a row still there was marked gone"

        # The page poll under a key filter marks only rows on the screen. Found trying it: with the
        # key filter on, the rows hidden by it have no cells, and the watch read the rows by their
        # index among all loaded items (a bug dialog for a cell that does not exist).
        table.filter_keys("002")  # order-0002, order-0020…0029: order-0001 is hidden
        await pilot.pause()
        await other_writer.update_item(SERVICE, sid, "order-0001", data={"hidden": True}, if_match=None)
        await other_writer.update_item(SERVICE, sid, "order-0021", data={"shown": True}, if_match=None)
        await wait_until(pilot, lambda: "•" in str(table.get_cell("order-0021", "revision")), rounds=200,
                         what="the filtered row to be marked")
        assert app.screen is screen, "filter set in code: a bug dialog"

        # The watch reads the rows the filter typed in the jump field shows, and never marks a
        # hidden one (from test_find_and_copy).
        table.filter_keys("")
        await pilot.press("ctrl+f", *"0090")
        await pilot.pause()
        assert shown_keys(table) == ["order-0090"], "the jump field's filter"
        table.focus()
        await other_writer.update_item(SERVICE, sid, "order-0001", data={"hidden": "again"}, if_match=None)
        await other_writer.update_item(SERVICE, sid, "order-0090", data={"shown": True}, if_match=None)
        await wait_until(pilot, lambda: "•" in str(table.get_cell("order-0090", "revision")), rounds=150,
                         what="the row shown to be marked")
        assert app.screen is screen, "filter typed: no error dialog, the hidden row was not drawn on"


async def test_without_watch_nothing_polls_and_undo_of_a_save_writes_only_when_nobody_followed(build_app, other_writer):
    """Each undo step on an item of its own (opened from the table), so each starts from revision 0
    and a history of its own; the conflict step, which leaves the editor behind the server, last."""
    app = build_app(SERVICE, "orders", "order-0001")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        sid = await orders_sid(other_writer)

        # No watch target never polls and says so.
        counter = CountingClient(screen.client)
        await pilot.pause(ITEM_SECONDS * 3)
        assert counter.count == 0, "the watch polled with watch off"
        assert "watch off" in header_text(pilot), "the header says the watch is off"

        # Undo of a save nobody followed writes the previous data (order-0001).
        before = screen.session.base.data
        set_editor_json(pilot, {**before, "status": "mine"})
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("f9")
        await settle(pilot)
        assert json.loads(screen.editor.text) == before, "undo: the editor shows the previous data"
        current = await other_writer.fetch_item(SERVICE, sid, "order-0001")
        assert current.revision == "2" and current.data == before, "undo: the previous data written"

        # History lists versions and restore writes on the current revision (order-0003).
        await open_row(pilot, "order-0003")
        original = screen.session.base.data
        set_editor_json(pilot, {**original, "status": "v1"})
        await pilot.press("ctrl+s")
        await settle(pilot)
        await pilot.press("f8")
        dialog = await wait_for_screen(pilot, HistoryDialog)
        assert [v.revision for v in dialog.versions] == ["1", "0"], "history: the versions listed"
        await pilot.press("down")
        await pilot.pause()
        assert '"v1" → ' in str(dialog.query_one("#history-diff").render()), "history: the diff"
        await pilot.press("r")
        await settle(pilot)
        current = await other_writer.fetch_item(SERVICE, sid, "order-0003")
        assert current.revision == "2" and current.data == original, "restore: written on the current revision"

        # Undo of a TTL-only save takes the expiry back (order-0008).
        await open_row(pilot, "order-0008")
        screen.editor.item_ttl.value = "60"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert (await other_writer.fetch_item(SERVICE, sid, "order-0008")).date_expires is not None, "TTL saved"
        await pilot.press("f9")
        await settle(pilot)
        current = await other_writer.fetch_item(SERVICE, sid, "order-0008")
        assert current.date_expires is None and current.revision == "2", "undo of a TTL-only save: the expiry back"

        # Undo after someone else wrote opens the conflict dialog and writes nothing (order-0002).
        await open_row(pilot, "order-0002")
        before = screen.session.base.data
        set_editor_json(pilot, {**before, "status": "mine"})
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert screen.session.base.revision == "1", "conflict step: the save landed"
        await other_writer.update_item(SERVICE, sid, "order-0002", data={**before, "status": "theirs"}, if_match="1")
        await pilot.press("f9")
        dialog = await wait_for_screen(pilot, ConflictDialog)
        assert dialog.view.mine_data == before and dialog.view.theirs.revision == "2", "the conflict view's sides"
        await answer(pilot, ConflictDialog, "back")
        await settle(pilot)
    current = await other_writer.fetch_item(SERVICE, sid, "order-0002")
    assert current.revision == "2" and current.data["status"] == "theirs", "undo over someone else's write wrote"


async def test_undo_delete_brings_back_data_and_ttl_unless_the_key_was_created_again(build_app, other_writer):
    sid = await orders_sid(other_writer)
    created = await other_writer.create_item(SERVICE, sid, "order-0000-short", {"lives": "briefly"}, item_ttl=600)
    app = build_app(SERVICE, "orders")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        told = record_notifications(app)
        table = main_screen(pilot).item_table

        # Undo delete brings back data and TTL.
        table.focus()
        assert table.select_key("order-0000-short")
        await pilot.press("d")
        await answer(pilot, ConfirmDialog, True)
        await settle(pilot)
        assert "order-0000-short" not in table.items, "the delete: the row left"
        await pilot.press("u")
        await settle(pilot)
        assert "order-0000-short" in table.items, "undo delete: the row is back"
        assert any("Brought back 'order-0000-short'" in message for message in told), "undo delete: said"
        back = await other_writer.fetch_item(SERVICE, sid, "order-0000-short")
        assert back.data == {"lives": "briefly"} and back.date_expires == created.date_expires, "data and TTL back"

        # Undo delete of a key created again writes nothing and shows the conflict.
        table.focus()
        table.select_key("order-0005")
        deleted = table.items["order-0005"]
        await pilot.press("d")
        await answer(pilot, ConfirmDialog, True)
        await settle(pilot)
        await other_writer.create_item(SERVICE, sid, "order-0005", {"someone": "else"})
        await pilot.press("u")
        dialog = await wait_for_screen(pilot, ConflictDialog)
        assert dialog.view.mine_data == deleted.data, "the conflict view holds the deleted data"
        await answer(pilot, ConflictDialog, "back")
        await settle(pilot)
    current = await other_writer.fetch_item(SERVICE, sid, "order-0005")
    assert current.data == {"someone": "else"}, "undo delete wrote over a key created again"


RETRY_AFTER_SECONDS = 3.0
"""Well past the time the test takes to see the notice: with 1 s, a loaded machine (coverage, 6
workers) saw the notice only after the second read had come."""


async def test_a_429_storm_backs_the_watch_off_honouring_retry_after_and_says_so(build_app):
    app = build_app(SERVICE, "orders", "order-0001", target=WATCHED)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        client = screen.client
        real = client.fetch_item
        storm = {"on": True}
        reads: list[float] = []  # when each read of the storm went out

        async def rate_limited(*args, **kwargs):
            if storm["on"]:
                reads.append(time.monotonic())
                raise RateLimited("Too many requests", retry_after=RETRY_AFTER_SECONDS)
            return await real(*args, **kwargs)

        client.fetch_item = rate_limited
        await wait_until(pilot, lambda: "rate limited" in header_text(pilot), rounds=200, what="the backoff notice")
        assert f"next in {RETRY_AFTER_SECONDS:.0f}s" in header_text(pilot)
        await pilot.pause(ITEM_SECONDS * 4)  # without backoff: four more reads
        # Retry-After: no read sooner than it after the one refused. (Counting the reads flaked on a
        # loaded machine, where the wait for the notice itself can outlast the 3 s.)
        gaps = [later - earlier for earlier, later in zip(reads, reads[1:])]
        assert reads and all(gap >= RETRY_AFTER_SECONDS for gap in gaps), gaps
        storm["on"] = False
        await wait_until(pilot, lambda: "watch on" in header_text(pilot), rounds=800, what="the watch to recover")


def test_the_history_diff_and_list_show_remote_text_literally():
    from datetime import datetime, timezone

    from syncmap_tui.history import Version
    from syncmap_tui.ui.dialogs.history import diff_text, version_label
    from syncmap_tui.sync.models import MapItem

    when = datetime(2026, 1, 15, 12, 0, 0, tzinfo=timezone.utc)
    current = MapItem("[bold]k", "AC", "IS", "MP", "", "[red]1", {"[b]x": "\x1b[2J"}, None, when, when, "s")
    version = Version("[i]0", {"[b]x": "[link=http://x]y"}, when, when, None, when, "watch")
    shown = diff_text(current, version)
    assert "[b]x" in shown.plain and "[link=http://x]y" in shown.plain and "\x1b" not in shown.plain
    assert not shown.spans or all("link" not in str(span.style) for span in shown.spans)
    assert "[i]0" in version_label(version).plain


def test_the_history_list_says_which_saves_of_yours_another_window_made():
    from datetime import datetime, timezone

    from syncmap_tui.history import Version
    from syncmap_tui.ui.dialogs.history import version_label

    when = datetime(2026, 1, 15, 12, 0, 0, tzinfo=timezone.utc)
    saved = Version("3", {"a": 1}, when, when, None, when, "saved", by_you=True, instance="other")
    assert version_label(saved).plain.endswith("saved by you")
    assert version_label(saved, this_window=False).plain.endswith("saved by you, in another window")


def test_gone_keys_are_those_the_server_passed_over():
    from syncmap_tui.ui.flows.watch import gone_keys

    def items(*keys):
        return [type("Item", (), {"key": key})() for key in keys]

    visible = ["a", "b", "c", "d"]
    assert gone_keys(visible, items("a", "c", "d", "e"), has_more=True) == ["b"]
    assert gone_keys(visible, items("a", "b", "b2", "c"), has_more=True) == []  # d pushed out by b2: unknown
    assert gone_keys(visible, items("a", "b"), has_more=False) == ["c", "d"]  # the map's last page
    assert gone_keys(visible, items("x0", "x1", "x2", "x3"), has_more=True) == []  # all new keys: unknown


async def test_a_history_that_cannot_be_written_is_said_once_and_editing_goes_on(build_app):
    from syncmap_tui.history import default_history_dir

    default_history_dir().parent.mkdir(parents=True, exist_ok=True)
    default_history_dir().write_text("not a folder")  # every write fails (NotADirectoryError)
    app = build_app(SERVICE, "orders", "order-0001")
    async with app.run_test(size=SIZE) as pilot:
        told = record_notifications(app)
        await settle(pilot)
        set_editor_json(pilot, {"saved": "anyway"})
        await pilot.press("ctrl+s")
        await settle(pilot)
        await wait_until(pilot, lambda: any("history could not be written" in m for m in told), what="the warning")
        assert sum("history could not be written" in m for m in told) == 1
        assert any("Saved 'order-0001'" in m for m in told)


async def test_history_and_undo_keys_during_a_slow_save_do_not_cancel_it(build_app, emulator, other_writer):
    from syncmap_tui.emulator.faults import WRITE_METHODS

    app = build_app(SERVICE, "orders", "order-0009")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        told = record_notifications(app)
        set_editor_json(pilot, {"slow": "save"})
        emulator.faults.update({"latency": 0.5, "methods": list(WRITE_METHODS)})
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: screen.session.in_flight is not None, what="the save to leave")
        await pilot.press("f9")
        await pilot.press("f8")
        await settle(pilot)
        assert sum("is on its way" in message for message in told) == 2
    current = await other_writer.fetch_item(SERVICE, await orders_sid(other_writer), "order-0009")
    assert current.data == {"slow": "save"}
