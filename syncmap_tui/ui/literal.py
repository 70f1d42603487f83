"""Remote text (keys, names, data) on screen: never Rich markup, never a terminal control sequence."""

from __future__ import annotations

import re

from rich.text import Text

# C0 and C1 controls and DEL: a raw ESC or CSI (U+009B) from a key could drive the user's terminal.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _escape_control(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def visible(text: str) -> str:
    """The text with every control character written as a visible `\\xNN` escape."""
    return _CONTROL.sub(_escape_control, text)


def literal(text: str, style: str = "") -> Text:
    """A Rich Text that shows `text` exactly as typed: markup is not parsed, controls are escaped."""
    return Text(visible(text), style=style, no_wrap=True, overflow="ellipsis")
