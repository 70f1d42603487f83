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
from .helpers import SIZE, SERVICE, answer, main_screen, record_notifications, settle, wait_for_screen, wait_until

CREDENTIALS = Credentials.auth_token(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN)


def served_target(base_url: str = EMULATOR_URL, credentials: Credentials = CREDENTIALS) -> Target:
    return Target(label="served", base_url=base_url, credentials=credentials, source="flag")


def shown_keys(table) -> list[str]:
    return [table.get_row_at(row)[0].plain for row in range(table.row_count)]


# -- the jump field filters the loaded rows -------------------------------------------------------


@pytest.mark.long
async def test_the_jump_field_filters_the_loaded_rows_pauses_paging_and_still_jumps_on_the_server(build_app):
    """One start for the catalog's jump field (each start costs ~0.2 s of CPU): the filter steps
    first, on the first page as loaded; the jumps on the server after."""
    app = build_app(SERVICE, "catalog")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(pilot)
        table = main.item_table

        # Typing in the jump field filters the loaded rows, and clearing shows them all.
        loaded = list(table.items)
        await pilot.press("ctrl+f")
        await pilot.press(*"SKU-0001")  # a capital: exact case, and no key has capitals
        await pilot.pause()
        assert table.row_count == 0, "filter: the case is exact"
        main.jump_input.value = ""
        await pilot.press(*"sku-0001")
        await pilot.pause()
        expected = [key for key in loaded if "sku-0001" in key]
        assert shown_keys(table) == expected and 0 < len(expected) < len(loaded), "filter: the rows holding the text"
        assert table.window.pending is None and list(table.items) == loaded, "filter: a page loaded meanwhile"
        assert str(main.query_one("#items-status").render()) == f"filter 'sku-0001': 10 of {len(loaded)} loaded", \
            "filter: the status line"
        main.jump_input.value = ""
        await settle(pilot)
        assert shown_keys(table)[: len(loaded)] == loaded, "filter cleared: every loaded row shows"

        # No page loads while filtering, and paging resumes when the filter is cleared.
        loaded = len(table.items)
        await pilot.press("ctrl+f", *"sku")  # every loaded key holds it: the same rows stay
        await pilot.pause()
        table.focus()
        await pilot.press("end")  # the last row shown is the last one loaded: it would ask for more
        await settle(pilot)
        assert table.current_item.key == "sku-00099" and len(table.items) == loaded, "a page loaded under a filter"
        main.jump_input.value = ""
        await settle(pilot)
        assert table.current_item.key == "sku-00099", "clearing the filter moved the cursor"
        # The page after comes once the filter is cleared (waited for: under load it lands after a settle).
        await wait_until(pilot, lambda: len(table.items) > loaded, what="the page after the last loaded row")

        # Enter in the jump field still jumps on the server.
        await pilot.press("ctrl+f", *"sku-05000", "enter")
        await settle(pilot)
        assert table.current_item.key == "sku-05000", "enter: the jump"
        assert "sku-05001" in table.items, "enter: the listing from there, not only the rows holding the text"
        assert table.key_filter == "", "enter: no filter left"

        # A jump from the palette leaves no filter behind.
        main.jump_from_palette("sku-07")
        await settle(pilot)
        assert main.jump_input.value == "sku-07", "palette jump: the text in the jump field"
        assert main.item_table.key_filter == "", "palette jump: paging goes on past the keys holding the text"
        assert main.item_table.current_item.key == "sku-07000", "palette jump: the row"


# -- find in values (and, on the same start, the table's copies) -------------------------------------


@pytest.mark.long
async def test_copy_keys_a_palette_open_that_clears_the_filter_and_find_in_values_on_the_orders(build_app, monkeypatch):
    """One start on the orders map (each start costs ~0.2 s of CPU); find, which leaves its dialog
    open, last."""
    monkeypatch.setattr(find_rules, "MIN_SECONDS_BETWEEN_PAGES", 0.0)
    app = build_app(SERVICE, "orders")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        told = record_notifications(app)
        main = main_screen(pilot)

        # c and shift+c in the table copy the row's JSON and key.
        main.item_table.focus()
        await pilot.press("down")
        await pilot.press("c")
        row = main.item_table.current_item
        assert json.loads(app.clipboard) == row.data, "c: the row's JSON"
        assert "OSC 52" in told[-1] and "if nothing arrived" in told[-1], "c: the notice"
        await pilot.press("C")
        assert app.clipboard == row.key, "C: the row's key"
        assert repr(row.key) in told[-1], "C: the notice"

        # Opening a key from the palette clears a filter that hides it.
        await pilot.press("ctrl+f", *"0001")
        await pilot.pause()
        assert "order-0042" not in shown_keys(main.item_table), "the filter hides the row"
        main.open_key_from_palette("order-0042")
        await settle(pilot)
        assert main.editor.open_item.key == "order-0042", "palette open: the item"
        assert main.item_table.key_filter == "" and main.jump_input.value == "", "palette open: the filter cleared"

        # Find in values lists the matches and opens the one chosen.
        await pilot.press("ctrl+g")
        dialog = await wait_for_screen(pilot, FindDialog)
        await pilot.press(*"customer.email=customer77@example.com", "enter")
        await wait_until(pilot, lambda: dialog.results.state == "done", what="the scan's end")
        assert dialog.results.scanned == 120, "find: every item scanned"
        assert [key for key, _ in dialog.results.found] == ["order-0077"], "find: the match"
        progress = str(dialog.query_one("#find-progress").render())
        assert "120 items scanned" in progress and "1 found" in progress, "find: the progress line"
        await pilot.press("down", "enter")  # from the query to the first match
        await settle(pilot)
        assert main.editor.open_item is not None and main.editor.open_item.key == "order-0077", "find: opened"
        assert json.loads(main.editor.text)["customer"]["email"] == "customer77@example.com", "find: its data"

        await pilot.press("ctrl+g")  # reopens as it was left
        dialog = await wait_for_screen(pilot, FindDialog)
        assert dialog.query_one(Input).value == "customer.email=customer77@example.com", "find reopens: the query"
        assert dialog.query_one(OptionList).option_count == 1, "find reopens: the results"


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


