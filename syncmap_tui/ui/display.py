"""How an item key (or a map or service name) reads on screen, so that two keys that differ look
different.

`literal.visible` already keeps a key from driving the terminal. A key must also not pass for
another: Sync compares keys code point by code point, so `café` typed precomposed (NFC) and `café`
typed as `e` + U+0301 (NFD) are two items, as are `sku` and `sku `, and a key holding the four
characters `\\x0a` and one holding a line feed. `display_key` writes every such difference as an
escape, and writes a backslash as `\\\\`, so an escape on screen can only mean an escape.

It is the one rule for keys and names in the table, the tree, the header, the editor heading and
the dialogs. Headless (no Textual), so that it is tested alone.
"""

from __future__ import annotations

import unicodedata

from rich.text import Text


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def display_key(key: str) -> str:
    """`key` as it reads on screen: printable text as is, and as an escape each character that
    could not be seen or would read as another:

    * a backslash as `\\\\` (so that the characters `\\x0a` never read as an escaped line feed);
    * characters that do not print (controls, line breaks, zero-width and bidi marks, no-break
      and other odd spaces) as `\\xNN` / `\\uNNNN`;
    * spaces at the start or the end as `\\x20`;
    * combining marks as `\\uNNNN` when the key is not in NFC form: NFD `café` reads `cafe\\u0301`,
      while text that has no precomposed form (and so is NFC) keeps its marks as they print.
    """
    if key.isprintable() and "\\" not in key and key.strip(" ") == key and unicodedata.is_normalized("NFC", key):
        return key  # the common key, without a pass over its characters
    decomposed = not unicodedata.is_normalized("NFC", key)
    lead = len(key) - len(key.lstrip(" "))
    trail = len(key.rstrip(" ")) if key.strip(" ") else lead
    shown = []
    for index, char in enumerate(key):
        if char == "\\":
            shown.append("\\\\")
        elif not char.isprintable() or (decomposed and unicodedata.combining(char)):
            shown.append(_escape(char))
        elif char == " " and (index < lead or index >= trail):
            shown.append("\\x20")
        else:
            shown.append(char)
    return "".join(shown)


def key_text(key: str, style: str = "") -> Text:
    """A one-line Rich Text of `display_key(key)`: never parsed as markup, cut with an ellipsis."""
    return Text(display_key(key), style=style, no_wrap=True, overflow="ellipsis")
