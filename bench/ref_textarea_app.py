"""The reference for the pty benches: a bare Textual app that shows one focused TextArea.

`python bench/ref_textarea_app.py [--text-file PATH] [--language json] [--no-blink]`.
Without a file it shows one line, "Reference TextArea ready", so that a bench can wait for it.
Stock in every other respect: soft wrap, cursor blink and highlighting as Textual ships them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from textual.app import App, ComposeResult
from textual.widgets import TextArea

READY_TEXT = "Reference TextArea ready"


class ReferenceApp(App[None]):
    BINDINGS = [("ctrl+q", "quit", "Quit")]

    def __init__(self, text: str, language: str | None, blink: bool) -> None:
        super().__init__()
        self.text = text
        self.language = language
        self.blink = blink

    def compose(self) -> ComposeResult:
        area = TextArea(self.text, language=self.language)
        area.cursor_blink = self.blink
        yield area


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--text-file", type=Path)
    parser.add_argument("--language")
    parser.add_argument("--no-blink", action="store_true")
    args = parser.parse_args()
    text = args.text_file.read_text(encoding="utf-8") if args.text_file else READY_TEXT
    ReferenceApp(text, args.language, not args.no_blink).run()


if __name__ == "__main__":
    main()
