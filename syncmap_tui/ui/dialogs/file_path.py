"""The file-path prompt: where to write a draft's text or a map's export, what file to import."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static

from syncmap_tui.ui.dialogs.base import Dialog
from syncmap_tui.ui.literal import literal


class FilePathDialog(Dialog["str | None"]):
    """A file to write (a draft's text, a map's export) or read (an import). The defaults are the
    draft's: an existing file is never overwritten."""

    GUARDED = False  # opened by the user to type into: keys are meant for it

    def __init__(
        self,
        suggested: str,
        *,
        title: str = "Save the draft's text to a file",
        note: str = "An existing file is never overwritten: a number is added to the name.",
        action: str = "Save",
    ) -> None:
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
