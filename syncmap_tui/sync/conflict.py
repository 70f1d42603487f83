"""The three-way view of a conflict: what they changed, what you changed, and what both changed.

A save refused with HTTP 412 leaves three versions: `base` (the item as the user loaded it),
`theirs` (the item on the server now) and mine (the editor's data and the TTLs the user typed).
A two-way view (theirs against mine) cannot tell "they changed this" from "you changed this", so
Overwrite silently reverted changes that only they made. Here every row says who changed it.

The rows come from `merge.three_way_merge`, which already sorts each change into only-mine,
only-theirs, alike and conflicting: this module only adds the TTLs and what Overwrite would undo.
Expiry is part of the item: base's and theirs' `date_expires` against the ItemTtl the user typed
(None: left as it is). CollectionTtl is the whole map's, which an item does not carry, so its row
says only what the save would set. Headless: no Textual.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from syncmap_tui.sync.editing import sends_data
from syncmap_tui.sync.merge import ABSENT, Change, Conflict, Path, json_equal, three_way_merge
from syncmap_tui.sync.models import MapItem

Who = Literal["theirs", "mine", "both alike", "both differently"]
"""Who changed a row from base: only they, only you, both to the same value, both differently."""

THEIRS_CHANGED: frozenset[Who] = frozenset({"theirs", "both differently"})
"""Rows where the server holds a change of theirs that mine does not hold."""


@dataclass(frozen=True)
class ThreeWay:
    """What the conflict dialog shows: base (as the user loaded it), theirs (the server now), mine."""

    base: MapItem
    """The loaded version: data, revision, date_expires, date_created."""
    theirs: MapItem
    """The version on the server now."""
    mine_data: dict[str, Any]
    """The editor's data (parsed)."""
    mine_item_ttl: int | None
    """ItemTtl the user typed; None = left as it is."""
    mine_collection_ttl: int | None
    recreated: bool = False
    """Theirs is another item under the same key (deleted and created again)."""

    @property
    def overwrite_sends_data(self) -> bool:
        """Whether Overwrite (the same save, on their revision) sends mine's data: a TTL-only save
        leaves their data as it is, and a CollectionTtl-only save carries the data unchanged."""
        data_changed = not json_equal(self.mine_data, self.base.data)
        return sends_data(data_changed, self.mine_item_ttl, self.mine_collection_ttl)


@dataclass(frozen=True)
class DataRow:
    """The value at one JSON path in base, theirs and mine; any may be ABSENT (no such key)."""

    path: Path
    who: Who
    base: Any
    theirs: Any
    mine: Any


@dataclass(frozen=True)
class ExpiryRow:
    """The item's expiry: base's and theirs' `date_expires` (None: never) and the typed ItemTtl."""

    who: Who
    base: datetime | None
    theirs: datetime | None
    mine_ttl: int | None
    """Seconds after the save; 0 = never expires; None = left as it is (mine is then base's)."""


@dataclass(frozen=True)
class MapTtlRow:
    """The user typed a CollectionTtl: the save sets the whole map's expiry."""

    mine_ttl: int
    who: Who = "mine"


Row = DataRow | ExpiryRow | MapTtlRow


def rows(view: ThreeWay) -> list[Row]:
    """Every change from base, by path in document order, then the expiry rows."""
    result = three_way_merge(view.base.data, view.mine_data, view.theirs.data)
    found: list[DataRow] = []
    found += [_row(change, "theirs", view) for change in result.applied_theirs]
    found += [_row(change, "mine", view) for change in result.applied_mine]
    found += [_row(change, "both alike", view) for change in result.agreed]
    found += [_conflict_row(conflict) for conflict in result.conflicts]
    order = _DocumentOrder(view.base.data, view.mine_data, view.theirs.data)
    found.sort(key=lambda row: order.key(row.path))
    extra: list[Row] = []
    expiry = expiry_row(view)
    if expiry is not None:
        extra.append(expiry)
    if view.mine_collection_ttl is not None:
        extra.append(MapTtlRow(view.mine_collection_ttl))
    return [*found, *extra]


def expiry_row(view: ThreeWay) -> ExpiryRow | None:
    """The item's expiry, if they or the user changed it; None if neither did."""
    base, theirs, mine = view.base.date_expires, view.theirs.date_expires, view.mine_item_ttl
    they_changed = base != theirs
    if mine is None:
        return ExpiryRow("theirs", base, theirs, None) if they_changed else None
    if not they_changed:
        return ExpiryRow("mine", base, theirs, mine)
    # Both set it. Only "never" can be the same value: a typed TTL counts from the save.
    alike = mine == 0 and theirs is None
    return ExpiryRow("both alike" if alike else "both differently", base, theirs, mine)


def theirs_changed_nothing(view: ThreeWay) -> bool:
    """They saved the same data and expiry as loaded: only the revision moved."""
    return json_equal(view.base.data, view.theirs.data) and view.base.date_expires == view.theirs.date_expires


def overwrite_reverts(view: ThreeWay) -> list[Row]:
    """The changes of theirs that Overwrite would undo, in the order of `rows`.

    Overwrite sends the same save on their revision: where mine's data goes, every path they
    changed gets mine's value (base's, for paths only they changed); a typed ItemTtl replaces
    the expiry they set. What the save does not send stays theirs."""
    reverted: list[Row] = []
    for row in rows(view):
        if row.who not in THEIRS_CHANGED:
            continue
        if isinstance(row, DataRow) and view.overwrite_sends_data:
            reverted.append(row)
        elif isinstance(row, ExpiryRow) and row.mine_ttl is not None:
            reverted.append(row)
    return reverted


def _row(change: Change, who: Who, view: ThreeWay) -> DataRow:
    """A change one side made (or both alike): the other values read from the three documents."""
    return DataRow(
        change.path,
        who,
        _value_at(view.base.data, change.path),
        _value_at(view.theirs.data, change.path),
        _value_at(view.mine_data, change.path),
    )


def _conflict_row(conflict: Conflict) -> DataRow:
    return DataRow(conflict.path, "both differently", conflict.base, conflict.theirs, conflict.mine)


def _value_at(doc: Any, path: Path) -> Any:
    value = doc
    for step in path:
        if isinstance(value, dict) and isinstance(step, str):
            value = value.get(step, ABSENT)
        elif isinstance(value, list) and isinstance(step, int) and 0 <= step < len(value):
            value = value[step]
        else:
            return ABSENT
    return value


class _DocumentOrder:
    """Sort key of a path: at each level, object keys in the order they first appear in base,
    then mine, then theirs (as the merge walks them), array indexes by number."""

    def __init__(self, *docs: Any) -> None:
        self.docs = docs

    def key(self, path: Path) -> tuple[int, ...]:
        ranks: list[int] = []
        values = self.docs
        for step in path:
            if isinstance(step, int):
                ranks.append(step)
            else:
                keys = dict.fromkeys(key for value in values if isinstance(value, dict) for key in value)
                ranks.append(list(keys).index(step) if step in keys else len(keys))
            values = tuple(_value_at(value, (step,)) for value in values)
        return tuple(ranks)
