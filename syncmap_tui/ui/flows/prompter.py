"""How an `EditSession` asks the user: the screen's dialogs and notifications."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from syncmap_tui.sync.conflict import ThreeWay
from syncmap_tui.sync.merge import Conflict, Path, Side
from syncmap_tui.sync.session import ConflictChoice, DeletedChoice, Severity

# Dialogs are imported where they are first shown, off the first frame (see ui/dialogs/__init__.py).
if TYPE_CHECKING:
    from textual.app import App

NOTICE_SECONDS = {"information": 5, "warning": 8, "error": 12}
"""Errors stay longer: they say what happened to an edit."""


class ScreenPrompter:
    """The `Prompter` of the app's sessions. Call from a worker (dialogs are awaited)."""

    def __init__(self, app: App[Any], *, read_only: bool) -> None:
        self.app = app
        self.read_only = read_only

    async def ask_conflict(self, view: ThreeWay) -> ConflictChoice:
        from syncmap_tui.ui.dialogs.conflict import ConflictDialog

        return await self.app.push_screen_wait(ConflictDialog(view, read_only=self.read_only))

    async def ask_merge(self, conflicts: list[Conflict]) -> dict[Path, Side] | None:
        from syncmap_tui.ui.dialogs.merge import MergeDialog

        return await self.app.push_screen_wait(MergeDialog(conflicts))

    async def ask_deleted(self, key: str, expired: bool) -> DeletedChoice:
        from syncmap_tui.ui.dialogs.conflict import DeletedDialog

        return await self.app.push_screen_wait(DeletedDialog(key, expired=expired, read_only=self.read_only))

    def tell(self, message: str, severity: Severity = "information") -> None:
        self.app.notify(message, severity=severity, timeout=NOTICE_SECONDS[severity], markup=False)
