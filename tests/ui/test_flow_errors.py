"""Issue #11, item 1: every worker flow under one error policy (syncmap_tui/ui/flow_errors.py).

Each flow meets each kind of failure at the step that talks to the server (or the disk):
- a 503 as a client without retries raises it (ServerError, a SyncError),
- the embedded emulator's full disk (sqlite3.OperationalError), or an OSError,
- a bug (an unexpected exception).
None may reach the crash screen; each says what failed; the editor's text is never touched.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, AsyncIterator, Awaitable, Callable

import pytest
from textual.app import App
from textual.pilot import Pilot

from syncmap_tui.checkpoints import Checkpointer
from syncmap_tui.sync.client import SyncClient
from syncmap_tui.sync.errors import TwilioCode, error_body, error_from_response
from syncmap_tui.ui.dialogs.confirm import ConfirmDialog
from syncmap_tui.ui.dialogs.create import NewItemDialog, NewItemRequest, NewMapDialog, NewMapRequest
from syncmap_tui.ui.dialogs.flow_error import FlowErrorDialog
from syncmap_tui.ui.main_screen import MainScreen
from syncmap_tui.sync.failures import is_expected_failure
from syncmap_tui.ui.widgets.navigator import Navigator, ServiceEntry

from .helpers import SIZE, SERVICE, leave_a_crashed_runs_draft, main_screen, record_notifications, settle, wait_for_screen, wait_until

EDIT = '{\n  "kept": "typed before the failure"\n}'


def server_unavailable() -> Exception:
    """What the client raises for a 503 when it does not retry."""
    return error_from_response(503, error_body(TwilioCode.SERVICE_UNAVAILABLE, "Service unavailable"), {})


ERROR_KINDS: dict[str, Callable[[], Exception]] = {
    "503": server_unavailable,
    "disk-full": lambda: sqlite3.OperationalError("database or disk is full"),
    "oserror": lambda: OSError(28, "No space left on device"),
    "bug": lambda: ZeroDivisionError("a bug in a flow"),
}


def fail_once(monkeypatch, owner: type, name: str, error: Exception) -> dict[str, int]:
    """The next call of `owner.name` raises `error`; later calls work again. Counts the calls."""
    original = getattr(owner, name)
    calls = {"n": 0}

    def failing(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 1:
            return original(self, *args, **kwargs)
        if name.startswith("list_") and not name.endswith("_page"):  # async iterators

            async def broken():
                raise error
                yield  # pragma: no cover - makes this an async generator

            return broken()

        async def raising():
            raise error

        return raising() if name != "write" else _raise(error)

    monkeypatch.setattr(owner, name, failing)
    return calls


def _raise(error: Exception) -> Any:
    raise error


@asynccontextmanager
async def started_not_connected(app: App[Any], monkeypatch) -> AsyncIterator[tuple[Pilot, MainScreen]]:
    """`app` started while its first listing of the services meets a 503: it says Not connected."""
    fail_once(monkeypatch, SyncClient, "list_services", server_unavailable())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(pilot)
        assert "Not connected" in str(main.query_one("#items-status").render()), "the failed connect is said"
        yield pilot, main


@dataclass
class Flow:
    link: tuple[str, ...]
    """Where the app starts."""
    owner: type
    method: str
    drive: Callable[[Any, Any, dict[str, int]], Awaitable[None]]
    """Starts the flow once the method is armed to fail."""
    edit: bool = False
    """Type EDIT into the open item first (the flow must not ask to leave it)."""


async def _refresh(pilot, main, calls) -> None:
    await pilot.press("ctrl+r")


async def _expand_service(pilot, main, calls) -> None:
    service = main.navigator.current_service
    main.navigator.post_message(Navigator.ServiceExpanded(ServiceEntry(service)))


async def _open_map(pilot, main, calls) -> None:
    main.open_map_from_palette(main.navigator.current_map)


async def _load_next_page(pilot, main, calls) -> None:
    assert main.item_table.has_more
    main.item_table.action_scroll_bottom()  # the cursor on the last loaded row asks for the next page


async def _open_item(pilot, main, calls) -> None:
    main.open_key_from_palette("order-0002")


async def _save(pilot, main, calls) -> None:
    await pilot.press("ctrl+s")


async def _create_item(pilot, main, calls) -> None:
    main.action_new_item()
    dialog = await wait_for_screen(pilot, NewItemDialog)
    dialog.dismiss(NewItemRequest("fresh", "{}", {}, None, ""))
    await pilot.pause()
    if isinstance(pilot.app.screen, NewItemDialog):  # a refusal (server or disk): asked again, typed text kept
        told = str(pilot.app.screen.error)
        assert any(reason in told for reason in ("Service unavailable", "No space left", "database or disk is full")), told
        assert pilot.app.screen.previous.key == "fresh"
        pilot.app.screen.dismiss(None)


async def _delete_item(pilot, main, calls) -> None:
    main.action_delete_item()
    (await wait_for_screen(pilot, ConfirmDialog)).dismiss(True)


async def _create_map(pilot, main, calls) -> None:
    main.action_new_map()
    (await wait_for_screen(pilot, NewMapDialog)).dismiss(NewMapRequest("fresh-map", None))


async def _delete_map(pilot, main, calls) -> None:
    main.navigator.select_map(main.current_map.service.sid, main.current_map.sync_map.sid)
    main.action_delete_map()
    (await wait_for_screen(pilot, ConfirmDialog)).dismiss(True)


async def _write_draft(pilot, main, calls) -> None:
    # The edit made before arming is due 0.5 s after it was typed; the write runs in the flow.
    await wait_until(pilot, lambda: calls["n"] and not main.draft_keeper.writing, what="a draft write")


async def _nothing(pilot, main, calls) -> None:
    return None


FLOWS: dict[str, Flow] = {
    "connect": Flow((SERVICE,), SyncClient, "list_services", _nothing),
    "refresh-no-map": Flow((), SyncClient, "list_services", _refresh),
    "load-maps": Flow((), SyncClient, "list_maps", _expand_service),
    "load-pages": Flow((SERVICE, "catalog"), SyncClient, "list_item_page", _load_next_page),
    "open-item": Flow((SERVICE, "orders"), SyncClient, "fetch_item", _open_item),
    "save": Flow((SERVICE, "orders", "order-0001"), SyncClient, "update_item", _save, edit=True),
    "create-item": Flow((SERVICE, "orders"), SyncClient, "create_item", _create_item),
    "delete-item": Flow((SERVICE, "orders"), SyncClient, "delete_item", _delete_item),
    "create-map": Flow((SERVICE,), SyncClient, "create_map", _create_map),
    "delete-map": Flow((SERVICE, "orders"), SyncClient, "delete_map", _delete_map),
    "open-map": Flow((SERVICE, "orders"), SyncClient, "list_item_page", _open_map),
    # Last of the flows from the orders map: a failed listing leaves its table empty, and
    # open-item and delete-item before it need the loaded rows.
    "drafts": Flow((SERVICE, "orders", "order-0001"), Checkpointer, "write", _write_draft, edit=True),
}


ONE_APP_PER_KIND = {"connect", "drafts"}
"""Flows that cannot meet the next failure in the same app: the connection is made once, at the
start; a draft write needs a new edit. Every other flow meets each kind in turn in one app, with
the other flows that start from the same deep link (one start, ~0.27 s of CPU, instead of four
per flow), which also shows that each works again after each failure."""


def kinds_met_by(name: str) -> tuple[str, ...]:
    # A draft write meets the disk, not the server: no 503 or full database there.
    return tuple(kind for kind in ERROR_KINDS if name != "drafts" or kind in ("oserror", "bug"))


def cases() -> list:
    params = []
    by_start: dict[tuple[tuple[str, ...], bool], list[str]] = {}
    for name, flow in FLOWS.items():
        if name in ONE_APP_PER_KIND:
            params += [pytest.param((name,), (kind,), id=f"{name}-{kind}") for kind in kinds_met_by(name)]
        else:
            by_start.setdefault((flow.link, flow.edit), []).append(name)
    for names in by_start.values():
        params.append(pytest.param(tuple(names), None, id="+".join(names)))
    return params


@pytest.mark.parametrize(("names", "kinds"), cases())
async def test_every_flow_answers_every_failure_without_a_crash(build_app, monkeypatch, names, kinds):
    """`names`: flows with one start (deep link, edit); each meets `kinds`, or all it can meet."""
    first = FLOWS[names[0]]
    if names == ("connect",):
        fail_once(monkeypatch, first.owner, first.method, ERROR_KINDS[kinds[0]]())
    app = build_app(*first.link)
    told = record_notifications(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(pilot)
        if first.edit:
            main.editor.replace_text(EDIT)
            await pilot.pause()
        for name in names:
            for kind in kinds or kinds_met_by(name):
                try:
                    await meet_failure(pilot, main, FLOWS[name], name, kind, told, monkeypatch)
                except Exception as failure:
                    failure.add_note(f"in the step where {name} meets {kind}")  # the steps share an app
                    raise


async def meet_failure(pilot, main, flow: Flow, name: str, kind: str, all_told: list[str], monkeypatch) -> None:
    """The flow meets one failure; the app says it and goes on, the editor's text untouched."""
    app = pilot.app
    error = ERROR_KINDS[kind]()
    told_before = 0 if name == "connect" else len(all_told)  # connect failed as the app started
    text_before = main._editor.text if main._editor is not None else None
    if name != "connect":
        calls = fail_once(monkeypatch, flow.owner, flow.method, error)
        await flow.drive(pilot, main, calls)
    if is_expected_failure(error):
        await settle(pilot)
        if name == "create-item":
            pass  # the new-item dialog said it, with the key and data kept (checked in _create_item)
        else:
            said = str(getattr(error, "strerror", None) or getattr(error, "message", None) or error)
            assert any(said in m for m in all_told[told_before:]), (f"{name}/{kind}: the failure is told", all_told)
    else:
        dialog = await wait_for_screen(pilot, FlowErrorDialog)
        assert "ZeroDivisionError: a bug in a flow" in str(dialog.message()), f"{name}: the dialog names the bug"
        assert dialog.report is not None and "ZeroDivisionError" in dialog.report.read_text(), f"{name}: a report"
        dialog.dismiss(None)
        await settle(pilot)
    assert app._exception is None and app.is_running, f"{name}/{kind}: no crash"
    if name == "connect":
        # The failure may come before the editor is mounted: ctrl+r lists the services again and
        # follows the link (to the service, expanded), and opening a map mounts the editor (as
        # after escape while connecting).
        await pilot.press("ctrl+r")
        await settle(pilot)
        service = main.navigator.current_service
        assert main.client is not None and service is not None and service.unique_name == SERVICE
        assert main.navigator.service_node(service.sid).is_expanded
        await pilot.press("down", "enter")  # the first map
        await settle(pilot)
        assert main.editor.open_item is None and main.current_map is not None
        return
    assert main.editor.text == text_before, f"{name}/{kind}: the editor's text is untouched"
    assert not main.item_table.page_pending, f"{name}/{kind}: the table asks for the next page again"
    if flow.edit:
        assert json.loads(main.editor.text.rstrip()) == {"kept": "typed before the failure"}, f"{name}/{kind}: the edit"
        if is_expected_failure(error) and name == "save":
            assert any("Your edit is still in the editor" in m for m in all_told[told_before:]), (
                f"{name}/{kind}: the edit is said to be kept", all_told
            )


