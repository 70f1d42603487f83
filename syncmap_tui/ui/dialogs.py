"""Every modal of the app. Each returns its answer through `dismiss`; the screen's workers await them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar

from rich.cells import cell_len
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Static, TextArea
from textual.widgets.button import ButtonVariant

from syncmap_tui.sync.models import MapItem
from syncmap_tui.sync.session import ConflictChoice, DeletedChoice  # the session asks these questions
from syncmap_tui.sync.validation import ValidationError, check_data, check_key, escape_unprintable, parse_ttl
from syncmap_tui.ui import formatting
from syncmap_tui.ui.app import TYPE_AHEAD_GUARD_SECONDS
from syncmap_tui.ui.display import key_text
from syncmap_tui.ui.formatting import format_duration, format_time_left, format_when
from syncmap_tui.ui.literal import literal_block, visible

if TYPE_CHECKING:
    from textual.widgets import OptionList

    from syncmap_tui.drafts import Draft
    from syncmap_tui.sync.conflict import Row, ThreeWay
    from syncmap_tui.sync.merge import Conflict, Path, Side


T = TypeVar("T")


class Dialog(ModalScreen[T]):
    """A centred box with a title; escape answers BACK_ANSWER. `Dialog[T]` dismisses with a T.

    Keys typed before the dialog was on the screen, or within the app's type-ahead guard after
    that (SyncMapApp.dialog_guard_seconds), were meant for the screen underneath: the app drops
    them (SyncMapApp.on_event). Dialogs that open because the user just asked for one to type into
    (GUARDED = False) take every key at once."""

    BINDINGS = [Binding("escape", "back", "Back, answering nothing", id="dialog-back")]
    DEFAULT_CSS = """
    Dialog.-guarded ChoiceButton { text-style: dim; }
    """
    BACK_ANSWER: Any = None
    GUARDED: ClassVar[bool] = True

    def __init__(self) -> None:
        super().__init__()
        self.keys_accepted_from = float("inf") if self.GUARDED else 0.0
        """Keys and clicks with an earlier time (Textual's message clock) are dropped: see SyncMapApp.on_event."""
        self.dropped_input = False
        """The app rings the bell at the first key or click it drops, not at each."""

    class Shown(Message):
        """The dialog's first frame is out. Its time, on the clock of every key's and click's
        time, starts the guard."""

        bubble = False

    def on_mount(self) -> None:
        if not self.GUARDED:
            return
        self.add_class("-guarded")
        self.call_after_refresh(lambda: self.post_message(self.Shown()))

    @on(Shown)
    def _start_guard(self, message: Shown) -> None:
        guard = getattr(self.app, "dialog_guard_seconds", TYPE_AHEAD_GUARD_SECONDS)
        self.keys_accepted_from = message.time + guard
        if guard > 0:  # Textual's timers divide by their delay
            self.set_timer(guard, self._guard_over)
        else:
            self._guard_over()

    def _guard_over(self) -> None:
        """The buttons stop looking dimmed: the dialog takes keys now."""
        self.remove_class("-guarded")

    def action_back(self) -> None:
        self.dismiss(self.BACK_ANSWER)


class ChoiceButton(Button):
    """A dialog button whose focus shows without colour: `▶ Label ◀` when focused, `  Label  ` not
    (the same width, so nothing moves)."""

    DEFAULT_CSS = """
    ChoiceButton { min-width: 0; }
    ChoiceButton:focus { text-style: bold reverse; }
    """
    BINDINGS = [
        Binding("left", "focus_sibling(-1)", "Previous button", show=False),
        Binding("right", "focus_sibling(1)", "Next button", show=False),
    ]

    def __init__(self, label: str, variant: ButtonVariant = "default", *, id: str) -> None:
        self.plain_label = label
        super().__init__(self._marked(False), variant, id=id, compact=True)

    def _marked(self, focused: bool) -> str:
        return f"▶ {self.plain_label} ◀" if focused else f"  {self.plain_label}  "

    def on_focus(self) -> None:
        self.label = self._marked(True)

    def on_blur(self) -> None:
        self.label = self._marked(False)

    def action_focus_sibling(self, step: int) -> None:
        """Left and right move along the row of buttons, as in other dialogs people know."""
        assert self.parent is not None
        buttons = [b for b in self.parent.query_children(ChoiceButton) if b.focusable]
        index = buttons.index(self)
        if 0 <= index + step < len(buttons):
            buttons[index + step].focus()


def _field_lines(fields: list[tuple[str, str]]) -> Text:
    text = Text()
    for index, (name, value) in enumerate(fields):
        if index:
            text.append("\n")
        text.append(f"{name}: ", style="bold")
        text.append_text(key_text(value))  # keys, names, revisions: what tells them apart shows
    return text


class ConfirmDialog(Dialog[bool]):
    """Yes or no about something that cannot be undone; production targets make the user type the name.
    Focus starts on Cancel (or the name field): enter alone never confirms."""

    def __init__(
        self,
        title: str,
        fields: list[tuple[str, str]],
        *,
        confirm_label: str,
        type_to_confirm: str | None = None,
        typed_what: str = "name",
    ) -> None:
        super().__init__()
        self.title_text = title
        self.fields = fields
        self.confirm_label = confirm_label
        self.type_to_confirm = type_to_confirm
        self.typed_what = typed_what
        """What `type_to_confirm` is, in the prompt: "key", "map name"."""

    BACK_ANSWER = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield Static(_field_lines(self.fields), id="confirm-fields")
            if self.type_to_confirm is not None:
                yield Static(Text(f"This is a production account. Type the {self.typed_what} exactly to confirm:"))
                yield Input(id="type-to-confirm", compact=True)
            with Horizontal(classes="dialog-buttons"):
                yield ChoiceButton("Cancel", id="cancel")
                yield ChoiceButton(self.confirm_label, variant="error", id="confirm")

    def on_mount(self) -> None:
        if self.type_to_confirm is not None:
            self.query_one("#type-to-confirm", Input).focus()
        else:
            self.query_one("#cancel", Button).focus()

    @on(Button.Pressed, "#confirm")
    def _confirm(self) -> None:
        if self.type_to_confirm is not None and self.query_one("#type-to-confirm", Input).value != self.type_to_confirm:
            self.notify(f"The typed {self.typed_what} does not match.", severity="error")
            return
        self.dismiss(True)

    @on(Input.Submitted, "#type-to-confirm")
    def _typed(self) -> None:
        self._confirm()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(False)


LeaveChoice = Literal["save", "keep", "discard", "cancel"]


class UnsavedChangesDialog(Dialog[LeaveChoice]):
    """The open item (or a new item not yet created) has unsaved changes, and the user is leaving it.
    `can_save`: offer Save (not in a read-only session, nor before a delete); `can_keep`: offer to
    go on with the edit kept as a draft, offered again on the next start (quitting)."""

    BACK_ANSWER = "cancel"

    def __init__(self, key: str, doing: str, *, can_save: bool = True, can_keep: bool = False,
                 new_item: bool = False) -> None:
        super().__init__()
        self.key = key
        self.doing = doing
        self.can_save = can_save
        self.can_keep = can_keep
        self.new_item = new_item

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Unsaved changes", classes="dialog-title")
            message = Text("The new item " if self.new_item else "The item ")
            message.append_text(key_text(self.key, "bold"))
            if self.new_item:
                message.append(f" is not created yet. It is kept as a draft; {self.doing} anyway?")
            elif self.can_save:
                message.append(f" has unsaved changes. Save them before you {self.doing}?")
            else:
                message.append(f" has unsaved changes. Discard them and {self.doing}?")
            if self.can_keep:
                message.append(f" Keep draft: {self.doing}, and the next start offers the edit again.")
            yield Static(message)
            with Horizontal(classes="dialog-buttons"):
                if self.can_save:
                    yield ChoiceButton("Save", variant="primary", id="save")
                yield ChoiceButton("Discard", variant="error", id="discard")
                if self.can_keep:
                    yield ChoiceButton("Keep draft", id="keep")
                yield ChoiceButton("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#save" if self.can_save else "#cancel", Button).focus()

    @on(Button.Pressed)
    def _answer(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id)


class DeletedDialog(Dialog[DeletedChoice]):
    """The item was deleted (or expired) while it was being edited. Focus starts on "Back to
    editing": enter alone neither recreates an item someone deleted nor drops the edit."""

    BACK_ANSWER = "back"

    def __init__(self, key: str, *, expired: bool = False, read_only: bool = False) -> None:
        super().__init__()
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
                yield ChoiceButton("Back to editing", id="back")
                if not self.read_only:
                    yield ChoiceButton("Recreate", variant="primary", id="recreate")
                yield ChoiceButton("Discard", variant="error", id="discard")

    def on_mount(self) -> None:
        self.query_one("#back", Button).focus()

    @on(Button.Pressed)
    def _answer(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id)


@dataclass(frozen=True)
class NewItemRequest:
    key: str
    text: str
    data: dict[str, Any]
    item_ttl: int | None
    ttl_text: str

    @property
    def is_blank(self) -> bool:
        """Nothing typed yet: no key, no TTL, an empty object."""
        return not self.key and not self.ttl_text.strip() and "".join(self.text.split()) in ("", "{}")


class NewItemDialog(Dialog["NewItemRequest | None"]):
    """Key, JSON data and an optional TTL; every field is checked before anything is sent."""

    GUARDED = False  # opened by the user to type into: keys are meant for it

    def __init__(self, previous: NewItemRequest | None = None, *, error: str | None = None) -> None:
        super().__init__()
        self.previous = previous
        self.error = error

    def compose(self) -> ComposeResult:
        previous = self.previous
        with Vertical(classes="dialog -tall"):
            yield Label("New item", classes="dialog-title")
            yield Label("Key")
            yield Input(previous.key if previous else "", id="new-key", compact=True)
            yield Label("Data (a JSON object)")
            yield TextArea(previous.text if previous else self.EMPTY_DATA, language="json", id="new-data")
            yield Label("ItemTtl (empty: never expires; seconds or 90s, 15m, 2h, 7d)")
            yield Input(previous.ttl_text if previous else "", id="new-ttl", compact=True)
            yield Static(literal_block(self.error or "", "bold red"), id="new-item-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Create", variant="primary", id="create")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#new-key", Input).focus()
        self.query_one("#new-data", TextArea).cursor_blink = False

    def _show_error(self, message: str) -> None:
        self.query_one("#new-item-error", Static).update(literal_block(message, "bold red"))

    EMPTY_DATA = "{\n  \n}"

    def typed(self) -> NewItemRequest:
        """What the fields hold now, checked or not (for a draft when the app quits)."""
        ttl_text = self.query_one("#new-ttl", Input).value
        return NewItemRequest(self.query_one("#new-key", Input).value, self.query_one("#new-data", TextArea).text,
                              {}, None, ttl_text)


    @on(Button.Pressed, "#create")
    def _create(self) -> None:
        key = self.query_one("#new-key", Input).value
        text = self.query_one("#new-data", TextArea).text
        ttl_text = self.query_one("#new-ttl", Input).value
        try:
            check_key(key)
            checked = check_data(text)
            if checked.error is not None:
                raise checked.error
            item_ttl = parse_ttl(ttl_text) if ttl_text.strip() else None
        except ValidationError as error:
            self._show_error(error.message)
            return
        assert checked.value is not None
        self.dismiss(NewItemRequest(key, text, checked.value, item_ttl, ttl_text))

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True)
class NewMapRequest:
    unique_name: str | None
    collection_ttl: int | None


