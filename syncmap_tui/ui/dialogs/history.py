"""The history of the open item: every version the app has seen, and a version's diff against the
one in the editor. Imported when first shown (a dialog module: off the first frame)."""

from __future__ import annotations

from datetime import timezone
from typing import Callable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from syncmap_tui.history import Version
from syncmap_tui.sync.merge import diff_lines
from syncmap_tui.sync.models import MapItem
from syncmap_tui.ui.dialogs.base import ChoiceButton, Dialog
from syncmap_tui.ui.literal import literal, visible

HOW_WORDS = {
    "loaded": "opened", "saved": "saved", "conflict": "in a conflict", "watch": "seen by watch",
    "seen": "seen", "deleted": "deleted",
}
FULL_VALUE_CHARS = 100_000
"""A diff line shows the whole value (wrapped): a cut value cannot be read (issue #10)."""


def version_label(version: Version, *, this_window: bool = True) -> Text:
    """`this_window`: written by this running app, not by another window of it sharing the history
    (undo asks before acting on another window's: the label says which it is)."""
    seen = version.seen_at.astimezone(timezone.utc).strftime("%m-%d %H:%M:%S")  # UTC, as the table
    label = Text.assemble(("rev ", "dim"), literal(version.revision), f"  {seen}  {HOW_WORDS[version.how]}")
    if version.by_you:
        label.append(" by you" if this_window else " by you, in another window", style="bold")
    return label


def diff_text(current: MapItem, version: Version) -> Text:
    """What restoring `version` would change in `current`, one line per path, values in full."""
    if version.date_created != current.date_created:
        head = Text("Another item under this key (deleted and created again since).\n", style="bold")
    else:
        head = Text()
    lines = diff_lines(current.data, version.data, value_chars=FULL_VALUE_CHARS)
    if not lines:
        head.append(f"Same data as revision {visible(current.revision)} (the editor's).", style="dim")
        return head
    head.append(f"From revision {visible(current.revision)} (the editor's) to this version:\n", style="dim")
    for index, line in enumerate(lines):
        if index:
            head.append("\n")
        head.append_text(literal(line.text))  # remote keys and values: literal, never markup
    return head


class HistoryDialog(Dialog["Version | None"]):
    """Lists the versions (newest first); the highlighted one's diff against `current` shows beside.
    Restore (r, the button; enter too when `picking`, for "Restore version…") answers that version;
    escape or Close answers None. Opened on purpose: not guarded."""

    GUARDED = False
    BINDINGS = [Binding("r", "restore", "Restore this version", id="history-restore")]
    DEFAULT_CSS = """
    HistoryDialog .dialog { width: 90%; height: 80%; }
    HistoryDialog #history-body { height: 1fr; }
    HistoryDialog #history-versions { width: 50; height: 100%; }
    HistoryDialog #history-diff-scroll { width: 1fr; height: 100%; padding: 0 1; }
    """

    def __init__(
        self, key: str, current: MapItem, versions: list[Version], *, can_restore: bool, picking: bool = False,
        is_mine: Callable[[Version], bool] = lambda version: True,
    ) -> None:
        super().__init__(back_answer=None)
        self.is_mine = is_mine
        """Whether a version of yours was written by this window (HistoryStore.is_mine)."""
        self.picking = picking
        self.key = key
        self.current = current
        self.versions = list(reversed(versions))
        self.can_restore = can_restore

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -wide -tall"):
            yield Label(Text.assemble("History of ", literal(self.key)), classes="dialog-title")
            with Horizontal(id="history-body"):
                yield OptionList(
                    *(Option(version_label(v, this_window=self.is_mine(v)), id=str(i)) for i, v in enumerate(self.versions)), id="history-versions",
                )
                with VerticalScroll(id="history-diff-scroll"):
                    yield Static("", id="history-diff")
            with Horizontal(classes="dialog-buttons"):
                yield self.choice("Close", None, id="close")
                if self.can_restore:
                    yield ChoiceButton("Restore this version", variant="warning", id="restore")

    def on_mount(self) -> None:
        super().on_mount()
        options = self.query_one(OptionList)
        if self.versions:
            options.highlighted = 0
            self._show(0)
        else:
            self.query_one("#history-diff", Static).update("No version of this item is kept yet.")
        options.focus()

    @property
    def chosen(self) -> Version | None:
        index = self.query_one(OptionList).highlighted
        return self.versions[index] if index is not None and index < len(self.versions) else None

    @on(OptionList.OptionHighlighted)
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._show(event.option_index)

    def _show(self, index: int) -> None:
        self.query_one("#history-diff", Static).update(diff_text(self.current, self.versions[index]))

    @on(ChoiceButton.Pressed, "#restore")
    def action_restore(self) -> None:
        if self.can_restore and self.chosen is not None:
            self.dismiss(self.chosen)

    @on(OptionList.OptionSelected)
    def _selected(self) -> None:
        if self.picking:
            self.action_restore()