# -- copy (OSC 52) and save to file of the open item --------------------------------------------------


async def test_the_open_items_copies_and_save_to_file_in_the_embedded_emulator(build_app, tmp_path):
    """One start on an open item (each start with a deep link costs ~0.27 s of CPU): the refusal,
    whose clipboard must stay empty, first; the unsaved edit last."""
    app = build_app(SERVICE, "orders", "order-0003")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        told = record_notifications(app)
        main = main_screen(pilot)

        # Copy as curl is refused for the embedded emulator.
        await main.run_action("copy_as_curl")
        await pilot.pause()
        assert "embedded emulator" in told[-1] and app.clipboard == "", "curl: refused for the embedded emulator"

        # Save item JSON to a file asks before replacing one.
        path = tmp_path / "order.json"
        await main.run_action("save_item_json")
        dialog = await wait_for_screen(pilot, FilePathDialog)
        dialog.query_one(Input).value = str(path)
        await pilot.press("enter")
        await settle(pilot)
        assert json.loads(path.read_text()) == json.loads(main.editor.text), "save to file: the item's JSON"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, "save to file: private"

        path.write_text("someone else's file")
        for replace, expected in ((False, "someone else's file"), (True, main.editor.text + "\n")):
            await main.run_action("save_item_json")
            dialog = await wait_for_screen(pilot, FilePathDialog)
            dialog.query_one(Input).value = str(path)
            await pilot.press("enter")
            await answer(pilot, ConfirmDialog, replace)
            await settle(pilot)
            assert path.read_text() == expected, f"save to file over a file, replace={replace}"

        # Copy item JSON of the open item holds the unsaved edit.
        main.editor.replace_text('{"edited": true}')
        await pilot.pause()
        await main.run_action("copy_item_json")
        await pilot.pause()
        assert app.clipboard == '{"edited": true}', "copy item JSON: the unsaved edit"
        assert "with your unsaved edit" in told[-1], "copy item JSON: the notice"


async def test_copy_commands_against_a_served_emulator_with_an_api_key(emulator):
    """One start on a served target (each start with a deep link costs ~0.27 s of CPU): the
    refusals, whose clipboard must stay empty, first. Which base URLs twilio-cli is offered for, and
    the command it gets, are unit tests (tests/unit/test_shell_commands.py); this shows the screen
    follows the rule."""

    def client_factory(target: Target) -> SyncClient:
        return emulator.client()

    api_key = Credentials.api_key(DEFAULT_ACCOUNT_SID, "SK" + "1" * 32, "s3cret-never-shown")
    app = make_app(served_target(credentials=api_key), deep_link=DeepLink(SERVICE, "orders", "order-0005"),
                   client_factory=client_factory)
    app.dialog_guard_seconds = 0
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        told = record_notifications(app)
        main = main_screen(pilot)

        # Copy as twilio-cli only for Twilio itself.
        await main.run_action("copy_as_twilio_cli")
        await pilot.pause()
        assert app.clipboard == "" and "twilio-cli has no base-URL setting" in told[-1], "twilio-cli: refused"

        # Copy as curl is refused for bad JSON.
        text = main.editor.text
        main.editor.replace_text('{"broken": ')
        await pilot.pause()
        await main.run_action("copy_as_curl")
        await pilot.pause()
        assert told[-1].startswith("Not copied:") and app.clipboard == "", "curl: refused for bad JSON"
        main.editor.replace_text(text)
        await pilot.pause()

        # Copy as curl from the palette.
        revision = main.editor.open_item.loaded_revision
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Copy as curl")
        await wait_until(pilot, lambda: "Copy as curl" in str(app.screen.query("CommandList").first().get_option_at_index(0).prompt), what="the command")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "curl" in app.clipboard, what="the copy")
        command = app.clipboard
        assert f"{EMULATOR_URL}/v1/Services/" in command and "/Items/order-0005" in command, "curl: the URL"
        assert f"'If-Match: {revision}'" in command, "curl: If-Match on the loaded revision"
        assert '"$TWILIO_API_KEY" "$TWILIO_API_SECRET"' in command, "curl: the credential variables"
        assert "s3cret" not in command, "curl: no secret"


# -- copy as curl, end to end -------------------------------------------------------------------------


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
