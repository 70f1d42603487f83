"""The top bar: which account is open, whether writes are allowed, where we are, what is running."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from syncmap_tui.config import Target
from syncmap_tui.ui.literal import literal


class HeaderBar(Horizontal):
    """Which account is open (the local emulator unmistakably so), where we are, and what is running."""

    DEFAULT_CSS = """
    HeaderBar { height: 1; background: $panel; }
    HeaderBar Static { text-wrap: nowrap; text-overflow: ellipsis; }
    HeaderBar #brand { width: auto; padding: 0 1; text-style: bold; }
    HeaderBar #target { width: auto; max-width: 34; padding: 0 1; background: $primary-muted; }
    HeaderBar #target.-emulator { background: $success; color: $text; text-style: bold; }
    HeaderBar #target.-production { background: $error; color: $text; text-style: bold; }
    HeaderBar #location { width: 1fr; padding: 0 1; }
    HeaderBar #activity { width: auto; padding: 0 1; color: $accent; }
    """

    def __init__(self, target: Target) -> None:
        super().__init__()
        self.target = target

    def compose(self) -> ComposeResult:
        yield Static("syncmap-tui", id="brand")
        label = "LOCAL EMULATOR" if self.target.is_embedded_emulator else self.target.label
        if self.target.production:
            label = f"PRODUCTION {label}"
        if self.target.read_only:
            label = f"{label} (read-only)"
        target = Static(literal(label), id="target")
        target.set_class(self.target.is_embedded_emulator, "-emulator")
        target.set_class(self.target.production, "-production")
        yield target
        yield Static("", id="location")
        yield Static("", id="activity")

    def show_location(self, *parts: str) -> None:
        location = Text()
        for index, part in enumerate(p for p in parts if p):
            if index:
                location.append(" › ", style="dim")
            location.append_text(literal(part))
        self.query_one("#location", Static).update(location)

    def show_activity(self, text: str) -> None:
        self.query_one("#activity", Static).update(Text(text))
