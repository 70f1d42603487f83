"""Someone else saved first (the three-way view), or deleted the item being edited."""

from __future__ import annotations

import json
from datetime import datetime

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Label, OptionList, Static

from syncmap_tui.sync import conflict as three_way
from syncmap_tui.sync.conflict import DataRow, ExpiryRow, Row, ThreeWay
from syncmap_tui.sync.merge import ABSENT, json_text, render_path
from syncmap_tui.sync.models import MapItem
from syncmap_tui.sync.session import ConflictChoice, DeletedChoice
from syncmap_tui.sync.validation import escape_unprintable
from syncmap_tui.ui import formatting
from syncmap_tui.ui.formatting import format_duration, format_time_left, format_when
from syncmap_tui.ui.display import key_text
from syncmap_tui.ui.literal import visible
from syncmap_tui.ui.dialogs.base import Dialog


class DeletedDialog(Dialog[DeletedChoice]):
    """The item was deleted (or expired) while it was being edited. Focus starts on "Back to
    editing": enter alone neither recreates an item someone deleted nor drops the edit."""

    def __init__(self, key: str, *, expired: bool = False, read_only: bool = False) -> None:
        super().__init__(back_answer="back")
        self.key = key
        self.expired = expired
        self.read_only = read_only

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="deleted"):
            yield Label("The item expired" if self.expired else "The item was deleted", classes="dialog-title")
            message = Text()
            message.append_text(key_text(self.key, "bold"))
            if self.expired:
                message.append(" reached its expiry while you were editing it: the server no longer has it.")
            else:
                message.append(" was deleted (or expired) while you were editing it.")
            yield Static(message)
            if self.read_only:
                choices = "This session is read-only: it cannot create the item again."
            else:
                choices = "Recreate creates the key again with your data."
            yield Static(Text(choices + " Discard drops your edit.", style="dim"))
            with Horizontal(classes="dialog-buttons"):
                yield self.choice("Back to editing", "back", id="back")
                if not self.read_only:
                    yield self.choice("Recreate", "recreate", id="recreate", variant="primary")
                yield self.choice("Discard", "discard", id="discard", variant="error")

    def on_mount(self) -> None:
        self.query_one("#back", Button).focus()

_WHO_LABEL = {"theirs": "they  ", "mine": "you   ", "both alike": "both =", "both differently": "both ≠"}
"""Who changed a row, in words (colour only repeats it): the same width, so paths line up."""
_WHO_STYLE = {"theirs": "yellow", "mine": "green", "both alike": "", "both differently": "bold red"}
_WHO_SENTENCE = {
    "theirs": "only they changed it",
    "mine": "only you changed it",
    "both alike": "you both changed it, to the same value",
    "both differently": "you both changed it, differently",
}
ROW_PATH_CELLS = 22
"""Width of the path column of a conflict row, in terminal cells; the detail pane below shows the full path."""
REVERTED_SIGN = "↺"
"""Marks the rows whose change of theirs Overwrite would undo."""
REVERTED_NAMED = 3
"""How many reverted paths the line above the buttons names (then "and N more"): two lines at 80
columns. The ↺ rows show them all."""


def _middle_cut(text: str, width: int) -> str:
    """`text` in at most `width` terminal cells, cut in the middle: paths that differ only at the
    end (an index, a suffix) stay apart. Counted in cells, not characters: a CJK character takes
    two, and a path of them cut by characters pushed its row's values off the dialog."""
    if cell_len(text) <= width:
        return text
    head_cells = (width - 1) // 2
    head = ""
    for char in text:
        if cell_len(head + char) > head_cells:
            break
        head += char
    tail = ""
    for char in reversed(text):
        if cell_len(head) + 1 + cell_len(char + tail) > width:
            break
        tail = char + tail
    return head + "…" + tail


def _pad_cells(text: str, width: int) -> str:
    """`text` padded with spaces to `width` terminal cells."""
    return text + " " * max(0, width - cell_len(text))