class NewMapDialog(Dialog):
    GUARDED = False  # opened by the user to type into: keys are meant for it

    def __init__(self, service_name: str) -> None:
        super().__init__()
        self.service_name = service_name

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("New map", classes="dialog-title")
            where = Text("in service ")
            where.append_text(key_text(self.service_name, "bold"))
            yield Static(where)
            yield Label("Unique name (optional)")
            yield Input(id="map-name", compact=True)
            yield Label("CollectionTtl (empty: never expires)")
            yield Input(id="map-ttl", compact=True)
            yield Static("", id="new-map-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Create", variant="primary", id="create")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#map-name", Input).focus()

    @on(Button.Pressed, "#create")
    @on(Input.Submitted)
    def _create(self) -> None:
        name = self.query_one("#map-name", Input).value.strip()
        ttl_text = self.query_one("#map-ttl", Input).value
        try:
            ttl = parse_ttl(ttl_text) if ttl_text.strip() else None
        except ValidationError as error:
            self.query_one("#new-map-error", Static).update(Text(error.message, style="bold red"))
            return
        self.dismiss(NewMapRequest(name or None, ttl))

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)



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

    BACK_ANSWER = "back"

    def __init__(self, view: ThreeWay, *, read_only: bool = False) -> None:
        from syncmap_tui.sync.conflict import overwrite_reverts, rows

        super().__init__()
        self.view = view
        self.read_only = read_only
        self.rows = rows(view)
        self.reverted = [] if read_only else overwrite_reverts(view, self.rows)
        """The rows whose change of theirs Overwrite would undo."""
        self._reverted_ids = {id(row) for row in self.reverted}
        self._marked: int | None = None

    @property
    def theirs(self) -> MapItem:
        return self.view.theirs

    def compose(self) -> ComposeResult:
        from textual.widgets import OptionList

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
                yield ChoiceButton("Back", id="back")
                # Read-only: Merge and Overwrite would save; Take theirs only loads theirs and
                # keeps the edit for F4.
                if not self.read_only:
                    yield ChoiceButton("Merge", variant="primary", id="merge")
                yield ChoiceButton("Take theirs", id="theirs")
                if not self.read_only:
                    yield ChoiceButton("Overwrite", variant="error", id="overwrite")

    def on_mount(self) -> None:
        from textual.widgets import OptionList

        rows = self.query_one("#conflict-rows", OptionList)
        if self.rows:
            rows.highlighted = 0
        else:
            self._show_detail(None)
        rows.focus()

    def _summary(self) -> Text:
        from syncmap_tui.sync.conflict import theirs_changed_nothing

        view = self.view
        summary = key_text(view.theirs.key, "bold")
        summary.no_wrap = False
        summary.append(
            f": you loaded revision {visible(view.base.revision)}; the server now has revision {visible(view.theirs.revision)}"
            f", updated {format_when(view.theirs.date_updated)}."
        )
        if view.recreated:
            summary.append(" It is another item under the same key: everything it holds is theirs.")
        elif theirs_changed_nothing(view):
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
        from syncmap_tui.sync.conflict import THEIRS_CHANGED

        if self.read_only:
            return "This session is read-only: nothing can be saved."
        if id(row) in self._reverted_ids:
            return "Overwrite reverts this change of theirs."
        if row.who in THEIRS_CHANGED:
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

    @on(Button.Pressed)
    def _answer(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id)


