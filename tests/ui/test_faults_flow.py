"""Saves under network faults: the edit stays, the user is told, and a lost answer is settled by looking."""

from __future__ import annotations

import json

import httpx

from syncmap_tui.emulator.faults import WRITE_METHODS

from .helpers import (
    SIZE,
    SERVICE,
    answer,
    main_screen,
    notifications,
    record_notifications,
    set_editor_json,
    settle,
    wait_for_screen,
    wait_until,
)


async def item_on_server(other_writer, key: str):
    sid = (await other_writer.fetch_map(SERVICE, "orders")).sid
    return await other_writer.fetch_item(SERVICE, sid, key)


async def open_item(pilot, key: str) -> None:
    """Open `key` of the open map, as the palette does (the previous item left saved)."""
    main = main_screen(pilot)
    main.open_key_from_palette(key)
    await settle(pilot)
    assert main.editor.open_item is not None and main.editor.open_item.key == key, f"{key} opened"


async def test_saves_meet_a_slow_server_a_503_two_lost_answers_and_a_429(build_app, emulator, other_writer):
    """One app, one item per fault: each fault is used up or reset before the next item opens, and
    the 429's rate limit, which stays, comes last. Each step says which fault's behaviour broke."""
    from syncmap_tui.ui.dialogs.conflict import DeletedDialog

    app = build_app(SERVICE, "orders", "order-0060")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(pilot)
        told = record_notifications(app)

        # A slow save shows progress and can be cancelled.
        set_editor_json(pilot, {"slow": True})
        await pilot.pause()
        emulator.faults.update({"latency": 30.0, "methods": WRITE_METHODS})
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: "saving" in str(main.header.query_one("#activity").render()), what="progress")
        await pilot.press("escape")
        await settle(pilot)
        assert any("Cancelled" in n for n in told), f"slow save: escape says it cancelled: {told}"
        assert str(main.header.query_one("#activity").render()) == "", "slow save: the progress goes"
        assert json.loads(main.editor.text) == {"slow": True} and main.editor.is_dirty, "slow save: the edit stays"
        emulator.faults.reset()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert (await item_on_server(other_writer, "order-0060")).data == {"slow": True}, "slow save: the retry saves"
        assert not main.editor.is_dirty, "slow save: clean once saved"

        # A 503 keeps the edit, and a retry saves it.
        await open_item(pilot, "order-0061")
        step = len(told)
        set_editor_json(pilot, {"after": "503"})
        await pilot.pause()
        emulator.faults.update({"fail_next": 1, "methods": WRITE_METHODS})
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert any("Saving failed" in n and "503" in n for n in told[step:]), f"503: the failure is told: {told[step:]}"
        assert main.editor.is_dirty and json.loads(main.editor.text) == {"after": "503"}, "503: the edit stays"
        assert (await item_on_server(other_writer, "order-0061")).revision == "0", "503: nothing was written"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert (await item_on_server(other_writer, "order-0061")).data == {"after": "503"}, "503: the retry saves"

        # A save whose answer was lost is confirmed by fetching.
        emulator.faults.reset()
        await open_item(pilot, "order-0063")
        step = len(told)
        set_editor_json(pilot, {"answer": "lost"})
        await pilot.pause()
        emulator.faults.update({"drop_next": 1, "methods": WRITE_METHODS, "after_commit": True})
        await pilot.press("ctrl+s")
        await settle(pilot)
        server = await item_on_server(other_writer, "order-0063")
        assert server.data == {"answer": "lost"}, "lost answer: the save was committed"
        assert any("the server has your edit" in n for n in told[step:]), f"lost answer: the check is told: {told[step:]}"
        assert main.editor.open_item.loaded_revision == server.revision and not main.editor.is_dirty, (
            "lost answer: the editor takes the fetched revision"
        )

        # A lost answer on an item deleted meanwhile offers to recreate it.
        emulator.faults.reset()
        await open_item(pilot, "order-0066")
        set_editor_json(pilot, {"recreate": "me"})
        await pilot.pause()
        await other_writer.delete_item(SERVICE, main.editor.open_item.map_sid, "order-0066", if_match=None)
        emulator.faults.update({"drop_next": 1, "methods": WRITE_METHODS, "after_commit": False})
        await pilot.press("ctrl+s")
        await answer(pilot, DeletedDialog, "recreate")
        await settle(pilot)
        assert (await item_on_server(other_writer, "order-0066")).data == {"recreate": "me"}, "deleted: recreated"
        assert not main.editor.is_dirty, "deleted: clean once recreated"

        # A 429 keeps the edit with a clear message (last: the rate limit stays).
        emulator.faults.reset()
        await open_item(pilot, "order-0062")
        step = len(told)
        emulator.limit_writes(per_second=0.001, burst_seconds=1)
        await other_writer.update_item(SERVICE, main.editor.open_item.map_sid, "order-0001", data={"x": 1}, if_match=None)
        set_editor_json(pilot, {"after": "429"})
        await pilot.pause()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert any("Saving failed" in n and "429" in n for n in told[step:]), f"429: the failure is told: {told[step:]}"
        assert main.editor.is_dirty and json.loads(main.editor.text) == {"after": "429"}, "429: the edit stays"


