"""Every key binding, read from the bindings themselves so that the help cannot drift from the code."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static, TextArea

from syncmap_tui.ui.dialogs.base import Dialog
from syncmap_tui.ui.dialogs.merge import SideChoice
from syncmap_tui.ui.main_screen import MainScreen
from syncmap_tui.ui.widgets.editor import ItemEditor
from syncmap_tui.ui.widgets.item_table import ItemTable
from syncmap_tui.ui.widgets.navigator import Navigator
from syncmap_tui.ui.widgets.panes import Body


EDITING_ACTIONS = ("select_all", "copy", "cut", "paste", "undo", "redo")
"""TextArea's own keys that a user of the JSON editor needs (F7 selects all: ctrl+a is line start)."""


def _text_keys() -> list[Binding]:
    by_action = {b.action: b for b in TextArea.BINDINGS if isinstance(b, Binding)}
    # Only the keys a terminal sends: super+… never reaches a terminal app.
    return [
        Binding(",".join(k for k in by_action[a].key.split(",") if not k.startswith("super+")), a, by_action[a].description)
        for a in EDITING_ACTIONS
    ]


def _sections(app_bindings: list[BindingType]) -> list[tuple[str, list[BindingType]]]:
    return [
        ("Everywhere", [*app_bindings, *MainScreen.BINDINGS]),
        ("Layout (tree, table and editor)", Body.BINDINGS),
        ("Service and map tree", Navigator.BINDINGS),
        ("Item table", ItemTable.BINDINGS),
        ("Editor", [*ItemEditor.BINDINGS, *_text_keys()]),
        ("Dialogs", Dialog.BINDINGS),
        ("Merge dialog", SideChoice.BINDINGS),
    ]


EXTRA_KEYS = [
    ("Everywhere", "tab / shift+tab",
     "Move the focus, always in this order: tree, jump field, table, JSON, item TTL, map TTL (the last three "
     "once an item is open). A bar on the left marks the focused one"),
    ("Everywhere", "ctrl+p", "Command palette: every action, and jump to a service, map or item"),
    ("Item table", "enter", "Open the item in the editor"),
    ("Dialogs", "tab / shift+tab", "Move between the choices; enter presses the focused one (no letter answers)"),
    ("Dialogs", "left / right", "Move along the buttons"),
]


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,f1,question_mark", "dismiss", "Close", id="close-help")]

    def compose(self) -> ComposeResult:
        table = Table(box=None, show_header=False, padding=(0, 2, 0, 0), expand=True)
        table.add_column("key", style="bold", no_wrap=True)
        table.add_column("action", ratio=1)
        extra_by_section: dict[str, list[tuple[str, str]]] = {}
        for section, keys, description in EXTRA_KEYS:
            extra_by_section.setdefault(section, []).append((keys, description))
        for section, bindings in _sections(self.app.BINDINGS):
            table.add_row(Text(section, style="underline"), "")
            for binding in bindings:
                if not isinstance(binding, Binding):
                    continue
                keys = " / ".join(self.app.get_key_display(Binding(key, "")) for key in binding.key.split(","))
                description = binding.description or binding.action.replace("_", " ")
                table.add_row(keys, description)
            for keys, description in extra_by_section.get(section, []):
                shown = " / ".join(self.app.get_key_display(Binding(key, "")) for key in keys.split(" / "))
                table.add_row(shown, description)
            table.add_row("", "")
        with VerticalScroll(classes="dialog -wide", id="help"):
            yield Label("Keys (escape closes)", classes="dialog-title")
            yield Static(table)