async def test_one_crash_writes_one_report(build_app):
    from syncmap_tui.config import state_dir

    app = build_app()
    with pytest.raises(RuntimeError, match="the same crash"):
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            crash = RuntimeError("the same crash")
            app._handle_exception(crash)
            app._handle_exception(crash)  # Textual may hand a failure over twice (a worker, then its await)
            await pilot.pause()
    assert len(list(state_dir().glob("crash-*.txt"))) == 1


async def test_the_ctrl_r_after_a_failed_connect_follows_the_deep_link_and_offers_the_drafts(
    build_app, other_writer, monkeypatch
):
    """Found by the soak in CI, on two loaded cores: the first listing of the services timed out,
    and ctrl+r (which "Not connected" asks for) listed them but dropped the deep link, and the
    drafts of the crashed run were not offered until the next start."""
    from syncmap_tui.ui.dialogs.drafts import RecoverDraftDialog

    sync_map = await other_writer.fetch_map(SERVICE, "orders")
    await leave_a_crashed_runs_draft(other_writer, "order-0051", '{"left": "by a crashed run"}')
    app = build_app(SERVICE, "orders", "order-0001")
    async with started_not_connected(app, monkeypatch) as (pilot, main):
        assert main.session is None and app.screen is main
        await pilot.press("ctrl+r")
        dialog = await wait_for_screen(pilot, RecoverDraftDialog)
        assert main.session is not None and main.session.key == "order-0001"
        assert main.current_map is not None and main.current_map.sync_map.sid == sync_map.sid
        dialog.dismiss("later")
        await settle(pilot)
        # Once started, ctrl+r refreshes: no second offer, and the open item stays.
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert app.screen is main and main.session is not None and main.session.key == "order-0001"


