"""The app shell: global keys, help, the command palette and the connection; MainScreen owns the flows."""

from __future__ import annotations

import asyncio
import gc
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.command import Provider
from textual.notifications import SeverityLevel
from textual.screen import Screen

from syncmap_tui.config import Target
from syncmap_tui.sync.failures import describe_failure, is_expected_failure
from syncmap_tui.ui.flow_errors import EXPECTED_FAILURE_TIMEOUT_SECONDS, flow
from syncmap_tui.ui.key_storm import KeyStorm
from syncmap_tui.ui.literal import visible_lines

if TYPE_CHECKING:
    from syncmap_tui.sync.client import SyncClient
    from syncmap_tui.ui.main_screen import MainScreen


@dataclass(frozen=True)
class DeepLink:
    """`syncmap-tui [SERVICE [MAP [KEY]]]`: SIDs or unique names; a service may also be a friendly name."""

    service: str | None = None
    map: str | None = None
    key: str | None = None


ClientFactory = Callable[[Target], "SyncClient"]

GC_THRESHOLDS = (10_000, 20, 20)
"""Young collections every 10,000 allocations rather than 700, and older ones half as often as
Python's default: with the start-up frozen (see SyncMapApp.started) they walk only what came
after, so fewer, larger passes cost less in all and keep a jump in a big map free of pauses."""
TYPE_AHEAD_GUARD_SECONDS = 0.5
"""How long after a dialog is on the screen keys still count as typed before it (see on_event).

A typist does not stop the moment a dialog appears. Measured here (real binary in a pty, a key
every 30-80 ms, tests/e2e/test_type_ahead.py): a key reaches the app stamped ~50 ms (max 77)
after it was typed, and 4-5 keys are typed in the half second after the dialog is on the screen.
Seeing a change and stopping the fingers takes a person ~250 ms at best (reaction times to a
visual signal), and over SSH the dialog reaches the user and their keys come back one round trip
(~100 ms to a distant server) later: 250 + 50 + 100 ≈ 400 ms, rounded up to half a second. Reading
the dialog takes longer than that, so a deliberate answer never waits for the guard."""
STARTED_AT_THE_LATEST_SECONDS = 10.0
"""Collections come back on by then even if the first frame with the services never did."""
UNTIL_DISMISSED_SECONDS = 24 * 3600.0
"""A notification that must be seen (a draft that could not be read): it stays until clicked,
rather than Textual's 5 s, which pass unseen when the user looks away at start-up."""
ENDING_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
"""kill, systemd, a closing tmux window; a dropped SSH session or a closed terminal window."""


_ANSWERING_EVENTS = (events.Key, events.MouseDown, events.MouseUp, events.Click)
"""Input that can answer a dialog: see SyncMapApp.on_event."""


def _sync_commands() -> type[Provider]:
    from syncmap_tui.ui.commands import SyncCommands

    return SyncCommands


