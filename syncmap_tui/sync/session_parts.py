"""What an edit session works with: the user's text (`Mine`), the save in flight, the edit kept after
"take theirs", how the session reads the editor (`Buffer`) and asks the user (`Prompter`), and how
it tells one item from another under the same key. Headless; `sync/session.py` decides with them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Literal, Protocol

from syncmap_tui.sync.conflict import ThreeWay
from syncmap_tui.sync.editing import SavePlan
from syncmap_tui.sync.merge import Conflict, Path, Side, json_equal
from syncmap_tui.sync.models import MapItem, parse_datetime
from syncmap_tui.sync.validation import check_data

if TYPE_CHECKING:
    from syncmap_tui.sync.client import SyncClient

ConflictChoice = Literal["overwrite", "theirs", "merge", "back"]
DeletedChoice = Literal["recreate", "discard", "back"]
Severity = Literal["information", "warning", "error"]
SeenHow = Literal["loaded", "saved", "conflict", "watch", "seen"]
"""How the session came to see a version: opened it, the user saved it (the version it replaced goes
with it), a conflict showed it, the watch read it, a page, a refresh or a fetch showed it."""


class Seen(Protocol):
    """Told of each version a session sees: the history (syncmap_tui/history.py) keeps them."""

    def __call__(self, item: MapItem, how: SeenHow, replaced: MapItem | None = None) -> None: ...


@dataclass(frozen=True)
class Mine:
    """The user's text and TTL fields as typed; an empty TTL field means "leave as it is"."""

    text: str
    item_ttl: str = ""
    collection_ttl: str = ""

    @property
    def has_ttl(self) -> bool:
        return bool(self.item_ttl.strip() or self.collection_ttl.strip())


@dataclass(frozen=True)
class Sent:
    """The save in flight: what was taken from the editor, what went out, on which version."""

    mine: Mine
    plan: SavePlan
    on: MapItem


@dataclass(frozen=True)
class Kept:
    """The user's edit, kept when they took theirs, with the version it was made on."""

    mine: Mine
    made_on: MapItem


class Buffer(Protocol):
    """Where the user's text lives: the editor widget."""

    def mine(self) -> Mine:
        """The text and TTL fields as they are now."""

    def rebased(self, item: MapItem, mine: Mine | None = None) -> None:
        """Edits now apply on top of `item`. `mine`: show it instead of the text there is."""

    def saved(self, item: MapItem, sent: Mine) -> None:
        """The server holds `sent` at `item`: TTL fields still as sent are emptied; later typing stays."""

    def changed(self) -> None:
        """The session's state changed (base, newer, kept, in flight): show it, checkpoint the draft."""


class Prompter(Protocol):
    """How the session asks the user; every answer may come after any delay."""

    async def ask_conflict(self, view: ThreeWay) -> ConflictChoice: ...

    async def ask_merge(self, conflicts: list[Conflict]) -> dict[Path, Side] | None: ...

    async def ask_deleted(self, key: str, expired: bool) -> DeletedChoice: ...

    def tell(self, message: str, severity: Severity = "information") -> None: ...


def same_item(a: MapItem, b: MapItem) -> bool:
    """Whether `b` is (a later state of) the item `a` is: created at the same moment, and not the
    same revision with other data (a recreated item restarts at revision "0")."""
    if a.date_created != b.date_created:
        return False
    return a.revision != b.revision or json_equal(a.data, b.data)


def draft_base(current: MapItem, revision: str, base_data: str | None, base_created: str | None) -> MapItem:
    """The version a recovered draft was made on, as an item: `current` with the draft's revision,
    data and creation time. When the draft knows no creation time (format 1), the same revision
    with other data still tells another item (see `same_item`)."""
    data = current.data
    if base_data is not None:
        checked = check_data(base_data)
        if checked.value is not None:
            data = checked.value
    created = current.date_created
    if base_created is not None:
        try:
            created = parse_datetime(base_created)
        except ValueError:
            pass
    return replace(current, revision=revision, data=data, date_created=created)


def is_later_version(item: MapItem, than: MapItem) -> bool:
    """Whether `item` is a later version of the same item than `than`: the one rule that orders
    answers that may arrive out of order (a slow page after a save, a watch read before a write).

    Decision (sync-api-notes.md calls a revision opaque: compare exactly, never parse): the same
    revision is never later. Decimal revisions (the emulator's, counting up from "0") order by
    number. Any other revision orders by `date_updated`; within one second an opaque revision gives
    no order, so a different one counts as later. Taking an older answer for a later one can only
    show a stale "server has revision N" until the next read corrects it: every write still goes
    with If-Match, so no change is written over. Treating opaque revisions as never later (as a
    parse that fails would) would hide every change the watch sees."""
    if item.revision == than.revision:
        return False
    if item.revision.isascii() and item.revision.isdigit() and than.revision.isascii() and than.revision.isdigit():
        return int(item.revision) > int(than.revision)
    return item.date_updated >= than.date_updated


class SessionCore:
    """What `EditSession` (sync/session.py) holds and does, declared for the flows it inherits
    (`ConflictFlows`, `RecoveryFlows`), which decide with its state: declarations only."""

    client: SyncClient
    service_sid: str
    map_sid: str
    base: MapItem
    buffer: Buffer
    prompter: Prompter
    now: Callable[[], datetime]
    seen: Seen
    in_flight: Sent | None
    newer: MapItem | None
    kept: Kept | None
    gone: bool
    discarded: bool
    left: bool
    read_only: bool

    if TYPE_CHECKING:
        @property
        def key(self) -> str: ...
        @property
        def expired(self) -> bool: ...
        def modified(self, mine: Mine | None = None) -> bool: ...
        def left_meanwhile(self, doing: str) -> bool: ...
        def _rebase(self, item: MapItem, mine: Mine | None = None) -> None: ...
        def _refuse_write(self) -> bool: ...
        def _refuse_write_after_dialog(self) -> bool: ...
        def _plan(self, mine: Mine) -> SavePlan | None: ...
        async def _send(self, mine: Mine, plan: SavePlan, on: MapItem) -> bool | None: ...
        def _landed(self, saved: MapItem, sent: Sent) -> None: ...
        def _settled(self) -> None: ...
        def _failed(self, doing: str, error: BaseException) -> bool: ...
        async def _resolve(self, theirs: MapItem, *, saving: bool = True) -> bool: ...
        async def _look_then_resolve(self, *, expired: bool = False) -> bool: ...
        async def _deleted(self, *, expired: bool) -> bool: ...