async def test_a_bug_a_secret_in_a_bug_and_a_full_database_while_an_item_is_open(build_app, emulator, monkeypatch):
    from syncmap_tui.emulator import DEFAULT_AUTH_TOKEN

    app = build_app(SERVICE, "orders", "order-0001")
    told = record_notifications(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(pilot)

        # An unexpected failure keeps the app usable and the edit in a draft.
        main.editor.replace_text(EDIT)
        await pilot.pause()
        fail_once(monkeypatch, SyncClient, "update_item", RuntimeError("bug"))
        await pilot.press("ctrl+s")
        dialog = await wait_for_screen(pilot, FlowErrorDialog)
        assert dialog.draft is not None and "typed before the failure" in dialog.draft.read_text(), "bug: the edit is in a draft"
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("ctrl+s")  # the same flow works again
        await settle(pilot)
        assert not main.editor.is_dirty, "bug: the same flow saves again"

        # An unexpected failure names no secret.
        fail_once(monkeypatch, SyncClient, "fetch_item", RuntimeError(f"while sending {DEFAULT_AUTH_TOKEN!r}"))
        main.open_key_from_palette("order-0002")
        dialog = await wait_for_screen(pilot, FlowErrorDialog)
        assert DEFAULT_AUTH_TOKEN not in dialog.what and "[secret removed]" in dialog.what, "secret: not in the dialog"
        assert DEFAULT_AUTH_TOKEN not in dialog.report.read_text(), "secret: not in the report"
        dialog.dismiss(None)
        await settle(pilot)
        assert main.editor.open_item.key == "order-0001", "secret: the open item stays"

        # The reproduction: a full disk under the embedded emulator turned ctrl+s into
        # WorkerFailed: OperationalError('database or disk is full'). Here SQLite itself is full: its
        # page count is capped where it stands (PRAGMA max_page_count).
        step = len(told)
        main.editor.replace_text(EDIT.replace("typed before the failure", "x" * 8000))
        await pilot.pause()
        database = emulator.store._db
        pages = database.execute("PRAGMA page_count").fetchone()[0]
        database.execute(f"PRAGMA max_page_count = {pages}")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app._exception is None and main.editor.is_dirty, "full database: no crash, the edit stays"
        # The session says it (the flow policy's words, sync/failures.py), and that the edit is kept.
        assert "Saving failed: the local emulator's database refused it: database or disk is full" in told[step:], (
            "full database: the failure is told", told[step:]
        )
        assert "Your edit is still in the editor: press ctrl+s to try again." in told[step:], (
            "full database: the edit is said to be kept", told[step:]
        )
        database.execute("PRAGMA max_page_count = 1073741823")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not main.editor.is_dirty, "full database: the next save works"


async def test_ctrl_r_after_a_failed_connect_then_a_refresh_that_meets_a_real_503(build_app, emulator, monkeypatch):
    from syncmap_tui.sync.errors import ServerError

    fail_once(monkeypatch, SyncClient, "list_services", ServerError("Service unavailable", status=503))
    app = build_app()
    told = record_notifications(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(pilot)

        # Issue #15: "Not connected: could not reach … then ctrl+r" stayed after a successful ctrl+r.
        status = main.query_one("#items-status")
        assert "Not connected" in str(status.render()), "failed connect: said"
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert "Not connected" not in str(status.render()), "ctrl+r that lists the services: cleared"
        assert main.navigator.service_node(main.navigator.current_service.sid), "ctrl+r: the services are listed"

        # The reproduction: ctrl+r with no map open while the server answers 503, with a
        # client that does not retry (build_app's), raised WorkerFailed and showed the crash screen.
        step = len(told)
        emulator.faults.update({"fail_next": 1, "fail_status": 503})
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert app._exception is None and app.is_running, "real 503 on ctrl+r: no crash"
        assert any(m.startswith("Refreshing failed:") and "HTTP 503" in m for m in told[step:]), (
            "real 503 on ctrl+r: told", told[step:]
        )
