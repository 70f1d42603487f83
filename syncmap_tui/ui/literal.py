"""Remote text (keys, names, data, server messages) on screen: never Rich markup, never a terminal
control sequence. The one rule is `visible`; `literal` and `literal_block` make Rich Text of it, and
SyncMapApp.notify and crash_message pass every message through it, so no caller can forget."""

from __future__ import annotations

from rich.text import Text


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def visible(text: str) -> str:
    """The text with every character that does not print written as a visible escape.

    C0/C1 controls could drive the terminal (ESC, CSI U+009B); bidi overrides and zero-width
    characters could make a key read as another ('invoice\\u202efdp.exe' shows as 'invoiceexe.pdf').
    """
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else _escape(char) for char in text)


def visible_lines(text: str) -> str:
    """`visible`, keeping line breaks as line breaks: for messages of several lines. A line feed
    moves no cursor sideways and sets no mode; every other control is escaped."""
    return "\n".join(visible(line) for line in text.split("\n"))


def literal(text: str, style: str = "") -> Text:
    """A Rich Text that shows `text` exactly as typed: markup is not parsed, controls are escaped."""
    return Text(visible(text), style=style, no_wrap=True, overflow="ellipsis")


def literal_block(text: str, style: str = "") -> Text:
    """`literal` for a message that wraps and may hold line breaks (notifications, dialogs)."""
    return Text(visible_lines(text), style=style)
