"""Which flow may start while which runs: a write (create, delete, undo delete) is never cut short
by getting around once its request may have been sent, and getting around never cuts short a save.
MainScreen starts the flows; it asks these gates first."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from syncmap_tui.ui.main_screen import MainScreen

WRITE_GROUP = "write"
"""Create, delete (item or map) and undo delete. Not in the "open" group that getting around
replaces: a refresh, a jump or an opened row must never cut short a write whose request may have
been sent (its result would not show). Getting around waits for it instead (`writes_settled`)."""
WRITE_POLL_SECONDS = 0.05
"""How often getting around looks whether a write has finished (see `writes_settled`)."""


class FlowGates:
    """Asked by MainScreen before it starts a flow; each says why when the answer is no."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen

    def write_may_start(self, doing: str) -> bool:
        """Whether a write flow (WRITE_GROUP) may start now: not read-only, and no other write on its way
        (said, not cancelled: its request may have been sent). It replaces getting around in progress
        (nothing is written there), as when both shared one group."""
        screen = self.screen
        if not screen.writable(doing):
            return False
        if self.write_running():
            screen.notify(f"Another change is on its way: wait for its answer, then {doing}.", markup=False)
            return False
        screen.app.workers.cancel_group(screen, "open")
        return True

    def write_running(self) -> bool:
        screen = self.screen
        return any(worker.node is screen and worker.group == WRITE_GROUP and not worker.is_finished for worker in screen.app.workers)

    def navigation_may_start(self) -> bool:
        """Getting around replaces the "open" flow running, at once: not while a save travels that no
        "save" flow owns. That is the save chosen on leaving an edit (in the opening's own flow, or a
        write's): replacing its flow would cut it short. Said, not done. ctrl+s's save runs in the
        "save" group, which getting around leaves alone."""
        screen = self.screen
        session = screen.session
        if session is None or session.in_flight is None:
            return True
        if any(worker.node is screen and worker.group == "save" and not worker.is_finished for worker in screen.app.workers):
            return True
        return not screen.editing.saving_now()

    async def writes_settled(self) -> None:
        """Return once no write flow runs: getting around waits for a create or a delete to show its
        result rather than cut it short. Polled, not `Worker.wait()`: cancelling a task that awaits
        the write's task would cancel the write's task too (a newer refresh replacing this one)."""
        while self.write_running():
            await asyncio.sleep(WRITE_POLL_SECONDS)

    def no_transfer_running(self, doing: str) -> bool:
        """An export or an import runs in the exclusive "transfer" group: a second one would cut short
        an import whose writes are on their way. Escape stops one; starting another does not."""
        screen = self.screen
        if any(worker.node is screen and worker.group == "transfer" and not worker.is_finished for worker in screen.app.workers):
            screen.notify(f"An export or import is on its way: wait for it (escape stops it), then {doing}.", markup=False)
            return False
        return True