class ConflictDialog(Dialog[ConflictChoice]):
    """Someone else saved first. Shows, per JSON path and for the expiry, who changed what since
    the version the user loaded, and which of their changes Overwrite would revert.

    Focus starts on the list of changes: arrows move through it and the pane below shows the
    highlighted row's values in full. No letter answers: tab reaches the buttons, enter presses
    the focused one, escape goes back to editing."""

    def __init__(self, view: ThreeWay, *, read_only: bool = False) -> None:
        super().__init__(back_answer="back")
        self.view = view
        self.read_only = read_only
        self.rows = three_way.rows(view)
        self.reverted = [] if read_only else three_way.overwrite_reverts(view, self.rows)
        """The rows whose change of theirs Overwrite would undo."""
        self._reverted_ids = {id(row) for row in self.reverted}
        self._marked: int | None = None

    @property
    def theirs(self) -> MapItem:
        return self.view.theirs

    def compose(self) -> ComposeResult:
        title = "The item was deleted and created again" if self.view.recreated else "Someone else changed this item"
        with Vertical(classes="dialog -wide", id="conflict"):
            yield Label(title, classes="dialog-title")
            yield Static(self._summary(), id="conflict-summary")
            rows = OptionList(*[self._row_prompt(row, marked=False) for row in self.rows], id="conflict-rows")
            rows.border_title = "changes since you loaded it"
            yield rows
            with VerticalScroll(id="conflict-detail"):
                yield Static(id="conflict-detail-text")
            yield Static(self._reverts_text(), id="overwrite-reverts")
            with Horizontal(classes="dialog-buttons"):
                yield self.choice("Back", "back", id="back")
                # Read-only: Merge and Overwrite would save; Take theirs only loads theirs and
                # keeps the edit for F4.
                if not self.read_only:
                    yield self.choice("Merge", "merge", id="merge", variant="primary")
                yield self.choice("Take theirs", "theirs", id="theirs")
                if not self.read_only:
                    yield self.choice("Overwrite", "overwrite", id="overwrite", variant="error")

    def on_mount(self) -> None:
        rows = self.query_one("#conflict-rows", OptionList)
        if self.rows:
            rows.highlighted = 0
        else:
            self._show_detail(None)
        rows.focus()

    def _summary(self) -> Text:
        view = self.view
        summary = key_text(view.theirs.key, "bold")
        summary.no_wrap = False
        summary.append(
            f": you loaded revision {visible(view.base.revision)}; the server now has revision {visible(view.theirs.revision)}"
            f", updated {format_when(view.theirs.date_updated)}."
        )
        if view.recreated:
            summary.append(" It is another item under the same key: everything it holds is theirs.")
        elif three_way.theirs_changed_nothing(view):
            summary.append(" They changed nothing: the data and the expiry are as you loaded them.")
        return summary

    def _row_prompt(self, row: Row, *, marked: bool) -> Text:
        """One line per row; the full values are in the detail pane. `▶` marks the highlighted
        row (the highlight's colour alone would not do)."""
        line = Text(no_wrap=True, overflow="ellipsis")
        line.append("▶ " if marked else "  ", style="bold")
        line.append(_WHO_LABEL[row.who], style=_WHO_STYLE[row.who])
        line.append(f" {REVERTED_SIGN} " if id(row) in self._reverted_ids else "   ", style="bold")
        line.append(_pad_cells(_middle_cut(_row_name(row), ROW_PATH_CELLS), ROW_PATH_CELLS), style="bold")
        line.append(" ")
        if row.who == "both differently":
            line.append("they ")
            line.append_text(_side_text(row, "theirs"))
            line.append(" · you ")
            line.append_text(_side_text(row, "mine"))
        else:
            line.append_text(_side_text(row, "base"))
            line.append(" → ")
            line.append_text(_side_text(row, "theirs" if row.who == "theirs" else "mine"))
        return line

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        option_list = event.option_list
        # Only the two rows whose mark changes are redrawn: a conflict can have hundreds of rows.
        if self._marked is not None:
            unmarked = self._row_prompt(self.rows[self._marked], marked=False)
            option_list.replace_option_prompt_at_index(self._marked, unmarked)
        self._marked = event.option_index
        row = self.rows[self._marked]
        option_list.replace_option_prompt_at_index(self._marked, self._row_prompt(row, marked=True))
        self._show_detail(row)

    def _show_detail(self, row: Row | None) -> None:
        """The highlighted row in full: every value whole, wrapped, never cut."""
        detail = Text()
        if row is None:
            detail.append("Nothing changed on either side since you loaded it: only the revision moved.")
        else:
            detail.append(_row_name(row, long=True), style="bold")
            detail.append(f": {_WHO_SENTENCE[row.who]}.")
            for side, name in (("base", "loaded"), ("theirs", "theirs"), ("mine", "mine")):
                detail.append(f"\n{name:>7}: ", style="bold")
                detail.append_text(_side_text(row, side, full=True))
            detail.append("\n")
            detail.append(self._overwrite_effect(row), style="italic")
        self.query_one("#conflict-detail-text", Static).update(detail)

    def _overwrite_effect(self, row: Row) -> str:
        if self.read_only:
            return "This session is read-only: nothing can be saved."
        if id(row) in self._reverted_ids:
            return "Overwrite reverts this change of theirs."
        if row.who in three_way.THEIRS_CHANGED:
            return "Overwrite keeps theirs here: your save does not send it."
        return "Overwrite saves mine here."

    def _reverts_text(self) -> Text:
        if self.read_only:
            return Text("Read-only session: Take theirs loads their version and keeps your edit (F4).")
        if not self.reverted:
            return Text("Overwrite reverts none of their changes.")
        text = Text(f"Overwrite reverts {len(self.reverted)} change(s) of theirs ({REVERTED_SIGN}): ", style="bold")
        named = self.reverted[:REVERTED_NAMED]
        text.append(", ".join(_middle_cut(_row_name(row), ROW_PATH_CELLS) for row in named))
        if len(self.reverted) > len(named):
            text.append(f" and {len(self.reverted) - len(named)} more")
        return text


