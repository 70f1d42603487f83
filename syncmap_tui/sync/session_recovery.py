"""An edit session's flows after the fact: undo and restore (`write_version`), the edit kept after
"take theirs" (F4), and an item found deleted (recreate). `EditSession` (sync/session.py) inherits
them; they decide with its state and its conflict flow, and follow its rules: every write goes out
with If-Match on a version the user was shown, or as a create that a 409 refuses.
"""

from __future__ import annotations

from typing import Any

from syncmap_tui.sync.editing import SavePlan, parse_optional_ttl
from syncmap_tui.sync.errors import AlreadyExists, ItemNotFound
from syncmap_tui.sync.failures import EXPECTED_FAILURES, describe_failure
from syncmap_tui.sync.merge import json_equal, three_way_merge
from syncmap_tui.sync.models import MapItem
from syncmap_tui.sync.session_parts import Mine, Sent, SessionCore, same_item
from syncmap_tui.sync.validation import ValidationError, check_data, format_data

STORAGE_ERRORS = EXPECTED_FAILURES
"""What a flow reports and survives with the edit kept (the embedded emulator's disk, too)."""
describe = describe_failure
"""The words for a failure: sync/failures.py, shared with the UI's worker policy."""


class RecoveryFlows(SessionCore):
    """Mixed into `EditSession`, whose state and steps `SessionCore` declares."""

    # -- undo and restore ----------------------------------------------------------------------

    async def write_version(
        self, data: dict[str, Any], made_on: MapItem, doing: str, *, item_ttl: int | None = None, ask: bool = False,
    ) -> bool:
        """Undo a save, restore a version: write `data` (and `item_ttl`, when the expiry is to change
        too; 0: none) as an edit made on `made_on` (your save that is undone; the version shown),
        If-Match the revision the server has now, fetched first. When anyone wrote after `made_on`,
        or `ask`, the conflict view opens instead (their change, and this one): nothing is written
        unless the user says so there. True once the server holds it."""
        if self._refuse_write():
            return False
        if self.modified():
            self.prompter.tell(f"Save or undo your changes first: {doing} puts another version in the editor.", "warning")
            return False
        current: MapItem | None
        try:
            current = await self.client.fetch_item(self.service_sid, self.map_sid, self.key)
        except ItemNotFound:
            current = None
        except STORAGE_ERRORS as error:
            self.prompter.tell(f"{doing} failed: nothing was written. {describe(error)}", "error")
            return False
        if current is not None:
            self.seen(current, "seen")
        if self.left_meanwhile(doing):
            return False
        if self.modified() or self.in_flight is not None:
            # Typed (or saved) while the fetch travelled: putting the version in the editor now
            # would wipe that text, so the user's latest word wins and nothing is written.
            self.prompter.tell(
                f"{doing} stopped: the editor changed while the server was asked. Nothing was written; "
                "your text stays.", "warning",
            )
            return False
        if current is None:
            self._rebase(made_on, Mine(format_data(data), _ttl_field(item_ttl)))
            return await self._deleted(expired=False)
        if same_item(made_on, current) and json_equal(current.data, data) and item_ttl is None:
            self._rebase(current, Mine(format_data(current.data)))
            self.prompter.tell(f"The server already holds that data, at revision {current.revision}: nothing to write.")
            return True
        mine = Mine(format_data(data), _ttl_field(item_ttl))
        self._rebase(made_on, mine)
        if ask or not (same_item(made_on, current) and current.revision == made_on.revision):
            if not ask:
                self.prompter.tell(
                    f"{doing}: the server has moved on to revision {current.revision} since revision "
                    f"{made_on.revision}. Nothing is written unless you choose it in the conflict view.",
                    "warning",
                )
            return await self._resolve(current, saving=False)
        plan = self._plan(mine)
        if plan is None:
            return False
        sent = await self._send(mine, plan, current)
        return await self._look_then_resolve() if sent is None else sent

    # -- the kept edit -------------------------------------------------------------------------

    def restore_kept(self) -> None:
        """F4: bring back the edit kept after "take theirs", rebased on the base (theirs) by a
        three-way merge from the version it was made on. When that merge conflicts, the edit comes
        back on its old version, so that ctrl+s meets the conflict view; never saved over theirs blind."""
        kept = self.kept
        if kept is None:
            self.prompter.tell("There is no kept edit to restore.")
            return
        if self.modified():
            self.prompter.tell("Save or undo your changes to their version first (ctrl+z).", "warning")
            return
        self.kept = None
        kept_data = check_data(kept.mine.text).value
        if kept_data is not None and same_item(kept.made_on, self.base):
            result = three_way_merge(kept.made_on.data, kept_data, self.base.data)
            if not result.conflicts:
                self._rebase(self.base, Mine(format_data(result.merged), kept.mine.item_ttl, kept.mine.collection_ttl))
                self.prompter.tell(f"Your edit is back, on top of their revision {self.base.revision}.")
                return
        theirs = self.base
        self._rebase(kept.made_on, kept.mine)
        self.newer = theirs
        self.buffer.changed()
        self.prompter.tell(
            f"Your edit is back on revision {kept.made_on.revision}; it conflicts with their revision "
            f"{theirs.revision}: ctrl+s opens the conflict view.",
            "warning",
        )

    # -- deleted -----------------------------------------------------------------------------

    async def _deleted(self, *, expired: bool) -> bool:
        if self.left_meanwhile("Saving"):
            return False
        self.gone = True
        self.buffer.changed()
        choice = await self.prompter.ask_deleted(self.key, expired)
        if choice == "back":
            self.prompter.tell(f"{self.key!r} is not on the server; your edit is kept (and in a draft).")
            return False
        if choice == "discard":
            self.discarded = True
            self.buffer.changed()
            return True
        if self._refuse_write_after_dialog():
            return False
        return await self.recreate(expired=expired)

    def recreate_ttl(self, mine: Mine) -> int | None:
        """The ItemTtl a recreate sends: the typed one, else the loaded item's own lifetime (an item
        that had an expiry must not come back for ever)."""
        typed = parse_optional_ttl(mine.item_ttl)
        if typed is not None:
            return typed
        expires = self.base.date_expires
        if expires is None:
            return None
        return max(1, int((expires - self.base.date_updated).total_seconds()))

    async def recreate(self, *, expired: bool = False) -> bool:
        mine = self.buffer.mine()
        checked = check_data(mine.text)
        try:
            if checked.error is not None:
                raise checked.error
            item_ttl = self.recreate_ttl(mine)
            collection_ttl = parse_optional_ttl(mine.collection_ttl)
        except ValidationError as error:
            self.prompter.tell(f"Not recreated: {error.message}", "error")
            return False
        assert checked.value is not None
        plan = SavePlan(checked.value, item_ttl, collection_ttl)
        self.in_flight = Sent(mine, plan, self.base)
        self.buffer.changed()
        try:
            created = await self.client.create_item(
                self.service_sid, self.map_sid, self.key, checked.value, item_ttl=item_ttl, collection_ttl=collection_ttl
            )
        except AlreadyExists:
            self._settled()
            self.prompter.tell("Someone created the key again meanwhile; showing theirs.", "warning")
            return await self._look_then_resolve()
        except STORAGE_ERRORS as error:
            self._settled()
            return self._failed("Recreating", error)
        except BaseException:
            self._settled()
            raise
        self._settled()
        self.seen(created, "saved")
        self.base = created
        self.newer = None
        self.gone = False
        self.buffer.saved(created, mine)
        self.buffer.changed()
        ttl_note = f", with ItemTtl {item_ttl}s" if item_ttl else ""
        self.prompter.tell(f"Created {self.key!r} again{ttl_note}.")
        self.prompter.tell(f"Saved {self.key!r}: now revision {created.revision}.")
        return True


def _ttl_field(item_ttl: int | None) -> str:
    """The ItemTtl field as the user would type it: empty leaves the expiry as it is."""
    return "" if item_ttl is None else str(item_ttl)
