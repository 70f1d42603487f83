"""The editor's stand-in for the first frame, and the swap that puts the editor in its place."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Static

from syncmap_tui.ui.widgets import EDITOR_EMPTY_TEXT

if TYPE_CHECKING:
    from syncmap_tui.ui.widgets.editor import ItemEditor


class EditorPlaceholder(Vertical):
    """Stands where the ItemEditor goes, looking as it does with no item open, until the first frame
    with the services is out. Importing and composing the editor (a TextArea with tree-sitter JSON,
    two TTL inputs) takes ~0.3 s of CPU on a 2-core machine: a third of the start-up. It says what
    the editor says with no item open, so that the swap does not show."""

    def compose(self) -> ComposeResult:
        yield Static(Text(EDITOR_EMPTY_TEXT), id="editor-empty")

    async def replace_with_editor(self) -> ItemEditor:
        """Mount the editor where this stands, and go, in one frame."""
        # Deferred to this moment, after the first frame: the ~0.3 s above.
        from syncmap_tui.ui.widgets.editor import ItemEditor

        editor = ItemEditor(id="editor")
        parent = self.parent
        assert isinstance(parent, Widget)
        with self.app.batch_update():
            await parent.mount(editor, after=self)
            await self.remove()
        return editor
