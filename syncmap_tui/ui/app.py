"""The app shell: global keys, help, the command palette and the connection; MainScreen owns the flows."""

from __future__ import annotations

import gc
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from textual import events, work
from textual.app import App
from textual.binding import Binding
from textual.command import Provider

from syncmap_tui.config import Target

if TYPE_CHECKING:
    from syncmap_tui.sync.client import SyncClient


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
Provisional: measured below."""
STARTED_AT_THE_LATEST_SECONDS = 10.0
"""Collections come back on by then even if the first frame with the services never did."""


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

    async def on_event(self, event: events.Event) -> None:
        # A key typed before a dialog was on the screen, or so soon after that the typist had no
        # time to see it, was meant for the screen under it: "dolor" typed on through a slow save
        # must not answer the conflict dialog that the save's answer opens, nor escape pressed to
        # cancel the save. Such keys are dropped, not passed on to the dialog.
        if isinstance(event, events.Key) and event.time < getattr(self.screen, "keys_accepted_from", 0.0):
            return  # Dialog.keys_accepted_from
        await super().on_event(event)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        # Nothing blinks: a blinking cursor writes ~250-500 bytes a second over SSH while nothing
        # happens. Input and TextArea blink by default, here and in every dialog.
        if getattr(event.widget, "cursor_blink", False):
            event.widget.cursor_blink = False

    def action_show_help(self) -> None:
        from syncmap_tui.ui.help_screen import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def _fatal_error(self) -> None:
        # Textual's handler prints a traceback with local variables, which can hold tokens and item
        # data: save the drafts, write a report without locals or secrets, and say where both are.
        from syncmap_tui.ui.crash import crash_message, write_crash_report
        from syncmap_tui.ui.main_screen import MainScreen

        error = self._exception or RuntimeError("unknown error")
        main = next((s for s in self.screen_stack if isinstance(s, MainScreen)), None)
        draft = None
        if main is not None:
            try:
                draft = main.flush_drafts()
            except Exception:  # noqa: BLE001 - a failing draft write must not hide the crash itself
                draft = None
        secrets = [c.secret for c in (self.target.credentials, main.client.credentials if main and main.client else None) if c]
        report = write_crash_report(error, secrets)
        self.bell()
        self.panic(crash_message(error, secrets, report, draft))

    async def action_quit(self) -> None:
        self._quit_when_nothing_is_lost()

    @work(exclusive=True, group="quit")
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
