"""The latency floor for bench/bench_keystroke_latency.py: a bare Textual app whose one Static
shows what was typed, `  "customer": "C-1001<typed>",`. Arrow keys do nothing; backspace deletes.
What Textual itself takes from a key to the screen, with nothing else to do.
"""

from __future__ import annotations

from textual import events
from textual.app import App, ComposeResult
from textual.widgets import Static


class EchoApp(App[None]):
    BINDINGS = [("ctrl+q", "quit", "Quit")]

    def __init__(self) -> None:
        super().__init__()
        self.typed = ""

    def compose(self) -> ComposeResult:
        yield Static(self.line(), id="echo")

    def line(self) -> str:
        return f'  "customer": "C-1001{self.typed}",'

    def on_key(self, event: events.Key) -> None:
        if event.key == "backspace":
            self.typed = self.typed[:-1]
        elif event.is_printable and event.character:
            self.typed += event.character
        else:
            return
        self.query_one("#echo", Static).update(self.line())


if __name__ == "__main__":
    EchoApp().run()
