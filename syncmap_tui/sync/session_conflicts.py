"""An edit session's conflict flow: the server has another version than the one the edit is based
on. `EditSession` (sync/session.py) inherits it; it shows the three-way view, asks, and acts on the
answer (back, take theirs, overwrite or merge), each write with If-Match on the version shown.
"""

from __future__ import annotations

from typing import Any

from syncmap_tui.sync.conflict import ThreeWay
from syncmap_tui.sync.editing import SavePlan, parse_optional_ttl, plan_update
from syncmap_tui.sync.errors import ItemNotFound, TwilioCode
from syncmap_tui.sync.merge import json_equal, resolve, three_way_merge
from syncmap_tui.sync.models import MapItem
from syncmap_tui.sync.session_parts import Kept, Mine, Sent, SessionCore, same_item
from syncmap_tui.sync.session_recovery import STORAGE_ERRORS
from syncmap_tui.sync.validation import ValidationError, check_data, format_data

MAX_CONFLICT_ROUNDS = 5
"""Overwrite and merge go out on theirs as shown; a writer that keeps moving sends the user back to
the dialog each time. After this many rounds the edit stays in the editor for a calmer moment."""


class ConflictFlows(SessionCore):
    """Mixed into `EditSession`, whose state and steps `SessionCore` declares."""

    async def _look_then_resolve(self, *, expired: bool = False) -> bool:
        try:
            theirs = await self.client.fetch_item(self.service_sid, self.map_sid, self.key)
        except ItemNotFound:
            return await self._deleted(expired=expired or self.expired)
        except STORAGE_ERRORS as error:
            return self._failed("Fetching the server's version", error)
        if expired and same_item(self.base, theirs) and theirs.revision == self.base.revision:
            # Our clock ran ahead of the server's: the item is still there as loaded.
            mine = self.buffer.mine()
            plan = self._plan(mine)
            if plan is None:
                return False
            self.base = theirs
            self.buffer.rebased(theirs)
            sent = await self._send(mine, plan, theirs)
            return await self._look_then_resolve() if sent is None else sent
        return await self._resolve(theirs)

    def _three_way(self, theirs: MapItem, mine: Mine) -> ThreeWay | None:
        """The conflict view of `mine` now; None (told) when the text or a TTL does not parse."""
        checked = check_data(mine.text)
        try:
            if checked.error is not None:
                raise checked.error
            item_ttl = parse_optional_ttl(mine.item_ttl)
            collection_ttl = parse_optional_ttl(mine.collection_ttl)
        except ValidationError as error:
            self.newer = theirs
            self.buffer.changed()
            self.prompter.tell(
                f"The server has revision {theirs.revision}. Fix this first, then ctrl+s (or F6) shows "
                f"the conflict: {error.message}",
                "warning",
            )
            return None
        assert checked.value is not None
        return ThreeWay(self.base, theirs, checked.value, item_ttl, collection_ttl, recreated=not same_item(self.base, theirs))

    async def _resolve(self, theirs: MapItem, *, saving: bool = True) -> bool:
        """The server has `theirs`, not the base: ask, and act on the answer. Loops while a writer keeps
        moving, so that every write goes out on a version the user was shown."""
        for _ in range(MAX_CONFLICT_ROUNDS):
            self.seen(theirs, "conflict")
            if self.left_meanwhile("Saving" if saving else "Showing the conflict"):
                return False
            mine = self.buffer.mine()
            view = self._three_way(theirs, mine)
            if view is None:
                return False
            if (
                saving
                and not view.recreated
                and view.mine_item_ttl is None
                and view.mine_collection_ttl is None
                and json_equal(theirs.data, view.mine_data)
            ):
                # Only the revision moved, to exactly this data: our own save whose answer was lost
                # (cancelled, timed out), or someone made the same change. Nothing to resolve.
                self._landed(theirs, Sent(mine, SavePlan(None, None, None), theirs))
                return True
            self.newer = theirs
            self.buffer.changed()
            choice = await self.prompter.ask_conflict(view)
            if choice == "back":
                self.newer = theirs
                self.buffer.changed()
                self.prompter.tell(
                    f"Your edit is kept on revision {self.base.revision}; the server has {theirs.revision} (F6 shows it).",
                )
                return False
            if choice == "theirs":
                self.take_theirs(theirs)
                return False
            if self._refuse_write_after_dialog():
                return False
            if choice == "overwrite":
                outcome = await self._write_on(theirs, self.buffer.mine())
            else:
                outcome = await self._merge_onto(theirs, view)
            if outcome is not None:
                return outcome
            # 412 again: someone wrote meanwhile. Show them the new version.
            try:
                theirs = await self.client.fetch_item(self.service_sid, self.map_sid, self.key)
            except ItemNotFound:
                return await self._deleted(expired=False)
            except STORAGE_ERRORS as error:
                return self._failed("Fetching the server's version", error)
        self.prompter.tell("The item keeps changing on the server. Your edit is kept: try again later.", "warning")
        return False

    def _refuse_write_after_dialog(self) -> bool:
        if self.read_only:
            self.prompter.tell("This session is read-only: nothing is written to the server.", "warning")
            return True
        return False

    async def _write_on(self, theirs: MapItem, mine: Mine) -> bool | None:
        """Save `mine` on `theirs` (If-Match their revision), as the conflict view said: the changes
        from the base, so a TTL-only edit leaves their data as it is. None: the revision moved again (412)."""
        try:
            plan = plan_update(self.base.data, mine.text, mine.item_ttl, mine.collection_ttl)
        except ValidationError as error:
            if error.code == TwilioCode.NOTHING_TO_UPDATE:
                self._rebase(theirs, Mine(format_data(theirs.data)))
                self.prompter.tell(f"You have no change left to save: their revision {theirs.revision} is loaded.")
                return True
            self.newer = theirs
            self.prompter.tell(f"Not saved: {error.message}", "error")
            return False
        return await self._send(mine, plan, theirs)

    async def _merge_onto(self, theirs: MapItem, view: ThreeWay) -> bool | None:
        """Merge the editor's text (read now) onto `theirs` as the dialog showed it, then save it."""
        mine = self.buffer.mine()
        mine_data = check_data(mine.text).value
        if mine_data is None:
            self.newer = theirs
            self.buffer.changed()
            self.prompter.tell("The editor's JSON is not valid now: fix it, then ctrl+s merges again.", "error")
            return False
        merged = await self._merged(mine, mine_data, theirs)
        if merged is None:
            return False
        self._rebase(theirs, Mine(format_data(merged), mine.item_ttl, mine.collection_ttl))
        if json_equal(merged, theirs.data) and not mine.has_ttl:
            self.prompter.tell(f"Their revision {theirs.revision} already holds the merge: nothing to save.")
            return True
        self.prompter.tell(f"Merged onto their revision {theirs.revision}; saving.")
        return await self._write_on(theirs, self.buffer.mine())

    async def _merged(self, mine: Mine, mine_data: dict[str, Any], theirs: MapItem) -> dict[str, Any] | None:
        result = three_way_merge(self.base.data, mine_data, theirs.data)
        if not result.conflicts:
            return result.merged
        choices = await self.prompter.ask_merge(result.conflicts)
        if choices is None:
            self.newer = theirs
            self.buffer.changed()
            self.prompter.tell("Not merged: your edit is kept as it was.")
            return None
        if self.buffer.mine() != mine:
            self.newer = theirs
            self.buffer.changed()
            self.prompter.tell("You typed while the merge dialog was open: nothing was merged. ctrl+s merges again.")
            return None
        return resolve(result, choices)

    def take_theirs(self, theirs: MapItem) -> None:
        """Show their version; the user's edit (if any) is kept, with its draft, for F4."""
        mine = self.buffer.mine()
        if self.modified(mine):
            if self.kept is not None:
                # One kept edit at a time (one draft slot): the earlier one must not be replaced unseen.
                self.newer = theirs
                self.buffer.changed()
                self.prompter.tell(
                    "Not taken: an earlier edit of yours is kept already (F4 brings it back). This edit stays "
                    "in the editor; save it or undo it, then take theirs.",
                    "warning",
                )
                return
            self.kept = Kept(mine, self.base)
        self._rebase(theirs, Mine(format_data(theirs.data)))
        if self.kept is not None:
            self.prompter.tell("Their version is loaded. Your edit is kept (and in a draft): F4 brings it back.")