def _row_name(row: Row, *, long: bool = False) -> str:
    """What a row is about: its JSON path (non-printing characters escaped), or the expiry."""
    from syncmap_tui.sync.conflict import DataRow, ExpiryRow
    from syncmap_tui.sync.merge import render_path

    if isinstance(row, DataRow):
        return visible(render_path(row.path))
    if isinstance(row, ExpiryRow):
        return "the item's expiry" if long else "expiry"
    return "the map's expiry (CollectionTtl)" if long else "map expiry"


def _side_text(row: Row, side: str, *, full: bool = False) -> Text:
    """One side's value of a row as plain text (never markup): JSON, or an expiry."""
    from syncmap_tui.sync.conflict import DataRow, ExpiryRow
    from syncmap_tui.sync.merge import ABSENT, json_text

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


class SideChoice(Widget, can_focus=True):
    """One path changed on both sides: which value to keep. Drawn as radio buttons whose chosen
    side shows as `(•)` and whose focus as `▶`, not by colour alone. Up/down (or left/right)
    choose at once, space switches, enter moves on: what shows as chosen is what is applied."""

    BINDINGS = [
        Binding("up,left", "choose('mine')", "Keep mine for this path", show=False, id="merge-keep-mine"),
        Binding("down,right", "choose('theirs')", "Keep theirs for this path", show=False, id="merge-keep-theirs"),
        Binding("space", "switch", "Switch between mine and theirs", show=False, id="merge-switch"),
        Binding("enter", "screen.next_path", "Next path (after the last: Apply)", show=False, id="merge-next-path"),
    ]
    DEFAULT_CSS = """
    SideChoice { height: auto; padding: 0 0 1 0; }
    SideChoice:focus { text-style: bold; }
    """

    side: reactive[Side] = reactive("mine")
    """The side this path takes; the merge applies exactly this."""

    def __init__(self, conflict: Conflict, *, id: str) -> None:
        super().__init__(id=id)
        self.conflict = conflict

    def render(self) -> Text:
        from syncmap_tui.sync.merge import render_path

        text = Text()
        text.append("▶ " if self.has_focus else "  ", style="bold")
        text.append(visible(render_path(self.conflict.path)), style="bold")
        for side in ("mine", "theirs"):
            chosen = self.side == side
            text.append("\n    ")
            text.append("(•) " if chosen else "( ) ", style="bold" if chosen else "")
            text.append(f"{side:<7}", style="bold" if chosen else "dim")
            text.append_text(_merge_value_text(self.conflict.value(side)))
        return text

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def action_choose(self, side: Side) -> None:
        self.side = side

    def action_switch(self) -> None:
        self.side = "theirs" if self.side == "mine" else "mine"