class SyncMapApp(App[None]):
    CSS_PATH = Path(__file__).with_name("app.tcss")
    TITLE = "syncmap-tui"
    COMMANDS = App.COMMANDS | {_sync_commands}

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

    def run(self, *args: Any, **kwargs: Any) -> Any:
        self.manage_gc = True
        return super().run(*args, **kwargs)

    def on_mount(self) -> None:
        from syncmap_tui.ui.main_screen import MainScreen

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
        self.push_screen(MainScreen(self.target, self.deep_link, self.client_factory))

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
        the status a shell reports for a process that the signal ended (143 for SIGTERM)."""
        main = self._main_screen()
        if main is not None:
            self._flush_drafts_of(main)
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
        main = self._main_screen()
        if main is not None:
            # What a failed flow leaves waiting, as escape's cancel resets it (MainScreen): "saving…"
            # in the header. (A failed page load forgets its request itself: ItemTable._load_page.)
            main.header.show_activity("")
        edit_open = main is not None and main.open_item is not None and main.editor.is_dirty
        if is_expected_failure(error):
            kept = " Your edit is still in the editor." if edit_open else ""
            self.notify(
                f"{doing} failed: {describe_failure(error)}.{kept}",
                severity="error",
                timeout=EXPECTED_FAILURE_TIMEOUT_SECONDS,
            )
            return
        from syncmap_tui.ui.crash import redact, write_crash_report
        from syncmap_tui.ui.flow_error_dialog import FlowErrorDialog

        draft = self._flush_drafts_of(main) if main is not None else None
        secrets = self._known_secrets(main)
        report = await asyncio.to_thread(write_crash_report, error, secrets)
        self.bell()
        await self.push_screen(FlowErrorDialog(doing, redact(f"{type(error).__name__}: {error}", secrets), report, draft))

    def _main_screen(self) -> MainScreen | None:
        from syncmap_tui.ui.main_screen import MainScreen

        return next((s for s in self.screen_stack if isinstance(s, MainScreen)), None)

    def _known_secrets(self, main: MainScreen | None) -> list[str]:
        client = main.client if main is not None else None
        credentials = (self.target.credentials, client.credentials if client is not None else None)
        return [c.secret for c in credentials if c]

    @staticmethod
    def _flush_drafts_of(main: MainScreen) -> Path | None:
        try:
            return main.flush_drafts()
        except Exception:  # noqa: BLE001 - a failing draft write must not hide what is being reported
            return None

    async def on_event(self, event: events.Event) -> None:
        # A key typed before a dialog was on the screen, or so soon after that the typist had no
        # time to see it, was meant for the screen under it: "dolor" typed on through a slow save
        # must not answer the conflict dialog that the save's answer opens, nor escape pressed to
        # cancel the save. Such keys are dropped, not passed on to the dialog; so are clicks, as a
        # click meant for the editor can land on a button that appeared under the pointer.
        if isinstance(event, _ANSWERING_EVENTS) and event.time < getattr(self.screen, "keys_accepted_from", 0.0):
            if not getattr(self.screen, "dropped_input", True):
                self.screen.dropped_input = True
                self.bell()  # once a dialog: the typist hears that their keys went nowhere
            return  # Dialog.keys_accepted_from
        # Keys that arrive back to back for a TextArea are inserted as one edit (key_storm.py);
        # any other input first inserts what was collected, so that order is kept.
        if isinstance(event, (events.InputEvent, events.Paste)) and not event.is_forwarded:
            if self.key_storm.take(event):
                return
        await super().on_event(event)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        # Nothing blinks: a blinking cursor writes ~250-500 bytes a second over SSH while nothing
        # happens. Input and TextArea blink by default, here and in every dialog.
        if getattr(event.widget, "cursor_blink", False):
            event.widget.cursor_blink = False

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        # The palette's own "Quit" (commands.py) asks first about unsaved changes; Textual's runs the
        # same action but says "as soon as possible", and listed Quit twice.
        for command in super().get_system_commands(screen):
            if command.title != "Quit":
                yield command

    def action_show_help(self) -> None:
        from syncmap_tui.ui.help_screen import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def _fatal_error(self) -> None:
        # Textual's handler prints a traceback with local variables, which can hold tokens and item
        # data: save the drafts, write a report without locals or secrets, and say where both are.
        from syncmap_tui.ui.crash import crash_message, write_crash_report

        if self._crash_reported:
            return
        self._crash_reported = True
        error = self._exception or RuntimeError("unknown error")
        main = self._main_screen()
        draft = self._flush_drafts_of(main) if main is not None else None
        secrets = self._known_secrets(main)
        report = write_crash_report(error, secrets)
        self.bell()
        self.panic(crash_message(error, secrets, report, draft))

    async def action_quit(self) -> None:
        self._quit_when_nothing_is_lost()

    @flow("Quitting", exclusive=True, group="quit")
    async def _quit_when_nothing_is_lost(self) -> None:
        from syncmap_tui.ui.main_screen import MainScreen

        main = next((s for s in self.screen_stack if isinstance(s, MainScreen)), None)
        if main is not None:
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
