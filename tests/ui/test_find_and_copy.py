"""Issue #14 parts 1 and 2 in the app: the jump field's filter, find in values, the copy commands
(OSC 52) and Save item JSON to file."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess

import httpx
import pytest
from textual.widgets import Input, OptionList

from syncmap_tui.config import Target
from syncmap_tui.emulator import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
from syncmap_tui.emulator.inprocess import emulator_transport
from syncmap_tui.sync import find as find_rules
from syncmap_tui.sync.auth import Credentials
from syncmap_tui.sync.client import NO_RETRY, SyncClient
from syncmap_tui.ui.app import make_app
from syncmap_tui.ui.dialogs.confirm import ConfirmDialog
from syncmap_tui.ui.launch import DeepLink
from syncmap_tui.ui.dialogs.file_path import FilePathDialog
from syncmap_tui.ui.flows.find import FindDialog

from .conftest import EMULATOR_URL
from .helpers import SERVICE, answer, main_screen, record_notifications, settle, wait_for_screen, wait_until

SIZE = (120, 36)
CREDENTIALS = Credentials.auth_token(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN)


def served_target(base_url: str = EMULATOR_URL, credentials: Credentials = CREDENTIALS) -> Target:
    return Target(label="served", base_url=base_url, credentials=credentials, source="flag")


def shown_keys(table) -> list[str]:
    return [table.get_row_at(row)[0].plain for row in range(table.row_count)]


# -- the jump field filters the loaded rows -------------------------------------------------------


async def test_typing_in_the_jump_field_filters_the_loaded_rows_and_clearing_shows_them_all(build_app):
    app = build_app(SERVICE, "catalog")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(pilot)
        table = main.item_table
        loaded = list(table.items)
        await pilot.press("ctrl+f")
        await pilot.press(*"SKU-0001")  # a capital: exact case, and no key has capitals
        await pilot.pause()
        assert table.row_count == 0
        main.jump_input.value = ""
        await pilot.press(*"sku-0001")
        await pilot.pause()
        expected = [key for key in loaded if "sku-0001" in key]
        assert shown_keys(table) == expected and 0 < len(expected) < len(loaded)
        assert table.window.pending is None and list(table.items) == loaded  # no page loaded meanwhile
        assert str(main.query_one("#items-status").render()) == f"filter 'sku-0001': 10 of {len(loaded)} loaded"
        main.jump_input.value = ""
        await settle(pilot)
        assert shown_keys(table)[: len(loaded)] == loaded


async def test_enter_in_the_jump_field_still_jumps_on_the_server(build_app):
    app = build_app(SERVICE, "catalog")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(pilot)
        await pilot.press("ctrl+f", *"sku-05000", "enter")
        await settle(pilot)
        table = main.item_table
        assert table.current_item.key == "sku-05000"
        assert "sku-05001" in table.items  # the listing from there, not only the rows holding the text
        assert table.key_filter == ""


# -- find in values ---------------------------------------------------------------------------------


async def test_find_in_values_lists_the_matches_and_opens_the_one_chosen(build_app, monkeypatch):
    monkeypatch.setattr(find_rules, "MIN_SECONDS_BETWEEN_PAGES", 0.0)
    app = build_app(SERVICE, "orders")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(pilot)
        await pilot.press("ctrl+g")
        dialog = await wait_for_screen(pilot, FindDialog)
        await pilot.press(*"customer.email=customer77@example.com", "enter")
        await wait_until(pilot, lambda: dialog.results.state == "done", what="the scan's end")
        assert dialog.results.scanned == 120
        assert [key for key, _ in dialog.results.found] == ["order-0077"]
        progress = str(dialog.query_one("#find-progress").render())
        assert "120 items scanned" in progress and "1 found" in progress
        await pilot.press("down", "enter")  # from the query to the first match
        await settle(pilot)
        assert main.editor.open_item is not None and main.editor.open_item.key == "order-0077"
        assert json.loads(main.editor.text)["customer"]["email"] == "customer77@example.com"

        await pilot.press("ctrl+g")  # reopens as it was left
        dialog = await wait_for_screen(pilot, FindDialog)
        assert dialog.query_one(Input).value == "customer.email=customer77@example.com"
        assert dialog.query_one(OptionList).option_count == 1


async def test_find_shows_remote_text_literally(build_app, monkeypatch):
    monkeypatch.setattr(find_rules, "MIN_SECONDS_BETWEEN_PAGES", 0.0)
    app = build_app(SERVICE, "edge-cases")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+g")
        dialog = await wait_for_screen(pilot, FindDialog)
        await pilot.press(*"~bold", "enter")
        await wait_until(pilot, lambda: dialog.results.state == "done", what="the scan's end")
        await pilot.pause()
        results = dialog.query_one(OptionList)
        assert results.option_count == 1
        prompt = results.get_option_at_index(0).prompt.plain
        assert prompt.startswith("[bold red]x ") and "[bold red]not bold[/]" in prompt  # as typed, not markup
        dialog.query_one(Input).value = "2J"
        await pilot.press("enter")
        await wait_until(pilot, lambda: dialog.results.state == "done", what="the second scan's end")
        await pilot.pause()
        prompt = results.get_option_at_index(0).prompt.plain
        assert prompt.startswith("escape-sequence") and "\\u001b[2J" in prompt and "\x1b" not in prompt


class CountingTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return await self.inner.handle_async_request(request)


async def test_escape_stops_the_scan_at_once_and_sends_no_further_request(emulator):
    transport = CountingTransport(emulator_transport(emulator.app))

    def client_factory(target: Target) -> SyncClient:
        return SyncClient(CREDENTIALS, base_url=EMULATOR_URL, transport=transport, retry=NO_RETRY)

    app = make_app(served_target(), deep_link=DeepLink(SERVICE, "catalog"), client_factory=client_factory)
    app.dialog_guard_seconds = 0
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+g")
        dialog = await wait_for_screen(pilot, FindDialog)
        await pilot.press(*"nothing-matches-this", "enter")
        await wait_until(pilot, lambda: dialog.results.scanned >= 200, what="two pages scanned")
        emulator.faults.update({"latency": 30})  # the next page hangs on the server
        await pilot.pause(0.3)
        await pilot.press("escape")
        await pilot.pause()
        assert not dialog.scanning and dialog.results.state == "cancelled"
        assert "stopped (escape)" in str(dialog.query_one("#find-progress").render())
        sent = transport.requests
        emulator.faults.update({"latency": 0})
        await pilot.pause(0.5)
        assert transport.requests == sent
        assert app.screen is dialog  # the first escape stops; the results stay
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, FindDialog)


# -- copy (OSC 52) ------------------------------------------------------------------------------------


async def test_c_and_shift_c_in_the_table_copy_the_rows_json_and_key(build_app):
    app = build_app(SERVICE, "orders")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        told = record_notifications(app)
        main = main_screen(pilot)
        main.item_table.focus()
        await pilot.press("down")
        await pilot.press("c")
        row = main.item_table.current_item
        assert json.loads(app.clipboard) == row.data
        assert "OSC 52" in told[-1] and "if nothing arrived" in told[-1]
        await pilot.press("C")
        assert app.clipboard == row.key
        assert repr(row.key) in told[-1]


async def test_copy_item_json_of_the_open_item_holds_the_unsaved_edit(build_app):
    app = build_app(SERVICE, "orders", "order-0003")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        told = record_notifications(app)
        main = main_screen(pilot)
        main.editor.replace_text('{"edited": true}')
        await pilot.pause()
        await main.run_action("copy_item_json")
        await pilot.pause()
        assert app.clipboard == '{"edited": true}'
        assert "with your unsaved edit" in told[-1]


async def test_copy_as_curl_from_the_palette(emulator):
    def client_factory(target: Target) -> SyncClient:
        return emulator.client()

    api_key = Credentials.api_key(DEFAULT_ACCOUNT_SID, "SK" + "1" * 32, "s3cret-never-shown")
    app = make_app(served_target(credentials=api_key), deep_link=DeepLink(SERVICE, "orders", "order-0005"),
                   client_factory=client_factory)
    app.dialog_guard_seconds = 0
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(pilot)
        revision = main.editor.open_item.loaded_revision
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Copy as curl")
        await wait_until(pilot, lambda: "Copy as curl" in str(app.screen.query("CommandList").first().get_option_at_index(0).prompt), what="the command")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "curl" in app.clipboard, what="the copy")
        command = app.clipboard
        assert f"{EMULATOR_URL}/v1/Services/" in command and "/Items/order-0005" in command
        assert f"'If-Match: {revision}'" in command
        assert '"$TWILIO_API_KEY" "$TWILIO_API_SECRET"' in command
        assert "s3cret" not in command


async def test_copy_as_curl_is_refused_for_the_embedded_emulator_and_bad_json(build_app, emulator):
    app = build_app(SERVICE, "orders", "order-0003")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        told = record_notifications(app)
        await main_screen(pilot).run_action("copy_as_curl")
        await pilot.pause()
        assert "embedded emulator" in told[-1] and app.clipboard == ""

    app = make_app(served_target(), deep_link=DeepLink(SERVICE, "orders", "order-0003"),
                   client_factory=lambda target: emulator.client())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        told = record_notifications(app)
        main = main_screen(pilot)
        main.editor.replace_text('{"broken": ')
        await pilot.pause()
        await main.run_action("copy_as_curl")
        await pilot.pause()
        assert told[-1].startswith("Not copied:") and app.clipboard == ""


async def test_copy_as_twilio_cli_only_for_twilio_itself(emulator):
    for base_url, offered in (("https://sync.twilio.com", True), (EMULATOR_URL, False)):
        app = make_app(served_target(base_url), deep_link=DeepLink(SERVICE, "orders", "order-0009"),
                       client_factory=lambda target: emulator.client())
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            told = record_notifications(app)
            main = main_screen(pilot)
            await main.run_action("copy_as_twilio_cli")
            await pilot.pause()
            if offered:
                assert app.clipboard.startswith("twilio api:sync:v1:services:maps:items:update")
                assert f"--if-match={main.editor.open_item.loaded_revision}" in app.clipboard
            else:
                assert app.clipboard == "" and "twilio-cli has no base-URL setting" in told[-1]


# -- save to file ------------------------------------------------------------------------------------


async def test_save_item_json_to_a_file_asks_before_replacing_one(build_app, tmp_path):
    app = build_app(SERVICE, "orders", "order-0004")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(pilot)
        path = tmp_path / "order.json"
        await main.run_action("save_item_json")
        dialog = await wait_for_screen(pilot, FilePathDialog)
        dialog.query_one(Input).value = str(path)
        await pilot.press("enter")
        await settle(pilot)
        assert json.loads(path.read_text()) == json.loads(main.editor.text)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600

        path.write_text("someone else's file")
        for replace, expected in ((False, "someone else's file"), (True, main.editor.text + "\n")):
            await main.run_action("save_item_json")
            dialog = await wait_for_screen(pilot, FilePathDialog)
            dialog.query_one(Input).value = str(path)
            await pilot.press("enter")
            await answer(pilot, ConfirmDialog, replace)
            await settle(pilot)
            assert path.read_text() == expected


async def test_a_jump_from_the_palette_leaves_no_filter_behind(build_app):
    app = build_app(SERVICE, "catalog")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(pilot)
        main.jump_from_palette("sku-07")
        await settle(pilot)
        assert main.jump_input.value == "sku-07"
        assert main.item_table.key_filter == ""  # paging goes on past the keys holding the text
        assert main.item_table.current_item.key == "sku-07000"


async def test_opening_a_key_from_the_palette_clears_a_filter_that_hides_it(build_app):
    app = build_app(SERVICE, "orders")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(pilot)
        await pilot.press("ctrl+f", *"0001")
        await pilot.pause()
        assert "order-0042" not in shown_keys(main.item_table)
        main.open_key_from_palette("order-0042")
        await settle(pilot)
        assert main.editor.open_item.key == "order-0042"
        assert main.item_table.key_filter == "" and main.jump_input.value == ""


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
async def test_the_curl_command_copied_from_the_app_saves_the_edit_when_run(sync_emulator, tmp_path):
    """End to end over real HTTP: the app's edit, copied as curl, run by sh with TWILIO_* set."""
    sync_emulator.seed({"svc": {"orders": {"o-1": {"status": "new"}}}})
    target = served_target(sync_emulator.base_url)
    app = make_app(target, deep_link=DeepLink("svc", "orders", "o-1"),
                   client_factory=lambda chosen: SyncClient(CREDENTIALS, base_url=sync_emulator.base_url))
    app.dialog_guard_seconds = 0
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(pilot)
        main.editor.replace_text('{"status": "it\'s $(shipped) `now`"}')
        await pilot.pause()
        await main.run_action("copy_as_curl")
        command = app.clipboard
    env = {"PATH": os.environ["PATH"], "TWILIO_ACCOUNT_SID": DEFAULT_ACCOUNT_SID, "TWILIO_AUTH_TOKEN": DEFAULT_AUTH_TOKEN}
    done = subprocess.run(["sh", "-c", command], env=env, capture_output=True, text=True, timeout=30, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    item = sync_emulator.twilio_client().sync.v1.services("svc").sync_maps("orders").sync_map_items("o-1").fetch()
    assert item.data == {"status": "it's $(shipped) `now`"}
    done = subprocess.run(["sh", "-c", command], env=env, capture_output=True, text=True, timeout=30, cwd=tmp_path)
    assert done.returncode == 22 and json.loads(done.stdout)["status"] == 412  # run twice: the revision moved


async def test_no_page_loads_while_filtering_and_paging_resumes_when_the_filter_is_cleared(build_app):
    app = build_app(SERVICE, "catalog")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(pilot)
        table = main.item_table
        loaded = len(table.items)
        await pilot.press("ctrl+f", *"sku")  # every loaded key holds it: the same rows stay
        await pilot.pause()
        table.focus()
        await pilot.press("end")  # the last row shown is the last one loaded: it would ask for more
        await settle(pilot)
        assert table.current_item.key == "sku-00099" and len(table.items) == loaded
        main.jump_input.value = ""
        await settle(pilot)
        assert table.current_item.key == "sku-00099"
        # The page after comes once the filter is cleared (waited for: under load it lands after a settle).
        await wait_until(pilot, lambda: len(table.items) > loaded, what="the page after the last loaded row")


async def test_the_watch_reads_the_rows_the_filter_shows_and_never_marks_a_hidden_one(build_app, other_writer, monkeypatch):
    from dataclasses import replace

    from syncmap_tui.ui.flows import watch as watch_flow

    from .conftest import EMBEDDED

    monkeypatch.setattr(watch_flow, "PAGE_INTERVAL", 0.3)
    app = build_app(SERVICE, "orders", target=replace(EMBEDDED, watch=True))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(pilot)
        table = main.item_table
        await pilot.press("ctrl+f", *"0090")
        await pilot.pause()
        assert shown_keys(table) == ["order-0090"]
        table.focus()
        sid = (await other_writer.fetch_map(SERVICE, "orders")).sid
        await other_writer.update_item(SERVICE, sid, "order-0001", data={"hidden": True}, if_match=None)
        await other_writer.update_item(SERVICE, sid, "order-0090", data={"shown": True}, if_match=None)
        await wait_until(pilot, lambda: "•" in str(table.get_cell("order-0090", "revision")), rounds=150,
                         what="the row shown to be marked")
        assert main.app.screen is main  # no error dialog: the hidden row was not drawn on
