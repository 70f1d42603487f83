"""Yes or no before something that cannot be undone, and what to do with unsaved changes."""

from __future__ import annotations

from typing import Literal

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from syncmap_tui.ui.display import display_key, key_text
from syncmap_tui.ui.dialogs.base import ChoiceButton, Dialog, field_lines


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
        super().__init__(back_answer=False)
        self.title_text = title
        self.fields = fields
        self.confirm_label = confirm_label
        self.type_to_confirm = type_to_confirm
        self.typed_what = typed_what
        """What `type_to_confirm` is, in the prompt: "key", "map name"."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield Static(field_lines(self.fields), id="confirm-fields")
            if self.type_to_confirm is not None:
                prompt = f"This is a production account. Type the {self.typed_what} exactly to confirm:"
                if display_key(self.type_to_confirm) != self.type_to_confirm:
                    # It is shown with escapes (a trailing space as \x20): what is typed is compared
                    # with the key itself.
                    prompt = (f"This is a production account. Type the {self.typed_what} exactly to confirm (the "
                              "characters themselves, not the escapes it is shown with above):")
                yield Static(Text(prompt))
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

    def __init__(self, key: str, doing: str, *, can_save: bool = True, can_keep: bool = False,
                 new_item: bool = False) -> None:
        super().__init__(back_answer="cancel")
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
                    yield self.choice("Save", "save", id="save", variant="primary")
                yield self.choice("Discard", "discard", id="discard", variant="error")
                if self.can_keep:
                    yield self.choice("Keep draft", "keep", id="keep")
                yield self.choice("Cancel", "cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#save" if self.can_save else "#cancel", Button).focus()