async def test_escape_pressed_before_the_conflict_dialog_appeared_does_not_answer_it(build_app, other_writer):
    from textual import events

    from syncmap_tui.ui.dialogs.conflict import ConflictDialog

    app = build_app(SERVICE, "orders", "order-0068")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(pilot)
        await other_writer.update_item(SERVICE, main.editor.open_item.map_sid, "order-0068", data={"theirs": 1}, if_match=None)
        set_editor_json(pilot, {"mine": 1})
        await pilot.pause()
        escape_meant_for_the_save = events.Key("escape", None)  # typed now, handled once the dialog is up
        await pilot.press("ctrl+s")
        dialog = await wait_for_screen(pilot, ConflictDialog)
        app.post_message(escape_meant_for_the_save)
        await answer(pilot, ConflictDialog, "merge")  # chosen after the dialog appeared: it answers
        await settle(pilot)
        assert app.screen is main and any("Merged onto their revision" in n for n in notifications(pilot))
        assert dialog.keys_accepted_from < float("inf")


async def test_a_timed_out_save_that_never_arrived_keeps_the_edit(build_app, emulator, other_writer):
    # Only writes are slow, but the timeout is every request's: the fetch that checks whether the
    # save arrived needs room on a loaded machine (at 0.3 s it timed out once in a CI run). The
    # deep link opens with the default timeout (at 1 s it timed out under a parallel run), and the
    # client's timeout is cut to 1 s only for the save and its check.
    app = build_app(SERVICE, "orders", "order-0064")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(pilot)
        main.client._http.timeout = httpx.Timeout(1.0)
        told = record_notifications(app)
        set_editor_json(pilot, {"timed": "out"})
        await pilot.pause()
        emulator.faults.update({"latency": 5.0, "methods": WRITE_METHODS})
        await pilot.press("ctrl+s")
        await settle(pilot)
        emulator.faults.reset()
        assert any("still has the loaded revision" in n for n in told), told
        assert main.editor.is_dirty and json.loads(main.editor.text) == {"timed": "out"}
        assert (await item_on_server(other_writer, "order-0064")).revision == "0"


async def test_read_only_refuses_writes_in_the_client(build_app, other_writer):
    from syncmap_tui.config import Target

    target = Target(label="read-only test", base_url=None, credentials=None, is_embedded_emulator=True, read_only=True)
    app = build_app(SERVICE, "orders", "order-0065", target=target)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(pilot)
        assert "READ-ONLY" in str(main.header.query_one("#read-only").render())
        set_editor_json(pilot, {"never": "sent"})
        await pilot.pause()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert any("read-only" in n for n in notifications(pilot))
        assert (await item_on_server(other_writer, "order-0065")).revision == "0"


async def test_a_save_that_never_left_is_reported_without_a_check(emulator, other_writer):
    """Connection refused: the request never left, so there is nothing to look for on the server."""
    import httpx

    from syncmap_tui.emulator import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
    from syncmap_tui.emulator.inprocess import emulator_transport
    from syncmap_tui.sync.auth import Credentials
    from syncmap_tui.sync.client import NO_RETRY, SyncClient
    from syncmap_tui.ui.app import DeepLink, make_app

    from .conftest import EMBEDDED, EMULATOR_URL

    class Refusing(httpx.AsyncBaseTransport):
        def __init__(self) -> None:
            self.inner = emulator_transport(emulator.app)
            self.refuse = False
            self.refused: list[str] = []

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if self.refuse:
                self.refused.append(request.method)
                raise httpx.ConnectError("All connection attempts failed", request=request)
            return await self.inner.handle_async_request(request)

    transport = Refusing()
    credentials = Credentials.auth_token(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN)
    app = make_app(
        EMBEDDED,
        deep_link=DeepLink(SERVICE, "orders", "order-0078"),
        client_factory=lambda target: SyncClient(credentials, base_url=EMULATOR_URL, transport=transport, retry=NO_RETRY),
    )
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(pilot)
        set_editor_json(pilot, {"never": "left"})
        await pilot.pause()
        transport.refuse = True
        await pilot.press("ctrl+s")
        await settle(pilot)
        told = notifications(pilot)
        assert transport.refused == ["POST"]  # no fetch to check: it cannot have arrived
        assert any(n.startswith("Saving failed: could not reach") and "may have been applied" not in n for n in told)
        assert "Your edit is still in the editor: press ctrl+s to try again." in told
        assert not any("Could not check" in n for n in told)
        assert main.editor.is_dirty and json.loads(main.editor.text) == {"never": "left"}
        transport.refuse = False
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert (await item_on_server(other_writer, "order-0078")).data == {"never": "left"}
