"""Small steps that the pilot tests share."""

from __future__ import annotations

import asyncio
import json
from typing import TypeVar

from textual.app import App
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Button, Input
from textual.worker import WorkerCancelled, WorkerState

from syncmap_tui.config import embedded_db_path
from syncmap_tui.drafts import Draft, DraftStore
from syncmap_tui.emulator import DEFAULT_ACCOUNT_SID
from syncmap_tui.ui.dialogs.base import Dialog
from syncmap_tui.ui.dialogs.confirm import ConfirmDialog
from syncmap_tui.ui.dialogs.merge import MergeDialog, SideChoice
from syncmap_tui.sync.client import SyncClient
from syncmap_tui.ui.main_screen import MainScreen

S = TypeVar("S", bound=Screen)
T = TypeVar("T")

SERVICE = "demo-store"
SIZE = (80, 24)
"""The terminal of the UI tests: the smallest the app is made for (SSH, tmux), where every screen
and dialog must work, and the cheapest to draw: 22 test files that ran at 100×30 to 120×40 took
9 % less CPU at 80×24 (measured), and all passed there."""


SETTLE_SECONDS = 60
"""A worker blocked on an unexpected dialog would otherwise hang the test run."""


async def settle(pilot: Pilot) -> None:
    """Wait until no worker runs, those that workers start included. Not for flows that wait on a
    dialog: use wait_for_screen.

    The first pause lets pending mount handlers start their workers: under load (6 workers on 2
    cores) a snapshot's settle returned at once, before the main screen's connect worker had run,
    and found no editor. `wait_for_complete` waits only for the workers there are when it is
    called, hence the loop."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SETTLE_SECONDS
    await pilot.pause()
    while running := [worker for worker in pilot.app.workers if not worker.is_finished]:
        try:
            await asyncio.wait_for(pilot.app.workers.wait_for_complete(running), max(0.0, deadline - loop.time()))
        except asyncio.TimeoutError:
            raise AssertionError(f"workers still running after {SETTLE_SECONDS} s: {running}; the screen is {pilot.app.screen!r}") from None
        except WorkerCancelled:
            # Nothing in these tests cancels a flow unasked: say which, and whether the app had
            # failed (a crash cancels every worker), instead of Textual's bare "Worker was cancelled".
            cancelled = [worker for worker in running if worker.state is WorkerState.CANCELLED]
            raise AssertionError(
                f"cancelled while settling: {cancelled}; the app's exception: {pilot.app._exception!r}; "
                f"running: {pilot.app.is_running}; the screen is {pilot.app.screen!r}"
            ) from None
        await pilot.pause()


async def wait_for_screen(pilot: Pilot, screen_type: type[S], *, rounds: int = 200) -> S:
    for _ in range(rounds):
        if isinstance(pilot.app.screen, screen_type):
            await pilot.pause()
            return pilot.app.screen
        await pilot.pause(0.01)
    raise AssertionError(f"{screen_type.__name__} never showed; the screen is {pilot.app.screen!r}")


async def wait_until(pilot: Pilot, condition, *, rounds: int = 300, what: str = "condition") -> None:
    for _ in range(rounds):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def hold_fetched_items(client: SyncClient, key: str | None = None) -> tuple[asyncio.Event, list[str]]:
    """A slow network on the way back: `client.fetch_item` reaches the server at once, and its
    answer for `key` (any key if None) waits until the returned event is set. The list gets the
    key of each answer held, so a test can wait until the request has gone out."""
    real_fetch = client.fetch_item
    release = asyncio.Event()
    asked: list[str] = []

    async def fetch_item(*args, **kwargs):
        item = await real_fetch(*args, **kwargs)
        if key is None or item.key == key:
            asked.append(item.key)
            await release.wait()
        return item

    client.fetch_item = fetch_item
    return release, asked


async def leave_a_crashed_runs_draft(other_writer: SyncClient, key: str, text: str) -> None:
    """A draft of `key` in the demo's orders map, on its current revision, as a run of the embedded
    emulator that died with `text` unsaved leaves it: the next start offers it."""
    sync_map = await other_writer.fetch_map(SERVICE, "orders")
    service = await other_writer.fetch_service(SERVICE)
    left = await other_writer.fetch_item(SERVICE, sync_map.sid, key)
    DraftStore().save(Draft(
        account_sid=DEFAULT_ACCOUNT_SID, base_url=f"embedded:{embedded_db_path()}", target_label="local emulator",
        service_sid=service.sid, map_sid=sync_map.sid, key=key, base_revision=left.revision,
        text=text, item_ttl="", collection_ttl="", base_data=json.dumps(left.data),
    ))


async def open_row(pilot, key: str) -> None:
    """Open `key` as a user would: its row in the table, then enter."""
    table = main_screen(pilot).item_table
    table.focus()
    assert table.select_key(key), f"{key} is not in the table"
    await pilot.press("enter")
    await settle(pilot)
    assert main_screen(pilot).editor.open_item.key == key, f"{key} did not open"


def main_screen(pilot: Pilot) -> MainScreen:
    return next(s for s in pilot.app.screen_stack if isinstance(s, MainScreen))


def set_editor_json(pilot: Pilot, value: object) -> None:
    main_screen(pilot).editor.replace_text(json.dumps(value, indent=2, ensure_ascii=False))


def notifications(pilot: Pilot) -> list[str]:
    return [n.message for n in pilot.app._notifications]


def record_notifications(app: App) -> list[str]:
    """Every message `app.notify` shows from now on, in order; unlike `notifications`, none expire."""
    told: list[str] = []
    notify = app.notify

    def recording_notify(message, *args, **kwargs):
        told.append(str(message))
        return notify(message, *args, **kwargs)

    app.notify = recording_notify
    return told


async def answer(pilot: Pilot, dialog_type: type[Dialog[T]], choice: T) -> None:
    """Wait for the dialog, then choose `choice` as a user would (focus + enter, after the guard).

    The dialog's back_answer is escape. MergeDialog: a dict of sides, each chosen with the arrow
    keys on its path, then Apply. ConfirmDialog: True types the name if it asks for it, then
    Confirm. Any other dialog: the button whose id is `choice`."""
    dialog = await wait_for_screen(pilot, dialog_type)
    guard = f"{dialog_type.__name__}'s type-ahead guard"
    await wait_until(pilot, lambda: dialog_takes_keys(dialog), what=guard, rounds=500)
    if choice == dialog.back_answer:
        await pilot.press("escape")
        return
    button_id = str(choice)
    if isinstance(dialog, MergeDialog):
        for side_choice in dialog.query(SideChoice):
            side_choice.focus()
            await pilot.pause()
            await pilot.press("up" if choice[side_choice.conflict.path] == "mine" else "down")
        button_id = "apply"
    elif isinstance(dialog, ConfirmDialog):
        if dialog.type_to_confirm is not None:
            dialog.query_one("#type-to-confirm", Input).focus()
            await pilot.pause()
            await pilot.press(*dialog.type_to_confirm)
        button_id = "confirm"
    button = dialog.query_one(f"#{button_id}", Button)
    button.focus()
    await pilot.pause()
    assert button.has_focus, f"{button_id} did not take the focus in {dialog!r}"
    await pilot.press("enter")


def dialog_takes_keys(dialog: Dialog) -> bool:
    """The dialog has been on the screen for its type-ahead guard (or has none)."""
    return dialog.keys_accepted_from < float("inf") and not dialog.has_class("-guarded")
