"""Find in values: a dialog that scans the open map on the server (sync/find.py) and lists what matches.

Enter starts a scan of the query typed; matches stream into the list while a line says how many
items were scanned. Escape stops a running scan at once (its worker is cancelled inside the request
or the wait it is in: no further request goes out), and closes the dialog when none runs. Choosing a
match dismisses the dialog with its key, which the screen opens with the normal open-item flow. The
query and what was found stay for the next time the dialog opens on the same map.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from syncmap_tui.sync.find import MAX_MATCHES, TEXT_PREFIX, Query, excerpt, parse_query, scan_map
from syncmap_tui.ui.dialogs.base import Dialog
from syncmap_tui.ui.flow_errors import flow
from syncmap_tui.ui.literal import literal, visible

if TYPE_CHECKING:
    from syncmap_tui.sync.client import SyncClient
    from syncmap_tui.ui.main_screen import MainScreen

FIND_GROUP = "find"
EXCERPT_WIDTH = 48
KEY_WIDTH = 32


@dataclass
class FindResults:
    """What a find found, kept by the screen per map so that the dialog reopens as it was left."""

    map_sid: str
    query_text: str = ""
    found: list[tuple[str, str]] = field(default_factory=list)
    """(key, excerpt) of each match, in key order."""
    scanned: int = 0
    state: str = ""
    """How the last scan ended: "" (none yet), "done", "capped", "cancelled", "failed"."""


class FindDialog(Dialog["str | None"]):
    """Returns the key of the match chosen, or None."""

    GUARDED = False  # opened by the user to type into
    BINDINGS = [Binding("escape", "stop_or_close", "Stop the scan, or close", id="find-stop-or-close")]
    DEFAULT_CSS = """
    FindDialog #find-results {
        height: 1fr; min-height: 3; border: round $panel-lighten-2; text-wrap: nowrap; text-overflow: ellipsis;
    }
    FindDialog #find-progress { height: 1; }
    """

    def __init__(self, client: SyncClient, service_sid: str, map_name: str, results: FindResults) -> None:
        super().__init__(back_answer=None)
        self.client = client
        self.service_sid = service_sid
        self.map_name = map_name
        self.results = results

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -wide -tall", id="find"):
            yield Label(Text(f"Find in the values of {visible(self.map_name)}"), classes="dialog-title")
            yield Input(
                self.results.query_text,
                placeholder="text, or path=value (status=failed, customer.email=a@b.c)",
                id="find-query",
                compact=True,
            )
            yield Static(Text(self._hint(), style="dim"), id="find-hint")
            yield Static("", id="find-progress")
            yield OptionList(id="find-results")

    def _hint(self) -> str:
        return (
            "enter scans the whole map on the server · text matches the compact JSON (smart case) · "
            f"path=value compares as JSON · {TEXT_PREFIX} in front: text only · escape stops, then closes"
        )

    @property
    def query_input(self) -> Input:
        return self.query_one("#find-query", Input)

    @property
    def result_list(self) -> OptionList:
        return self.query_one("#find-results", OptionList)

    def on_mount(self) -> None:  # Textual runs Dialog.on_mount too
        if self.results.found:
            self.result_list.add_options([self._option(key, shown) for key, shown in self.results.found])
        self._show_progress()
        self.query_input.focus()

    @staticmethod
    def _option(key: str, shown: str) -> Option:
        # One line a match (the list does not wrap): a long key is cut so that its excerpt shows too.
        prompt = literal(key if len(key) <= KEY_WIDTH else key[: KEY_WIDTH - 1] + "…", "bold")
        prompt.append("  ")
        prompt.append_text(literal(shown, "dim"))
        return Option(prompt)

    @property
    def scanning(self) -> bool:
        return any(w.node is self and w.group == FIND_GROUP and w.is_running for w in self.app.workers)

    @on(Input.Submitted, "#find-query")
    def _start(self, event: Input.Submitted) -> None:
        query = parse_query(event.value)
        if query is None:
            self.notify("Type what to find first.")
            return
        self.results.query_text = event.value
        self.results.found = []
        self.results.scanned = 0
        self.results.state = ""
        self.result_list.clear_options()
        self._scan(query)

    @flow("Finding in values", exclusive=True, group=FIND_GROUP)
    async def _scan(self, query: Query) -> None:
        results = self.results
        self._show_progress("scanning…")
        try:
            async for step in scan_map(self.client, self.service_sid, results.map_sid, query):
                results.scanned = step.scanned
                if step.matches:
                    shown = [(item.key, excerpt(item.data, query, EXCERPT_WIDTH)) for item in step.matches]
                    results.found.extend(shown)
                    self.result_list.add_options([self._option(key, text) for key, text in shown])
                if step.waiting_seconds is not None:
                    self._show_progress(f"the server said 429 (too many requests): waiting {step.waiting_seconds:g} s")
                elif step.done:
                    results.state = "capped" if step.capped else "done"
                    self._show_progress()
                else:
                    self._show_progress("scanning…")
        except Exception:
            results.state = "failed"
            self._show_progress()
            raise

    def _show_progress(self, doing: str = "") -> None:
        results = self.results
        found = len(results.found)
        ending = {
            "done": "every item scanned",
            "capped": f"stopped at {MAX_MATCHES:,} matches: narrow the query",
            "cancelled": "stopped (escape)",
            "failed": "stopped by an error",
        }.get(results.state, "")
        if not (doing or ending or results.scanned):
            self.query_one("#find-progress", Static).update("")
            return
        parts = [f"{results.scanned:,} items scanned", f"{found:,} found"]
        parts += [part for part in (doing, ending) if part]
        self.query_one("#find-progress", Static).update(Text(" · ".join(parts)))

    def on_key(self, event: events.Key) -> None:
        # Down from the query goes to the matches, as in a search box.
        if event.key == "down" and self.query_input.has_focus and self.result_list.option_count:
            event.stop()
            self.result_list.focus()
            if self.result_list.highlighted is None:
                self.result_list.highlighted = 0

    def action_stop_or_close(self) -> None:
        if self.scanning:
            self.workers.cancel_group(self, FIND_GROUP)
            self.results.state = "cancelled"
            self._show_progress()
            return
        self.dismiss(None)

    @on(OptionList.OptionSelected, "#find-results")
    def _open(self, event: OptionList.OptionSelected) -> None:
        key, _ = self.results.found[event.option_index]
        if self.scanning:
            self.workers.cancel_group(self, FIND_GROUP)
            self.results.state = "cancelled"
        self.dismiss(key)


class FindFlows:
    """The screen's find in values: the dialog, and opening what it found (MainScreen starts the worker)."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self.results: FindResults | None = None
        """The last find, for the open map: the dialog reopens with it."""

    def open_dialog(self) -> None:
        screen = self.screen
        entry = screen.current_map
        if entry is None or screen.client is None:
            screen.notify("Choose a map first.")
            return
        if self.results is None or self.results.map_sid != entry.sync_map.sid:
            self.results = FindResults(entry.sync_map.sid)
        dialog = FindDialog(screen.client, entry.service.sid, entry.sync_map.display_name, self.results)
        screen.app.push_screen(dialog, callback=self._chosen)

    def _chosen(self, key: str | None) -> None:
        if key is not None:
            self.screen.open_found_key(key)

    async def open_found(self, key: str) -> None:
        """Show the table from `key` on (it may lie anywhere in the map) and open it as a row is opened."""
        screen = self.screen
        if screen.current_map is None:
            return
        table = screen.item_table
        screen.navigation.clear_key_filter()
        if key not in table.items and not await screen.navigation.load_first_page(from_key=key):
            return
        item = table.items.get(key)
        if item is None:
            screen.notify(f"{key!r} is gone: it was deleted or expired since the find.", severity="warning")
            return
        table.select_key(key)
        await screen.navigation.open_item(item)