def _row_name(row: Row, *, long: bool = False) -> str:
    """What a row is about: its JSON path (non-printing characters escaped), or the expiry."""

    if isinstance(row, DataRow):
        return visible(render_path(row.path))
    if isinstance(row, ExpiryRow):
        return "the item's expiry" if long else "expiry"
    return "the map's expiry (CollectionTtl)" if long else "map expiry"


def _side_text(row: Row, side: str, *, full: bool = False) -> Text:
    """One side's value of a row as plain text (never markup): JSON, or an expiry."""

    if isinstance(row, DataRow):
        value = getattr(row, side)
        if value is ABSENT:
            return Text("(none)", style="dim italic")
        if full:
            return Text(escape_unprintable(json.dumps(value, indent=2, ensure_ascii=False)))
        return Text(json_text(value))
    if isinstance(row, ExpiryRow):
        if side == "mine":
            if row.mine_ttl is None:
                return Text(_expiry_text(row.base, full=full) + ", left as it is")
            if row.mine_ttl == 0:
                return Text("never (ItemTtl 0)")
            return Text(f"{format_duration(row.mine_ttl)} after the save (ItemTtl {row.mine_ttl})")
        return Text(_expiry_text(getattr(row, side), full=full))
    # The map's TTL: an item does not carry it.
    if side == "mine":
        return Text(f"whole map: {format_duration(row.mine_ttl)} after the save (CollectionTtl {row.mine_ttl})")
    return Text("as it is", style="dim italic")


def _expiry_text(moment: datetime | None, *, full: bool = False) -> str:
    if moment is None:
        return "never"
    if full:
        return f"{format_when(moment)} ({format_time_left(moment, formatting.now_utc())})"
    return format_when(moment)
