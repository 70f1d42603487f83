"""One item's edit, from load to saved, as a headless model: every decision about it is made here.

An `EditSession` owns what the edit is based on (the loaded item, and its identity beyond the
revision), the save in flight, the server's newer version when the app has learnt of one, and the
edit kept after "take theirs". It reads the user's text from a `Buffer` at the moment it decides
(the user may type while a dialog is open or a save travels), and asks the user through a
`Prompter`. The screen implements both; tests implement them with plain objects.

Identity. Twilio's revisions restart at "0" for an item that was deleted and created again, so an
If-Match cannot tell a recreated item from the loaded one. The session knows what it can locally
(the loaded item's `date_expires` has passed: it is gone, so it fetches before it writes), compares
`date_created` whenever it fetches, takes the same revision with other data as another item, and
checks each save's own answer: one whose `date_created` is not the loaded one landed on another item,
and the user is told at once. A normal save costs no extra round trip.

Every update carries If-Match on a revision whose data the user was shown: the loaded one, or
theirs as the conflict dialog showed it. A create relies on 409 instead.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Callable

from syncmap_tui.drafts import EDIT_SLOT, KEPT_SLOT
from syncmap_tui.sync.editing import SavePlan, plan_update
from syncmap_tui.sync.errors import (
    ItemNotFound,
    RevisionConflict,
    SyncError,
)
from syncmap_tui.sync.failures import may_have_landed
from syncmap_tui.sync.merge import json_equal, three_way_merge
from syncmap_tui.sync.models import MapItem, format_datetime
from syncmap_tui.sync.session_parts import (
    Buffer,
    ConflictChoice,
    DeletedChoice,
    Kept,
    Mine,
    Prompter,
    Sent,
    Seen,
    SeenHow,
    Severity,
    draft_base,
    is_later_version,
    same_item,
)
from syncmap_tui.sync.session_conflicts import ConflictFlows
from syncmap_tui.sync.session_recovery import STORAGE_ERRORS, RecoveryFlows, describe
from syncmap_tui.sync.validation import ValidationError, check_data, format_data

__all__ = [  # the parts are imported from here too: one import for a session's user
    "Buffer", "ConflictChoice", "DeletedChoice", "EditSession", "Kept", "Mine", "Prompter", "Seen", "SeenHow", "Sent", "Severity",
    "STORAGE_ERRORS", "describe", "draft_base", "is_later_version", "same_item",
]

if TYPE_CHECKING:
    # Annotations only: httpx (~40 ms to import) stays off the first frame, as open_client intends.
    from syncmap_tui.sync.client import SyncClient

KEPT_NOTICE = "Your edit is still in the editor: press ctrl+s to try again."


class EditSession(ConflictFlows, RecoveryFlows):
    """The edit of one item of one map. Flows are coroutines that return True once the server
    holds the user's text (or nothing was left to save), False when the edit is kept as it is."""

    def __init__(
        self,
        client: SyncClient,
        service_sid: str,
        map_sid: str,
        item: MapItem,
        buffer: Buffer,
        prompter: Prompter,
        *,
        now: Callable[[], datetime],
        read_only: bool = False,
        seen: Seen = lambda item, how, replaced=None: None,
    ) -> None:
        self.client = client
        self.service_sid = service_sid
        self.map_sid = map_sid
        self.base = item
        """The version the edit is based on: what the user was shown, and what If-Match names."""
        self.buffer = buffer
        self.prompter = prompter
        self.now = now
        self.read_only = read_only
        self.seen = seen
        """Told of every version the session sees (the history keeps them)."""
        self.in_flight: Sent | None = None
        self.newer: MapItem | None = None
        """A later version (or another item under the key) that the server has and the editor does not."""
        self.kept: Kept | None = None
        self.gone = False
        """The item is known to be deleted (a 404 while the user kept their edit)."""
        self.discarded = False
        """The user chose to drop the edit of the deleted item: the screen closes it."""
        self.left = False
        """Another item (or map) took the editor: a flow still running for this one must leave it alone."""
        seen(item, "loaded")

    @property
    def key(self) -> str:
        return self.base.key

    # -- what the editor shows ---------------------------------------------------------------

    def modified(self, mine: Mine | None = None) -> bool:
        """A save would send something: the data differs from the base (as JSON) or a TTL is typed.
        Invalid JSON counts as modified."""
        mine = mine or self.buffer.mine()
        if mine.has_ttl:
            return True
        value = check_data(mine.text).value
        return value is None or not json_equal(value, self.base.data)

    def drafts(self, *, text_changed: bool) -> list[tuple[str, Mine, MapItem]]:
        """What must be on disk now, as (slot, text and TTL fields, the version it was made on): the
        editor's text whenever it differs from what the server is known to hold (`text_changed`: the
        editor's cheap test, formatting included; typing during a save in flight counts, as the base
        moves only when the answer comes), or the item is gone; and the edit kept after "take theirs"."""
        wanted: list[tuple[str, Mine, MapItem]] = []
        if text_changed or self.gone:
            wanted.append((EDIT_SLOT, self.buffer.mine(), self.base))
        if self.kept is not None:
            wanted.append((KEPT_SLOT, self.kept.mine, self.kept.made_on))
        return wanted

    @property
    def expired(self) -> bool:
        """The loaded item's expiry has passed: it is gone from the server, whatever its revision."""
        expires = self.base.date_expires
        return expires is not None and expires <= self.now()

    @property
    def behind(self) -> tuple[str, str] | None:
        """(the server's revision, the editor's) when the app knows the server has moved on."""
        if self.newer is None:
            return None
        return self.newer.revision, self.base.revision

    @property
    def replaced(self) -> bool:
        """The server holds another item under the key (deleted and created again) than the base."""
        return self.newer is not None and not same_item(self.base, self.newer)

    def learn(self, item: MapItem, how: SeenHow = "seen") -> None:
        """The app saw `item` under this key (a table page, a refresh, a fetch, the watch): note it if
        it is newer than the base or another item altogether."""
        if item.key != self.key:
            return
        self.seen(item, how)
        if same_item(self.base, item):
            if not is_later_version(item, self.base):
                return
            if self.newer is not None and same_item(self.newer, item):
                if not is_later_version(item, self.newer):
                    return
        elif self.newer is not None and self.newer == item:
            return
        self.newer = item
        self.gone = False
        self.buffer.changed()

    def learn_gone(self) -> None:
        """The watch found no item under the key: the editor says so, and ctrl+s offers to recreate it."""
        if self.gone or self.in_flight is not None:
            return
        self.gone = True
        self.newer = None
        self.buffer.changed()

    def _rebase(self, item: MapItem, mine: Mine | None = None) -> None:
        self.base = item
        if self.newer is not None and (
            same_item(item, self.newer) and not is_later_version(self.newer, item)
        ):
            self.newer = None
        self.gone = False
        self.buffer.rebased(item, mine)
        self.buffer.changed()

    def left_meanwhile(self, doing: str) -> bool:
        """After a wait: another item took the editor (opening one runs beside a save-group flow),
        so the buffer holds that item's text, which is no edit of this one. Said, and True."""
        if self.left:
            self.prompter.tell(f"{doing} of {self.key!r} stopped: another item was opened. Nothing was written.",
                               "warning")
        return self.left

    def _refuse_write(self) -> bool:
        if self.read_only:
            self.prompter.tell("This session is read-only: nothing is sent to the server.", "warning")
            return True
        if self.in_flight is not None:
            self.prompter.tell(f"A save of {self.key!r} is on its way; wait for its answer.", "warning")
            return True
        return False

    # -- saving ------------------------------------------------------------------------------

    async def save(self) -> bool:
        """Save the editor's text on the base, If-Match its revision; True once the server has it."""
        if self._refuse_write():
            return False
        if self.gone:
            return await self._deleted(expired=False)
        if self.expired:
            # The loaded item is gone; an If-Match "0" could land on an item created since.
            return await self._look_then_resolve(expired=True)
        if self.newer is not None and not same_item(self.base, self.newer):
            # The key is known to hold another item, whose revision may be the base's ("0" again).
            return await self._look_then_resolve()
        mine = self.buffer.mine()
        plan = self._plan(mine)
        if plan is None:
            return False
        sent = await self._send(mine, plan, self.base)
        return await self._look_then_resolve() if sent is None else sent

    def _plan(self, mine: Mine) -> SavePlan | None:
        """What a save of `mine` on the base sends; None, and the user told why, when it cannot go."""
        try:
            return plan_update(self.base.data, mine.text, mine.item_ttl, mine.collection_ttl)
        except ValidationError as error:
            self.prompter.tell(f"Not saved: {error.message}", "error")
            return None

    async def _send(self, mine: Mine, plan: SavePlan, on: MapItem) -> bool | None:
        """Send `plan` with If-Match on `on` (a version the user was shown), then settle whatever came
        back. None: refused with 412, the revision moved: the caller shows the newer version."""
        self.in_flight = Sent(mine, plan, on)
        self.buffer.changed()
        try:
            saved = await self.client.update_item(
                self.service_sid, self.map_sid, self.key,
                data=plan.data, item_ttl=plan.item_ttl, collection_ttl=plan.collection_ttl, if_match=on.revision,
            )
        except RevisionConflict:
            self._settled()
            return None
        except ItemNotFound:
            self._settled()
            return await self._deleted(expired=False)
        except STORAGE_ERRORS as error:
            self._settled()
            if on is not self.base:
                self.newer = on  # the edit stays on the base; the server has `on`
            if isinstance(error, SyncError) and may_have_landed(error):
                return await self._settle_lost_answer(Sent(mine, plan, on), error)
            return self._failed("Saving", error)
        except BaseException:
            self._settled()  # cancelled: the draft holds the text; the next save's If-Match finds out
            raise
        self._settled()
        self._landed(saved, Sent(mine, plan, on))
        return True

    def _settled(self) -> None:
        self.in_flight = None
        self.buffer.changed()

    def _landed(self, saved: MapItem, sent: Sent) -> None:
        if saved.date_created != sent.on.date_created:
            self.prompter.tell(
                f"Saved, but onto another item: {self.key!r} was deleted and created again "
                f"(created {format_datetime(saved.date_created)}, yours {format_datetime(sent.on.date_created)}). "
                f"Your data replaced what that item held; it is now revision {saved.revision}.",
                "error",
            )
        self.seen(saved, "saved", sent.on)
        made_on = self.base
        self.base = saved
        if self.newer is not None and same_item(saved, self.newer) and (
            not is_later_version(self.newer, saved)
        ):
            self.newer = None
        self.gone = False
        sent_data = check_data(sent.mine.text).value
        if sent_data is not None and json_equal(sent_data, saved.data):
            self.buffer.saved(saved, sent.mine)
        else:
            self._rebase_typing(saved, sent, made_on)
        self.buffer.changed()
        self.prompter.tell(f"Saved {self.key!r}: now revision {saved.revision}.")

    def _rebase_typing(self, saved: MapItem, sent: Sent, made_on: MapItem) -> None:
        """A TTL-only save landed on data that is not the editor's (Overwrite on theirs): show what the
        server holds, with whatever was typed since merged onto it; if that does not merge, the text
        stays on the version it was made on, so that the next save meets the conflict view."""
        now = self.buffer.mine()
        item_ttl = "" if now.item_ttl == sent.mine.item_ttl else now.item_ttl
        collection_ttl = "" if now.collection_ttl == sent.mine.collection_ttl else now.collection_ttl
        if now.text == sent.mine.text:
            self.buffer.rebased(saved, Mine(format_data(saved.data), item_ttl, collection_ttl))
            return
        typed = check_data(now.text).value
        if typed is not None:
            result = three_way_merge(made_on.data, typed, saved.data)
            if not result.conflicts:
                self.buffer.rebased(saved, Mine(format_data(result.merged), item_ttl, collection_ttl))
                return
        self.base = made_on
        self.newer = saved
        self.prompter.tell("The TTL was saved; what you typed meanwhile does not merge with their data: "
                           "ctrl+s opens the conflict view.", "warning")

    def _failed(self, doing: str, error: BaseException) -> bool:
        """One policy for every step: a SyncError or a storage error is said plainly; the edit stays."""
        self.prompter.tell(f"{doing} failed: {describe(error)}", "error")
        self.prompter.tell(KEPT_NOTICE)
        return False

    async def _settle_lost_answer(self, sent: Sent, error: SyncError) -> bool:
        """The save may have landed: look before asking."""
        try:
            current = await self.client.fetch_item(self.service_sid, self.map_sid, self.key)
        except ItemNotFound:
            return await self._deleted(expired=False)
        except STORAGE_ERRORS as check_error:
            self.prompter.tell(
                f"Saving failed: {describe(error)}; whether it arrived is unknown ({describe(check_error)}). "
                "Your edit is kept: ctrl+s tries again, and a moved revision opens the conflict dialog.",
                "warning",
            )
            return False
        if same_item(sent.on, current) and current.revision == sent.on.revision:
            self.prompter.tell(f"Saving failed: {describe(error)}. The server still has the loaded revision.", "error")
            self.prompter.tell(KEPT_NOTICE)
            return False
        # Only data shows that the save landed: a TTL-only save cannot be told from another writer's.
        if (
            sent.plan.data is not None
            and sent.plan.item_ttl is None
            and sent.plan.collection_ttl is None
            and json_equal(current.data, sent.plan.data)
        ):
            self._landed(current, sent)  # says so at once if that is another item than the loaded one
            self.prompter.tell("The answer was lost on the way, but the server has your edit.")
            return True
        if current.date_created != sent.on.date_created:
            self.prompter.tell(
                f"{self.key!r} was deleted and created again (created {format_datetime(current.date_created)}): "
                "your save, whose answer was lost, may have landed onto another item. Look at it before you choose.",
                "error",
            )
        return await self._resolve(current)

    async def review(self) -> bool:
        """F6: show the server's version against the editor's, without saving unless the user says so."""
        try:
            theirs = await self.client.fetch_item(self.service_sid, self.map_sid, self.key)
        except ItemNotFound:
            if self.left_meanwhile("Review"):
                return False
            self.gone = True
            self.buffer.changed()
            self.prompter.tell(f"{self.key!r} is no longer on the server: ctrl+s offers to recreate it.", "warning")
            return False
        except STORAGE_ERRORS as error:
            return self._failed("Fetching the server's version", error)
        return await self.reconcile(theirs)

    async def reconcile(self, theirs: MapItem) -> bool:
        """The server has `theirs` under the key (fetched just now): bring the editor up to it,
        asking when the user has an edit. True when the editor is then on `theirs`."""
        self.seen(theirs, "seen")
        if self.left_meanwhile("Review"):
            return False
        if same_item(self.base, theirs) and theirs.revision == self.base.revision:
            self.newer = None
            self.buffer.changed()
            self.prompter.tell(f"The editor is up to date: the server has revision {theirs.revision}.")
            return True
        if not self.modified():
            self._rebase(theirs, Mine(format_data(theirs.data), *self._ttls()))
            self.prompter.tell(f"Loaded revision {theirs.revision}: you had no unsaved change.")
            return True
        return await self._resolve(theirs, saving=False)

    def _ttls(self) -> tuple[str, str]:
        mine = self.buffer.mine()
        return mine.item_ttl, mine.collection_ttl
