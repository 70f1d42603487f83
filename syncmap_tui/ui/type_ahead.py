"""The type-ahead guard: keys typed for the screen under a dialog do not answer the dialog.

A key typed before a dialog was on the screen, or so soon after that the typist had no time to see
it, was meant for the screen under it: "dolor" typed on through a slow save must not answer the
conflict dialog that the save's answer opens, nor escape pressed to cancel the save. Dialogs
(`dialogs.Dialog`) say from when they take input; the app (`SyncMapApp.on_event`) drops what
came earlier."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from textual import events

TYPE_AHEAD_GUARD_SECONDS = 0.5
"""How long after a dialog is on the screen keys still count as typed before it.

A typist does not stop the moment a dialog appears. Measured here (real binary in a pty, a key
every 30-80 ms, tests/e2e/test_type_ahead.py): a key reaches the app stamped ~50 ms (max 77)
after it was typed, and 4-5 keys are typed in the half second after the dialog is on the screen.
Seeing a change and stopping the fingers takes a person ~250 ms at best (reaction times to a
visual signal), and over SSH the dialog reaches the user and their keys come back one round trip
(~100 ms to a distant server) later: 250 + 50 + 100 ≈ 400 ms, rounded up to half a second. Reading
the dialog takes longer than that, so a deliberate answer never waits for the guard."""

ANSWERING_EVENTS = (events.Key, events.MouseDown, events.MouseUp, events.Click)
"""Input that can answer a dialog."""


@runtime_checkable
class GuardedScreen(Protocol):
    keys_accepted_from: float
    """Keys and clicks with an earlier time (Textual's message clock) are dropped."""
    dropped_input: bool
    """The app rings the bell at the first key or click it drops, not at each."""
