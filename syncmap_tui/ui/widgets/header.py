"""The top bar: which account is open, whether writes are allowed, where we are, what is running.

One row, laid out for 80 columns, left to right in order of what must never be lost:

    [brand] [target] [READ-ONLY] [location ……………] [notice] [activity]

* The target (the account: `LOCAL EMULATOR`, a profile, `PRODUCTION name`) comes first and is cut
  at the end of its own width, so "PRODUCTION" (a prefix) always shows; the label is cut, never
  the flag after it.
* `READ-ONLY` is a widget of its own with a fixed width, right after the target: nothing to its
  left can grow past the target's bound, so no later addition can push it off the screen.
* The location (service › map › key) takes what is left and is cut first: the editor's heading
  repeats the key.
* Notices (`show_notice`) are what later work adds: being behind the server, watch state, webhook
  warnings. Each comes from a named source, so features do not clear each other's; the most severe
  (then the latest) shows, with "+N" for the others. Their width is bounded, so they eat into the
  location and never into the target.
* Activity (saving…, loading…) is last and bounded too.

Nothing here relies on colour alone: the flags and severities are words and signs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.events import Resize
from textual.widgets import Static

from syncmap_tui.config import Target
from syncmap_tui.sync.models import Service
from syncmap_tui.ui.display import key_text
from syncmap_tui.ui.literal import literal, visible

Severity = Literal["information", "warning", "error"]
WEBHOOK_NOTICE = "webhook"
"""The notice's source for "saves call a webhook"."""
_SEVERITY_RANK: dict[Severity, int] = {"information": 0, "warning": 1, "error": 2}
_SEVERITY_SIGN: dict[Severity, str] = {"information": "", "warning": "⚠ ", "error": "✖ "}
NOTICE_MAX_WIDTH = 40
"""Columns a notice may take (with its padding): the location gives way to it, the target never.
The watch's "server: rev 123, changed 21:40:05" (32) with its sign and a "+1" fits."""
BRAND_MIN_WIDTH = 100
"""Below this width the "syncmap-tui" brand (13 columns; the terminal's title says it too) gives
its room to the target and the location."""


@dataclass(frozen=True)
class _Notice:
    text: str
    severity: Severity
    order: int


class HeaderBar(Horizontal):
    """Which account is open (the local emulator and production unmistakably so), whether it is
    read-only, where we are, notices, and what is running. See the module docstring for the layout."""

    DEFAULT_CSS = """
    HeaderBar { height: 1; background: $panel; }
    HeaderBar Static { width: auto; text-wrap: nowrap; text-overflow: ellipsis; }
    HeaderBar #brand { padding: 0 1; text-style: bold; }
    HeaderBar.-narrow #brand { display: none; }
    HeaderBar #target { max-width: 40%; padding: 0 1; background: $primary-muted; }
    HeaderBar #target.-emulator { background: $success; color: $text; text-style: bold; }
    HeaderBar #target.-production { background: $error; color: $text; text-style: bold; }
    HeaderBar #read-only { text-style: bold reverse; }
    HeaderBar #location { width: 1fr; min-width: 0; padding: 0 1; }
    HeaderBar #notice { padding: 0 1; }
    HeaderBar #notice.-warning { color: $warning; text-style: bold; }
    HeaderBar #notice.-error { color: $error; text-style: bold; }
    HeaderBar #activity { max-width: 22; padding: 0 1; color: $accent; }
    """

    def __init__(self, target: Target) -> None:
        super().__init__()
        self.target = target
        self._notices: dict[str, _Notice] = {}
        self._notice_count = 0

    def compose(self) -> ComposeResult:
        yield Static("syncmap-tui", id="brand")
        label = "LOCAL EMULATOR" if self.target.is_embedded_emulator else self.target.label
        if self.target.production:
            label = f"PRODUCTION {label}"
        target = Static(literal(label), id="target")
        target.set_class(self.target.is_embedded_emulator, "-emulator")
        target.set_class(self.target.production, "-production")
        yield target
        if self.target.read_only:
            yield Static(" READ-ONLY ", id="read-only")
        yield Static("", id="location")
        notice = Static("", id="notice")
        notice.styles.max_width = NOTICE_MAX_WIDTH
        yield notice
        yield Static("", id="activity")

    def on_resize(self, event: Resize) -> None:
        self.set_class(event.size.width < BRAND_MIN_WIDTH, "-narrow")

    def show_location(self, *parts: str) -> None:
        location = Text(no_wrap=True, overflow="ellipsis")
        for index, part in enumerate(p for p in parts if p):
            if index:
                location.append(" › ", style="dim")
            location.append_text(key_text(part))
        self.query_one("#location", Static).update(location)

    def show_activity(self, text: str) -> None:
        self.query_one("#activity", Static).update(Text(text))

    def show_notice(self, source: str, text: str, severity: Severity = "information") -> None:
        """Show (or replace) the notice of `source`, e.g. "behind-server" or "watch". The text is
        shown literally: it may hold remote text."""
        self._notice_count += 1
        self._notices[source] = _Notice(text, severity, self._notice_count)
        self._show_notices()

    def show_webhook_notice(self, service: Service | None) -> None:
        """Before any save: a save in the open map calls its service's webhook (issue #14)."""
        if service is not None and service.saves_call_webhook:
            self.show_notice(WEBHOOK_NOTICE, "saves call a webhook", "warning")
        else:
            self.clear_notice(WEBHOOK_NOTICE)

    def clear_notice(self, source: str) -> None:
        if self._notices.pop(source, None) is not None:
            self._show_notices()

    def _show_notices(self) -> None:
        widget = self.query_one("#notice", Static)
        if not self._notices:
            widget.update("")
            widget.remove_class("-warning", "-error")
            return
        shown = max(self._notices.values(), key=lambda n: (_SEVERITY_RANK[n.severity], n.order))
        others = f" +{len(self._notices) - 1}" if len(self._notices) > 1 else ""
        room = NOTICE_MAX_WIDTH - 2 - len(others)  # the count of the others is never cut off
        # Cut by terminal cells, not characters: a character of a CJK name takes two cells, and
        # cut by characters the notice ran past its width and the count went off the screen.
        words = Text(visible(_SEVERITY_SIGN[shown.severity] + shown.text))
        words.truncate(room, overflow="ellipsis")
        widget.update(words + others)
        widget.set_class(shown.severity == "warning", "-warning")
        widget.set_class(shown.severity == "error", "-error")
