"""A file to write or read: a draft's text, a map's export, a file to import."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from syncmap_tui.ui.dialogs.base import Dialog
from syncmap_tui.ui.literal import literal


class FilePathDialog(Dialog["str | None"]):
    """A path, suggested and editable; None when cancelled. `title` may name remote things (a map):
    it is shown literally."""

    GUARDED = False  # opened by the user to type into: keys are meant for it

    def __init__(self, suggested: str, *, title: str, note: str, action: str) -> None:
        super().__init__(back_answer=None)
        self.suggested = suggested
        self.title_text, self.note, self.action = title, note, action

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(literal(self.title_text), classes="dialog-title")
            yield Input(self.suggested, id="export-path", compact=True)
            yield Static(Text(self.note, style="dim"))
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.action, variant="primary", id="save")
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
