"""The base of every modal: `Dialog[T]` answers a T; `ChoiceButton`s answer by what they carry."""

from __future__ import annotations

from typing import ClassVar, TypeVar

from rich.text import Text
from textual import on
from textual.binding import Binding
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button
from textual.widgets.button import ButtonVariant

from syncmap_tui.ui.display import key_text
from syncmap_tui.ui.type_ahead import TYPE_AHEAD_GUARD_SECONDS


T = TypeVar("T")


class Dialog(ModalScreen[T]):
    """A centred box with a title; escape answers `back_answer`. `Dialog[T]` dismisses with a T;
    a button made with `choice` answers what it was given.

    Keys typed before the dialog was on the screen, or within the app's type-ahead guard after
    that (SyncMapApp.dialog_guard_seconds), were meant for the screen underneath: the app drops
    them (SyncMapApp.on_event). Dialogs that open because the user just asked for one to type into
    (GUARDED = False) take every key at once."""

    BINDINGS = [Binding("escape", "back", "Back, answering nothing", id="dialog-back")]
    DEFAULT_CSS = """
    Dialog.-guarded ChoiceButton { text-style: dim; }
    """
    GUARDED: ClassVar[bool] = True

    def __init__(self, *, back_answer: T) -> None:
        super().__init__()
        self.back_answer = back_answer
        """What escape answers: going back, with nothing done."""
        self._choices: dict[str, T] = {}
        """The answer of each `choice` button, by its id."""
        self.keys_accepted_from = float("inf") if self.GUARDED else 0.0
        """Keys and clicks with an earlier time (Textual's message clock) are dropped: see SyncMapApp.on_event."""
        self.dropped_input = False
        """The app rings the bell at the first key or click it drops, not at each."""

    class Shown(Message):
        """The dialog's first frame is out. Its time, on the clock of every key's and click's
        time, starts the guard."""

        bubble = False

    def on_mount(self) -> None:
        if not self.GUARDED:
            return
        self.add_class("-guarded")
        self.call_after_refresh(lambda: self.post_message(self.Shown()))

    @on(Shown)
    def _start_guard(self, message: Shown) -> None:
        guard = getattr(self.app, "dialog_guard_seconds", TYPE_AHEAD_GUARD_SECONDS)
        self.keys_accepted_from = message.time + guard
        if guard > 0:  # Textual's timers divide by their delay
            self.set_timer(guard, self._guard_over)
        else:
            self._guard_over()

    def _guard_over(self) -> None:
        """The buttons stop looking dimmed: the dialog takes keys now."""
        self.remove_class("-guarded")

    def choice(self, label: str, answer: T, *, id: str, variant: ButtonVariant = "default") -> ChoiceButton:
        """A button that dismisses the dialog with `answer` when pressed."""
        self._choices[id] = answer
        return ChoiceButton(label, variant, id=id)

    @on(Button.Pressed)
    def _answer_choice(self, event: Button.Pressed) -> None:
        button_id = event.button.id
        if button_id is not None and button_id in self._choices:
            self.dismiss(self._choices[button_id])

    def action_back(self) -> None:
        self.dismiss(self.back_answer)


class ChoiceButton(Button):
    """A dialog button whose focus shows without colour: `▶ Label ◀` when focused, `  Label  ` not
    (the same width, so nothing moves)."""

    DEFAULT_CSS = """
    ChoiceButton { min-width: 0; }
    ChoiceButton:focus { text-style: bold reverse; }
    """
    BINDINGS = [
        Binding("left", "focus_sibling(-1)", "Previous button", show=False),
        Binding("right", "focus_sibling(1)", "Next button", show=False),
    ]

    def __init__(self, label: str, variant: ButtonVariant = "default", *, id: str) -> None:
        self.plain_label = label
        super().__init__(self._marked(False), variant, id=id, compact=True)

    def _marked(self, focused: bool) -> str:
        return f"▶ {self.plain_label} ◀" if focused else f"  {self.plain_label}  "

    def on_focus(self) -> None:
        self.label = self._marked(True)

    def on_blur(self) -> None:
        self.label = self._marked(False)

    def action_focus_sibling(self, step: int) -> None:
        """Left and right move along the row of buttons, as in other dialogs people know."""
        assert self.parent is not None
        buttons = [b for b in self.parent.query_children(ChoiceButton) if b.focusable]
        index = buttons.index(self)
        if 0 <= index + step < len(buttons):
            buttons[index + step].focus()


def field_lines(fields: list[tuple[str, str]]) -> Text:
    text = Text()
    for index, (name, value) in enumerate(fields):
        if index:
            text.append("\n")
        text.append(f"{name}: ", style="bold")
        text.append_text(key_text(value))  # keys, names, revisions: what tells them apart shows
    return text