def _merge_value_text(value: Any) -> Text:
    from syncmap_tui.sync.merge import ABSENT, json_text

    if value is ABSENT:
        return Text("(removed)", style="italic")
    return Text(json_text(value))


MergeChoices = dict["Path", "Side"]


class MergeDialog(Dialog["MergeChoices | None"]):
    """Both sides changed the same paths: pick a side for each. Escape goes back without merging."""

    def __init__(self, conflicts: list[Conflict]) -> None:
        super().__init__()
        self.conflicts = conflicts

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -wide", id="merge"):
            yield Label(f"{len(self.conflicts)} path(s) changed on both sides: keep which?", classes="dialog-title")
            yield Static(Text("↑↓ choose · space switches · enter: next path · esc: back", style="dim"))
            with VerticalScroll(id="merge-paths"):
                for index, conflict in enumerate(self.conflicts):
                    yield SideChoice(conflict, id=f"choice-{index}")
            with Horizontal(classes="dialog-buttons"):
                yield ChoiceButton("Back", id="back")
                yield ChoiceButton("Apply and save", variant="primary", id="apply")

    def on_mount(self) -> None:
        self.query_one("#choice-0", SideChoice).focus()

    def action_next_path(self) -> None:
        """Enter on a path: on to the next one, and from the last to Apply (never Apply itself)."""
        choices = list(self.query(SideChoice))
        focused = self.focused
        later = choices[choices.index(focused) + 1 :] if focused in choices else []
        (later[0] if later else self.query_one("#apply", Button)).focus()

    def choices(self) -> MergeChoices:
        """What the dialog shows as chosen, per path: what Apply answers."""
        return {choice.conflict.path: choice.side for choice in self.query(SideChoice)}

    @on(Button.Pressed, "#apply")
    def _apply(self) -> None:
        self.dismiss(self.choices())

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.dismiss(None)


