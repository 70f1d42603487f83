"""The dialog for a bug met by a flow (see flow_errors): imported only when one happens."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Label, Static

from syncmap_tui.ui.dialogs.base import Dialog
from syncmap_tui.ui.literal import literal_block


class FlowErrorDialog(Dialog[None]):
    """An unexpected error in a flow: what happened (literally, secrets removed), where the report
    and the edit are. The app goes on once it is read."""

    DEFAULT_CSS = """
    FlowErrorDialog #flow-error-text { height: auto; max-height: 16; }
    """

    def __init__(self, doing: str, what: str, report: Path | None, draft: Path | None) -> None:
        super().__init__(back_answer=None)
        self.doing = doing
        self.what = what
        self.report = report
        self.draft = draft

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="flow-error"):
            yield Label(Text(f"{self.doing} failed: unexpected error"), classes="dialog-title")
            with VerticalScroll(id="flow-error-text"):
                yield Static(self.message(), id="flow-error-message")
            with Horizontal(classes="dialog-buttons"):
                yield Button("OK", variant="primary", id="ok")

    def message(self) -> Text:
        text = Text("What happened: ")
        text.append_text(literal_block(self.what))
        if self.draft is not None:
            text.append(f"\n\nYour unsaved edit is in the editor, and saved to {self.draft}.")
        else:
            text.append("\n\nAn edit open in the editor is still there.")
        if self.report is not None:
            text.append(f"\nA report (no local variables, secrets removed) is in {self.report}.")
        text.append("\nPlease send it to the syncmap-tui maintainers with what you were doing.")
        return text

    def on_mount(self) -> None:
        self.query_one("#ok", Button).focus()

    @on(Button.Pressed, "#ok")
    def _ok(self) -> None:
        self.dismiss(None)
