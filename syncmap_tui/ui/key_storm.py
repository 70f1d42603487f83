"""A paste that arrives as keystrokes (a terminal or tmux without bracketed paste) is taken as one edit.

Each key typed into a TextArea is one edit: the editor validates the JSON, re-highlights and
repaints. That is right for a person typing (bench/bench_keystroke_latency.py: p95 ≤ 16 ms) and
ruinous for 16 KB pasted as 16,000 keys: about two minutes at full CPU. Here the keys that a
TextArea would insert (printable characters, enter) and that arrive back to back are collected
and inserted as one edit at the end of the burst.

A key belongs to a storm when more messages are queued behind it, or when it was read from the
terminal within STORM_GAP_SECONDS of the storm's previous key (a paste is read in pieces; the app
may catch up with one before the next arrives). The first key of a burst schedules the insert
with `call_later`, which queues it behind every message already waiting, so the keys already
read join the burst and the insert runs once the app has caught up with them. A keystroke typed
by a person arrives alone and takes the usual way, unchanged (an extra hop through the queue let
a frame go out between key and edit, which pushed the edit to the next frame: keystroke p95
12.6 -> 17 ms).

Order is kept: any other input (an arrow, ctrl+s, a click, a paste, a key for another widget)
first inserts what was collected, then goes its way. A tab in a storm is inserted as a tab:
pasted text that holds one must not move the focus out of the editor in mid-paste (the rest of
the paste would land on the item table as commands); so is a line feed (TEXT_IN_A_STORM). On
its own, each keeps its usual meaning.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from textual import events

if TYPE_CHECKING:
    from textual.app import App
    from textual.widgets import TextArea

INSERTED_KEYS = {"enter": "\n"}
"""Keys that are not printable but that a TextArea inserts (as TextArea._on_key does)."""
TEXT_IN_A_STORM = {"tab": "\t", "ctrl+j": "\n"}
"""Keys that are text only inside a storm: a pasted tab, and a pasted line feed (terminals send
CR, which is enter; tools that type text, such as `tmux send-keys -l`, send LF, read as ctrl+j)."""
STORM_GAP_SECONDS = 0.01
"""Keys read from the terminal this close together were not typed one by one: the keys of one
read are microseconds apart, and the reads of a paste milliseconds; a fast typist's keys are
~50-100 ms apart and a held key repeats every ~30 ms. (Two keys rolled over can come closer:
then a tab after a letter is text, not a move of the focus, which the user sees and undoes.)"""


class KeyStorm:
    """The keys collected for one TextArea; the app routes each input event through `take`."""

    def __init__(self, app: App[Any]) -> None:
        self.app = app
        self.target: TextArea | None = None
        self.pieces: list[str] = []
        self.priority_keys: frozenset[str] = frozenset()
        """Keys with a priority binding for the focused widget on its screen. Screen's binding
        chain is rebuilt on each look (~0.1 ms, a third of 16,000 keys' time): it is looked at
        again only when the screen or the focus changes (`_priority_keys_of`)."""
        self._priority_keys_of: tuple[object, object] | None = None
        self.storm_key_time = float("-inf")
        """When the latest key that a TextArea inserts was read (Textual's event time)."""
        self.bursts = 0
        """Inserts made (each one edit)."""

    def take(self, event: events.Event) -> bool:
        """True if `event` joined the burst (the caller drops it); False if it must be handled as
        usual, after what was collected so far has been inserted."""
        text = self._text_for(event)
        if text is None:
            self.flush()
            return False
        assert isinstance(event, events.Key)  # _text_for returns text for keys only
        in_storm = self._in_storm(event)
        self.storm_key_time = event.time
        if not in_storm and not self.app.message_queue_size:
            return False  # alone: a keystroke, which takes the usual way, unchanged
        focused = self.app.focused
        if focused is not self.target:
            self.flush()
            self.target = focused  # type: ignore[assignment]  # _text_for checked it is a TextArea
        if not self.pieces:
            self.app.call_later(self.flush)
        self.pieces.append(text)
        return True

    def _in_storm(self, event: events.Key) -> bool:
        """The key comes right after another one of a storm: collected, or read just before."""
        return bool(self.pieces) or event.time - self.storm_key_time <= STORM_GAP_SECONDS

    def _check_priority_keys(self) -> None:
        screen = self.app.screen
        if self._priority_keys_of == (screen, screen.focused):
            return
        self._priority_keys_of = (screen, screen.focused)
        self.priority_keys = frozenset(
            key
            for _namespace, bindings in screen._binding_chain
            for key, key_bindings in bindings.key_to_bindings.items()
            if any(binding.priority for binding in key_bindings)
        )

    def _text_for(self, event: events.Event) -> str | None:
        """What the focused TextArea would insert for this key; None if anything else handles it."""
        if not isinstance(event, events.Key) or event.is_forwarded:
            return None
        text_area = sys.modules.get("textual.widgets._text_area")
        if text_area is None:
            return None  # no TextArea was ever made: not imported here, to keep it off the first frame
        focused = self.app.focused
        if not isinstance(focused, text_area.TextArea) or focused.read_only:
            return None
        key = event.key
        if event.is_printable and event.character is not None:
            text = event.character
        elif key in INSERTED_KEYS:
            text = INSERTED_KEYS[key]
        elif key in TEXT_IN_A_STORM and self._in_storm(event):
            text = TEXT_IN_A_STORM[key]
        else:
            return None
        self._check_priority_keys()
        # A priority binding acts before the focused widget sees the key (App.on_event).
        return None if key in self.priority_keys else text

    def flush(self) -> None:
        """Send what was collected to the TextArea as one insert. It goes through the TextArea's
        own queue, behind the keys the app forwarded to it before (an arrow between two bursts),
        as the keys themselves would have."""
        if not self.pieces:
            return
        target, text = self.target, "".join(self.pieces)
        self.pieces = []
        if target is not None:
            target.call_later(self._insert, target, text)

    def _insert(self, target: TextArea, text: str) -> None:
        """As the TextArea inserts a paste (TextArea._on_paste): over the selection, then the cursor
        is moved to the end again, which scrolls it into view now that the new lines are counted
        (the edit scrolled before they were: by itself it left the cursor below the view)."""
        if target.read_only:
            return
        self.bursts += 1
        result = target.replace(text, *target.selection, maintain_selection_offset=False)
        target.move_cursor(result.end_location)
