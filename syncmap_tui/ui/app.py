"""The app shell: global keys, help, the command palette and the connection; MainScreen owns the flows."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import sys
from pathlib import Path
from typing import Any, Iterable, Protocol, runtime_checkable

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.screen import Screen

from syncmap_tui.config import Target
from syncmap_tui.sync.failures import describe_failure, is_expected_failure
from syncmap_tui.ui.flow_errors import EXPECTED_FAILURE_TIMEOUT_SECONDS, flow
from syncmap_tui.ui.commands import SyncCommands
from syncmap_tui.ui.crash import crash_message, redact, write_crash_report
from syncmap_tui.ui.key_storm import KeyStorm
from syncmap_tui.ui.launch import ClientFactory, DeepLink
from syncmap_tui.ui.literal import visible_lines
from syncmap_tui.ui.main_screen import MainScreen
from syncmap_tui.ui.type_ahead import ANSWERING_EVENTS, TYPE_AHEAD_GUARD_SECONDS, GuardedScreen



GC_THRESHOLDS = (10_000, 20, 20)
"""Young collections every 10,000 allocations rather than 700, and older ones half as often as
Python's default: with the start-up frozen (see SyncMapApp.started) they walk only what came
after, so fewer, larger passes cost less in all and keep a jump in a big map free of pauses."""
STARTED_AT_THE_LATEST_SECONDS = 10.0
"""Collections come back on by then even if the first frame with the services never did."""
ENDING_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
"""kill, systemd, a closing tmux window; a dropped SSH session or a closed terminal window."""


def terminal_present() -> bool:
    """False once the terminal has hung up: a hung-up terminal answers every ioctl with EIO, so
    it is no tty any more."""
    stdin = sys.__stdin__
    try:
        return stdin is not None and os.isatty(stdin.fileno())
    except (OSError, ValueError):
        return False




@runtime_checkable
class Blinking(Protocol):
    """Input and TextArea, named by what they have: importing TextArea here would load it before
    the first frame (see key_storm)."""

    cursor_blink: bool


class SyncMapApp(App[None]):
    CSS_PATH = Path(__file__).with_name("app.tcss")
    TITLE = "syncmap-tui"
    COMMANDS = App.COMMANDS | {SyncCommands}

    BINDINGS = [
        Binding("f1,question_mark", "show_help", "Help", id="show-help"),
        Binding("ctrl+q", "quit", "Quit", id="quit", priority=True),
    ]

    def __init__(
        self,
        target: Target,
        *,
        deep_link: DeepLink = DeepLink(),
        client_factory: ClientFactory | None = None,
        manage_gc: bool = False,
    ) -> None:
        super().__init__()
        self.target = target
        self.deep_link = deep_link
        self.client_factory = client_factory
        self.manage_gc = manage_gc
        """The process is this app's: no garbage collection until the first frame with the
        services is out, then the start-up is frozen (`gc.freeze`). `run` sets it; `run_test`
        leaves it off, as a freeze in a test process would keep every earlier test's app."""
        self._gc_held = False
        self.dialog_guard_seconds = TYPE_AHEAD_GUARD_SECONDS
        """Pilot tests set 0 unless they test the guard: they press keys as a user who waited would."""
        self.key_storm = KeyStorm(self)
        self._crash_reported = False
        """One crash, one report: Textual may hand the same failure over more than once."""
        self.main_screen = MainScreen(target, deep_link, client_factory, started=self.started)
        """The default screen, under every other: the flows and their drafts live there."""

    def get_default_screen(self) -> MainScreen:
        return self.main_screen

    def run(self, *args: Any, **kwargs: Any) -> Any:
        # A headless run is a test's screenshot (pytest-textual-snapshot), not the user's process:
        # freezing there kept every earlier test's garbage and reset the test process's thresholds.
        if not kwargs.get("headless", False):
            self.manage_gc = True
        return super().run(*args, **kwargs)

    def on_mount(self) -> None:
        if self.manage_gc:
            # Start-up allocates ~1 million objects that all live on: the collections it would
            # trigger (about 170, three of them full) cost ~0.1 s and free next to nothing.
            # The command line turned collections off already, before importing the UI.
            gc.disable()
            self._gc_held = True
            self.set_timer(STARTED_AT_THE_LATEST_SECONDS, self.started)
            # The real process (not a test's app): SIGTERM or SIGHUP ends it as ctrl+q would,
            # without asking: the drafts are written at once (by default the signal killed the
            # process with up to DRAFT_CHECK_SECONDS of typing not yet on disk), and Textual
            # restores the terminal (no alternate screen, no mouse mode left behind).
            loop = asyncio.get_running_loop()
            for ending in ENDING_SIGNALS:
                loop.add_signal_handler(ending, self.terminate, ending)

    def started(self) -> None:
        """The first frame with the services (or the reason there are none) is out.

        What start-up made (modules, styles, widgets, the emulator) lives as long as the app:
        frozen, later collections never walk it again (the Python docs' advice for long-lived
        objects), and a full collection during a jump costs milliseconds instead of ~0.1 s."""
        if not self._gc_held:
            return
        self._gc_held = False
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)
        gc.enable()

    def terminate(self, ending: signal.Signals) -> None:
        """An ENDING_SIGNALS signal: write the drafts, leave the terminal as it was, and exit with
        the status a shell reports for a process that the signal ended (143 for SIGTERM).

        With the terminal gone (a hangup), the process ends at once once the drafts and the
        history are on disk: there is no terminal to restore, and Textual's way out hung for
        ever about once in 100 hangups. The kernel sends SIGCONT with every hangup; Textual takes
        it for a resume after ctrl+z and starts a new output thread (its check of the terminal
        is skipped when the terminal is no tty any more), whose first write fails on the dead
        terminal and ends it; the exit then waited on its full queue (py-spy: the main thread in
        WriterThread.stop, Queue.put)."""
        self._flush_drafts()
        if not terminal_present():
            self.main_screen.finish_disk_writes()
            os._exit(128 + ending)
        self.exit(return_code=128 + ending)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every notification of the app (widgets' and screens' `notify` come here): shown literally.
        Messages quote remote text (server messages, keys, names from the command line), so
        markup is never parsed and controls (ESC, CSI, bidi overrides) are shown as escapes.
        `markup` is accepted for Textual's signature and ignored."""
        super().notify(visible_lines(str(message)), title=visible_lines(title), severity=severity, timeout=timeout, markup=False)

    def action_help_quit(self) -> None:
        # Textual's own (ctrl+c) says it with markup, which `notify` would show as typed.
        self.notify("Press ctrl+q to quit.", title="Do you want to quit?")

    async def flow_failed(self, doing: str, error: Exception) -> None:
        """The one handler of a flow's failure (see flow_errors): a message for an expected
        failure; drafts, a report and a dialog for a bug. The app goes on either way."""
        main = self.main_screen
        if main.is_mounted:
            # What a failed flow leaves waiting, as escape's cancel resets it (MainScreen): "saving…"
            # in the header. (A failed page load forgets its request itself: ItemTable._load_page.)
            main.header.show_activity("")
        edit_open = main.open_item is not None and main.editor.is_dirty
        if is_expected_failure(error):
            kept = " Your edit is still in the editor." if edit_open else ""
            self.notify(
                f"{doing} failed: {describe_failure(error)}.{kept}",
                severity="error",
                timeout=EXPECTED_FAILURE_TIMEOUT_SECONDS,
            )
            return
        # Deferred: with the dialogs' base, ~3.6 ms by -X importtime (least of three runs), which
        # only a bug pays.
        from syncmap_tui.ui.dialogs.flow_error import FlowErrorDialog

        draft = self._flush_drafts()
        secrets = self._known_secrets()
        report = await asyncio.to_thread(write_crash_report, error, secrets)
        self.bell()
        await self.push_screen(FlowErrorDialog(doing, redact(f"{type(error).__name__}: {error}", secrets), report, draft))

    def _known_secrets(self) -> list[str]:
        client = self.main_screen.client
        credentials = (self.target.credentials, client.credentials if client is not None else None)
        return [c.secret for c in credentials if c]

    def _flush_drafts(self) -> Path | None:
        try:
            return self.main_screen.flush_drafts()
        except Exception:  # noqa: BLE001 - a failing draft write must not hide what is being reported
            return None

    async def on_event(self, event: events.Event) -> None:
        # Keys typed ahead of a dialog are dropped, not passed on to it (type_ahead.py); so are
        # clicks, as a click meant for the editor can land on a button that appeared under the pointer.
        if isinstance(event, ANSWERING_EVENTS):
            screen = self.screen
            if isinstance(screen, GuardedScreen) and event.time < screen.keys_accepted_from:
                if not screen.dropped_input:
                    screen.dropped_input = True
                    self.bell()  # once a dialog: the typist hears that their keys went nowhere
                return
        # Keys that arrive back to back for a TextArea are inserted as one edit (key_storm.py);
        # any other input first inserts what was collected, so that order is kept.
        if isinstance(event, (events.InputEvent, events.Paste)) and not event.is_forwarded:
            if self.key_storm.take(event):
                return
        await super().on_event(event)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        # Nothing blinks: a blinking cursor writes ~250-500 bytes a second over SSH while nothing
        # happens. Input and TextArea blink by default, here and in every dialog.
        widget = event.widget
        if isinstance(widget, Blinking) and widget.cursor_blink:
            widget.cursor_blink = False

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        # The palette's own "Quit" (commands.py) asks first about unsaved changes; Textual's runs the
        # same action but says "as soon as possible", and listed Quit twice.
        for command in super().get_system_commands(screen):
            if command.title != "Quit":
                yield command

    def action_show_help(self) -> None:
        # Deferred: ~34 ms by -X importtime (the dialogs, whose bindings it lists), off the first frame.
        from syncmap_tui.ui.help_screen import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def _fatal_error(self) -> None:
        # Textual's handler prints a traceback with local variables, which can hold tokens and item
        # data: save the drafts, write a report without locals or secrets, and say where both are.
        if self._crash_reported:
            return
        self._crash_reported = True
        error = self._exception or RuntimeError("unknown error")
        draft = self._flush_drafts()
        secrets = self._known_secrets()
        report = write_crash_report(error, secrets)
        self.bell()
        self.panic(crash_message(error, secrets, report, draft))

    async def action_quit(self) -> None:
        self._quit_when_nothing_is_lost()

    @flow("Quitting", exclusive=True, group="quit")
    async def _quit_when_nothing_is_lost(self) -> None:
        main = self.main_screen
        if not await main.confirm_leave("quit"):
            return
        main.flush_drafts()
        self.exit()


def make_app(
    target: Target,
    *,
    deep_link: DeepLink = DeepLink(),
    client_factory: ClientFactory | None = None,
    manage_gc: bool = False,
) -> SyncMapApp:
    """The one way to build the app: used by the CLI and by the tests.

    `manage_gc`: as `run` does (see SyncMapApp.manage_gc), for an in-process bench that stands in
    for the real process."""
    return SyncMapApp(target, deep_link=deep_link, client_factory=client_factory, manage_gc=manage_gc)
