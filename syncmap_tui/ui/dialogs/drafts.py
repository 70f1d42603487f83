"""Drafts of an earlier run: open, save to a file, discard or later."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Label, Static

from syncmap_tui.ui.formatting import format_when
from syncmap_tui.ui.dialogs.base import Dialog, field_lines

if TYPE_CHECKING:
    from syncmap_tui.drafts import Draft


RecoveryChoice = Literal["open", "export", "discard", "later"]


class RecoverDraftDialog(Dialog[RecoveryChoice]):
    """An edit from an earlier session that was never saved: open it, save it to a file, or drop it."""

    def __init__(
        self, draft: Draft, position: int, count: int, *, read_only: bool = False, names: tuple[str, str] | None = None
    ) -> None:
        super().__init__(back_answer="later")
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
                field_lines(
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
                yield self.choice("Open", "open", id="open", variant="primary")
                yield self.choice("Save to file", "export", id="export")
                yield self.choice("Discard", "discard", id="discard", variant="error")
                yield self.choice("Later", "later", id="later")

    def on_mount(self) -> None:
        self.query_one("#open", Button).focus()