RecoveryChoice = Literal["open", "export", "discard", "later"]


class RecoverDraftDialog(Dialog[RecoveryChoice]):
    """An edit from an earlier session that was never saved: open it, save it to a file, or drop it."""

    BACK_ANSWER = "later"

    def __init__(
        self, draft: Draft, position: int, count: int, *, read_only: bool = False, names: tuple[str, str] | None = None
    ) -> None:
        super().__init__()
        self.draft = draft
        self.position = position
        self.count = count
        self.read_only = read_only
        self.service_name, self.map_name = names or (draft.service_sid, draft.map_sid)
        """The names the draft's service and map have now (their SIDs where none is known)."""

    def compose(self) -> ComposeResult:
        draft = self.draft
        title = "Unsaved edit found" + (f" ({self.position} of {self.count})" if self.count > 1 else "")
        with Vertical(classes="dialog"):
            yield Label(title, classes="dialog-title")
            yield Static(
                _field_lines(
                    [
                        ("key", draft.key),
                        ("map", self.map_name),
                        ("service", self.service_name),
                        ("based on revision", draft.base_revision or "(new item)"),
                        ("last typed", format_when(draft.saved_at)),
                    ]
                ),
                id="draft-fields",
            )
            yield Static(
                Text(
                    "Read-only session: Open shows it, but nothing can be saved; Save to file keeps it."
                    if self.read_only
                    else "Open compares it with the server's current item; if that moved (or is another item "
                    "created under the key), the conflict dialog opens."
                )
            )
            with Horizontal(classes="dialog-buttons"):
                yield ChoiceButton("Open", variant="primary", id="open")
                yield ChoiceButton("Save to file", id="export")
                yield ChoiceButton("Discard", variant="error", id="discard")
                yield ChoiceButton("Later", id="later")

    def on_mount(self) -> None:
        self.query_one("#open", Button).focus()

    @on(Button.Pressed)
    def _answer(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id)


class ExportPathDialog(Dialog["str | None"]):
    """Where to write a draft's text. An existing file is never overwritten."""

    GUARDED = False  # opened by the user to type into: keys are meant for it

    def __init__(self, suggested: str) -> None:
        super().__init__()
        self.suggested = suggested

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Save the draft's text to a file", classes="dialog-title")
            yield Input(self.suggested, id="export-path", compact=True)
            yield Static(Text("An existing file is never overwritten: a number is added to the name.", style="dim"))
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save", variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#export-path", Input).focus()

    @on(Button.Pressed, "#save")
    @on(Input.Submitted)
    def _save(self) -> None:
        path = self.query_one("#export-path", Input).value.strip()
        self.dismiss(path or None)

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)
