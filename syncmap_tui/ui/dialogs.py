"""Every modal of the app. Each returns its answer through `dismiss`; the screen's workers await them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static, TextArea

from syncmap_tui.sync.models import MapItem
from syncmap_tui.sync.validation import ValidationError, check_data, check_key, parse_ttl
from syncmap_tui.ui.formatting import format_when
from syncmap_tui.ui.literal import literal


class Dialog(ModalScreen):
    """A centred box with a title; escape answers None (or the dialog's own 'back' answer)."""

    BINDINGS = [Binding("escape", "back", "Back", id="dialog-back")]
    BACK_ANSWER: Any = None
    shown_at: float = float("inf")
    """When the dialog was mounted, on Textual's message clock: see SyncMapApp.on_event."""

    def on_mount(self, event: events.Mount) -> None:
        self.shown_at = event.time

    def action_back(self) -> None:
        self.dismiss(self.BACK_ANSWER)


def _field_lines(fields: list[tuple[str, str]]) -> Text:
    text = Text()
    for index, (name, value) in enumerate(fields):
        if index:
            text.append("\n")
        text.append(f"{name}: ", style="bold")
        text.append_text(literal(value))
    return text


class ConfirmDialog(Dialog):
    """Yes or no about something that cannot be undone; production targets make the user type the name."""

    def __init__(
        self,
        title: str,
        fields: list[tuple[str, str]],
        *,
        confirm_label: str,
        type_to_confirm: str | None = None,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.fields = fields
        self.confirm_label = confirm_label
        self.type_to_confirm = type_to_confirm

    BACK_ANSWER = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield Static(_field_lines(self.fields), id="confirm-fields")
            if self.type_to_confirm is not None:
                yield Static(Text("This is a production account. Type the name exactly to confirm:"))
                yield Input(id="type-to-confirm", compact=True)
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.confirm_label, variant="error", id="confirm")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        if self.type_to_confirm is not None:
            self.query_one("#type-to-confirm", Input).focus()
        else:
            self.query_one("#cancel", Button).focus()

    @on(Button.Pressed, "#confirm")
    def _confirm(self) -> None:
        if self.type_to_confirm is not None and self.query_one("#type-to-confirm", Input).value != self.type_to_confirm:
            self.notify("The typed name does not match.", severity="error")
            return
        self.dismiss(True)

    @on(Input.Submitted, "#type-to-confirm")
    def _typed(self) -> None:
        self._confirm()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(False)


LeaveChoice = Literal["save", "keep", "discard", "cancel"]


class UnsavedChangesDialog(Dialog):
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
            message.append_text(literal(self.key, "bold"))
            if self.new_item:
                message.append(f" is not created yet. It is kept as a draft; {self.doing} anyway?")
            elif self.can_save:
                message.append(f" has unsaved changes. Save them before you {self.doing}?")
            else:
                message.append(f" has unsaved changes. Discard them and {self.doing}?")
            yield Static(message)
            with Horizontal(classes="dialog-buttons"):
                if self.can_save:
                    yield Button("Save", variant="primary", id="save")
                if self.can_keep:
                    yield Button(f"Keep a draft and {self.doing}", id="keep")
                yield Button("Discard", variant="error", id="discard")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#save" if self.can_save else "#cancel", Button).focus()

    @on(Button.Pressed)
    def _answer(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id)


class DeletedDialog(Dialog):
    """The item was deleted while it was being edited."""

    BACK_ANSWER = "back"

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("The item was deleted", classes="dialog-title")
            message = Text("Someone deleted ")
            message.append_text(literal(self.key, "bold"))
            message.append(" (or it expired) while you were editing it.")
            yield Static(message)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Recreate it with my data", variant="primary", id="recreate")
                yield Button("Discard my edit", variant="error", id="discard")
                yield Button("Back to editing", id="back")

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


class NewItemDialog(Dialog):
    """Key, JSON data and an optional TTL; every field is checked before anything is sent."""

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
            yield Static(Text(self.error or "", style="bold red"), id="new-item-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Create", variant="primary", id="create")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#new-key", Input).focus()
        self.query_one("#new-data", TextArea).cursor_blink = False

    def _show_error(self, message: str) -> None:
        self.query_one("#new-item-error", Static).update(Text(message, style="bold red"))

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
    def __init__(self, service_name: str) -> None:
        super().__init__()
        self.service_name = service_name

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("New map", classes="dialog-title")
            where = Text("in service ")
            where.append_text(literal(self.service_name, "bold"))
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


ConflictChoice = Literal["overwrite", "theirs", "merge", "back"]


class ConflictDialog(Dialog):
    """Someone else saved first. Shows theirs against mine, by JSON path, and asks what to do."""

    BACK_ANSWER = "back"
    BINDINGS = [
        Binding("o", "answer('overwrite')", "Overwrite", id="conflict-overwrite"),
        Binding("t", "answer('theirs')", "Take theirs", id="conflict-theirs"),
        Binding("m", "answer('merge')", "Merge", id="conflict-merge"),
    ]

    def __init__(self, loaded: MapItem, mine: dict[str, Any], theirs: MapItem) -> None:
        super().__init__()
        self.loaded = loaded
        self.mine = mine
        self.theirs = theirs

    def compose(self) -> ComposeResult:
        from syncmap_tui.sync.merge import diff_lines

        with Vertical(classes="dialog -wide", id="conflict"):
            yield Label("Someone else changed this item", classes="dialog-title")
            summary = Text()
            summary.append_text(literal(self.theirs.key, "bold"))
            summary.append(
                f": you loaded revision {self.loaded.revision}; the server now has revision "
                f"{self.theirs.revision}, updated {format_when(self.theirs.date_updated)}."
            )
            yield Static(summary)
            yield Static(Text("theirs → mine  (- only theirs, + only mine, ~ differs)", style="dim"))
            lines = diff_lines(self.theirs.data, self.mine)
            with VerticalScroll(id="conflict-diff"):
                if not lines:
                    yield Static(Text("Their data is the same as yours; only the revision moved.", style="italic"))
                for line in lines:
                    yield Static(_diff_line_text(line), classes="diff-line")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Overwrite (o)", variant="error", id="overwrite")
                yield Button("Take theirs (t)", id="theirs")
                yield Button("Merge (m)", variant="primary", id="merge")
                yield Button("Back (esc)", id="back")

    def on_mount(self) -> None:
        self.query_one("#merge", Button).focus()

    def action_answer(self, choice: ConflictChoice) -> None:
        self.dismiss(choice)

    @on(Button.Pressed)
    def _answer(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id)


_SIGN_STYLE = {"-": "red", "+": "green", "~": "yellow"}


def _diff_line_text(line: Any) -> Text:
    return literal(line.text, _SIGN_STYLE.get(line.sign, ""))


def _value_preview(value: Any, limit: int = 70) -> str:
    from syncmap_tui.sync.merge import ABSENT, json_text

    if value is ABSENT:
        return "(removed)"
    text = json_text(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class MergeDialog(Dialog):
    """Both sides changed the same paths: pick a side for each. Escape goes back without merging."""

    def __init__(self, conflicts: list[Any]) -> None:
        super().__init__()
        self.conflicts = conflicts

    def compose(self) -> ComposeResult:
        from textual.widgets import RadioButton, RadioSet

        from syncmap_tui.sync.merge import render_path

        with Vertical(classes="dialog -wide"):
            yield Label(f"{len(self.conflicts)} path(s) changed on both sides", classes="dialog-title")
            with VerticalScroll(id="merge-paths"):
                for index, conflict in enumerate(self.conflicts):
                    yield Static(literal(render_path(conflict.path), "bold"))
                    with RadioSet(id=f"choice-{index}"):
                        yield RadioButton(literal(f"mine:   {_value_preview(conflict.mine)}"), value=True)
                        yield RadioButton(literal(f"theirs: {_value_preview(conflict.theirs)}"))
            with Horizontal(classes="dialog-buttons"):
                yield Button("Apply and save", variant="primary", id="apply")
                yield Button("Back", id="back")

    @on(Button.Pressed, "#apply")
    def _apply(self) -> None:
        from textual.widgets import RadioSet

        choices = {}
        for index, conflict in enumerate(self.conflicts):
            pressed = self.query_one(f"#choice-{index}", RadioSet).pressed_index
            choices[conflict.path] = "theirs" if pressed == 1 else "mine"
        self.dismiss(choices)

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.dismiss(None)


RecoveryChoice = Literal["open", "export", "discard", "later"]


class RecoverDraftDialog(Dialog):
    """An edit from an earlier session that was never saved: open it, save it to a file, or drop it."""

    BACK_ANSWER = "later"

    def __init__(self, draft: Any, position: int, count: int, *, read_only: bool = False) -> None:
        super().__init__()
        self.draft = draft
        self.position = position
        self.count = count
        self.read_only = read_only

    def compose(self) -> ComposeResult:
        draft = self.draft
        title = "Unsaved edit found" + (f" ({self.position} of {self.count})" if self.count > 1 else "")
        with Vertical(classes="dialog"):
            yield Label(title, classes="dialog-title")
            yield Static(
                _field_lines(
                    [
                        ("key", draft.key),
                        ("map", draft.map_sid),
                        ("service", draft.service_sid),
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
                yield Button("Open", variant="primary", id="open")
                yield Button("Save to file", id="export")
                yield Button("Discard", variant="error", id="discard")
                yield Button("Later", id="later")

    def on_mount(self) -> None:
        self.query_one("#open", Button).focus()

    @on(Button.Pressed)
    def _answer(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id)


class ExportPathDialog(Dialog):
    """Where to write a draft's text. An existing file is never overwritten."""

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
