"""Both sides changed the same paths: a side for each."""

from __future__ import annotations


from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Button, Label, Static

from syncmap_tui.sync.merge import ABSENT, Conflict, Path, Side, json_text, render_path
from syncmap_tui.ui.literal import visible
from syncmap_tui.ui.dialogs.base import ChoiceButton, Dialog


class SideChoice(Widget, can_focus=True):
    """One path changed on both sides: which value to keep. Drawn as radio buttons whose chosen
    side shows as `(•)` and whose focus as `▶`, not by colour alone. Up/down (or left/right)
    choose at once, space switches, enter moves on: what shows as chosen is what is applied."""

    BINDINGS = [
        Binding("up,left", "choose('mine')", "Keep mine for this path", show=False, id="merge-keep-mine"),
        Binding("down,right", "choose('theirs')", "Keep theirs for this path", show=False, id="merge-keep-theirs"),
        Binding("space", "switch", "Switch between mine and theirs", show=False, id="merge-switch"),
        Binding("enter", "screen.next_path", "Next path (after the last: Apply)", show=False, id="merge-next-path"),
    ]
    DEFAULT_CSS = """
    SideChoice { height: auto; padding: 0 0 1 0; }
    SideChoice:focus { text-style: bold; }
    """

    side: reactive[Side] = reactive("mine")
    """The side this path takes; the merge applies exactly this."""

    def __init__(self, conflict: Conflict, *, id: str) -> None:
        super().__init__(id=id)
        self.conflict = conflict

    def render(self) -> Text:
        text = Text()
        text.append("▶ " if self.has_focus else "  ", style="bold")
        text.append(visible(render_path(self.conflict.path)), style="bold")
        for side in ("mine", "theirs"):
            chosen = self.side == side
            text.append("\n    ")
            text.append("(•) " if chosen else "( ) ", style="bold" if chosen else "")
            text.append(f"{side:<7}", style="bold" if chosen else "dim")
            text.append_text(_merge_value_text(self.conflict.value(side)))
        return text

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def action_choose(self, side: Side) -> None:
        self.side = side

    def action_switch(self) -> None:
        self.side = "theirs" if self.side == "mine" else "mine"


def _merge_value_text(value: object) -> Text:

    if value is ABSENT:
        return Text("(removed)", style="italic")
    return Text(json_text(value))


MergeChoices = dict["Path", "Side"]


class MergeDialog(Dialog["MergeChoices | None"]):
    """Both sides changed the same paths: pick a side for each. Escape goes back without merging."""

    def __init__(self, conflicts: list[Conflict]) -> None:
        super().__init__(back_answer=None)
        self.conflicts = conflicts

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog -wide", id="merge"):
            yield Label(f"{len(self.conflicts)} path(s) changed on both sides: keep which?", classes="dialog-title")
            yield Static(Text("↑↓ choose · space switches · enter: next path · esc: back", style="dim"))
            with VerticalScroll(id="merge-paths"):
                for index, conflict in enumerate(self.conflicts):
                    yield SideChoice(conflict, id=f"choice-{index}")
            with Horizontal(classes="dialog-buttons"):
                yield ChoiceButton("Back", id="back")
                yield ChoiceButton("Apply and save", variant="primary", id="apply")

    def on_mount(self) -> None:
        self.query_one("#choice-0", SideChoice).focus()

    def action_next_path(self) -> None:
        """Enter on a path: on to the next one, and from the last to Apply (never Apply itself)."""
        choices = list(self.query(SideChoice))
        focused = self.focused
        later = choices[choices.index(focused) + 1 :] if focused in choices else []
        (later[0] if later else self.query_one("#apply", Button)).focus()

    def choices(self) -> MergeChoices:
        """What the dialog shows as chosen, per path: what Apply answers."""
        return {choice.conflict.path: choice.side for choice in self.query(SideChoice)}

    @on(Button.Pressed, "#apply")
    def _apply(self) -> None:
        self.dismiss(self.choices())

    @on(Button.Pressed, "#back")
    def _back(self) -> None:
        self.dismiss(None)
