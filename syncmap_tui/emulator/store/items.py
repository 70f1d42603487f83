"""Map items in the store: their records, reads that hide the expired, and writes under If-Match.

The primary key (map_id, item_key) is the index that makes a page O(page size). Keys are
compared with SQLite's BINARY collation on UTF-8 text, which orders by code point, the same
order as Python's `str` comparison.
"""

from __future__ import annotations

import sqlite3
from typing import Any, Iterable, NamedTuple, Sequence

from syncmap_tui.emulator.errors import EmulatorError
from syncmap_tui.emulator.store.db import LIVE, Bound, expires, range_terms
from syncmap_tui.emulator.store.maps import MapRecord, MapStore
from syncmap_tui.sync.errors import TwilioCode


class ItemRecord(NamedTuple):
    """A NamedTuple, not a frozen dataclass like the others: one is built for every listed item,
    and a dataclass took twice as long, a fifth of serving a page."""

    key: str
    account_sid: str
    service_sid: str
    map_sid: str
    data: str
    """The item's data as compact JSON text."""
    revision: int
    date_created: int
    date_updated: int
    date_expires: int | None


class ItemStore(MapStore):
    """Map items, by key within a live map; every write bumps the map's revision too."""

    def _find_item(self, db: sqlite3.Connection, sync_map: MapRecord, key: str, now: int) -> ItemRecord:
        row = db.execute(
            "SELECT item_key, data, revision, date_created, date_updated, date_expires"
            f" FROM items WHERE map_id = ? AND item_key = ? AND {LIVE}",
            (sync_map.id, key, now),
        ).fetchone()
        if row is None:
            raise EmulatorError(TwilioCode.ITEM_NOT_FOUND, f"Map Item {key!r} not found")
        return self._item(sync_map, row)

    @staticmethod
    def _item(sync_map: MapRecord, row: Sequence[Any]) -> ItemRecord:
        key, data, revision, created, updated, expires = row
        return ItemRecord(
            key, sync_map.account_sid, sync_map.service_sid, sync_map.sid, data, revision, created, updated, expires
        )

    @staticmethod
    def _check_revision(item: ItemRecord, if_match: str | None) -> None:
        """If-Match must equal the revision exactly: no `*`, no `W/`, no quotes (the ETag the
        emulator sends is the bare revision, see `api.etag`)."""
        if if_match is not None and if_match != str(item.revision):
            raise EmulatorError(
                TwilioCode.REVISION_MISMATCH,
                f"The revision {if_match!r} does not match the current revision {str(item.revision)!r}",
            )

    def create_item(
        self,
        account_sid: str,
        service_ref: str,
        map_ref: str,
        key: str,
        data: str,
        *,
        ttl: int = 0,
        collection_ttl: int | None = None,
    ) -> ItemRecord:
        now = self.now()
        with self._write() as db:
            sync_map = self._find_map(db, account_sid, service_ref, map_ref, now)
            # An expired item is gone, so its key is free again.
            db.execute(
                "DELETE FROM items WHERE map_id = ? AND item_key = ? AND date_expires <= ?",
                (sync_map.id, key, now),
            )
            try:
                db.execute(
                    "INSERT INTO items (map_id, item_key, data, date_created, date_updated, date_expires)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (sync_map.id, key, data, now, now, expires(now, ttl)),
                )
            except sqlite3.IntegrityError:
                raise EmulatorError(TwilioCode.KEY_EXISTS, f"Map Item with key {key!r} already exists") from None
            self._touch_map(db, sync_map.id, now, collection_ttl)
            return self._find_item(db, sync_map, key, now)

    def create_items(
        self, account_sid: str, service_ref: str, map_ref: str, items: Iterable[tuple[str, str, int]]
    ) -> int:
        """Insert many (key, data, ttl) items in one transaction, for seeding. Returns how many."""
        now = self.now()
        with self._write() as db:
            sync_map = self._find_map(db, account_sid, service_ref, map_ref, now)
            before = db.total_changes
            db.executemany(
                "INSERT INTO items (map_id, item_key, data, date_created, date_updated, date_expires)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                ((sync_map.id, key, data, now, now, expires(now, ttl)) for key, data, ttl in items),
            )
            count = db.total_changes - before
            self._touch_map(db, sync_map.id, now, None)
        return count

    def get_item(self, account_sid: str, service_ref: str, map_ref: str, key: str) -> ItemRecord:
        now = self.now()
        with self._read() as db:
            return self._find_item(db, self._find_map(db, account_sid, service_ref, map_ref, now), key, now)

    def list_items(
        self,
        sync_map: MapRecord,
        *,
        lower: Bound | None = None,
        upper: Bound | None = None,
        descending: bool = False,
        limit: int = 50,
    ) -> list[ItemRecord]:
        terms, params, order = range_terms("item_key", lower, upper, descending)
        with self._read() as db:
            rows = db.execute(
                "SELECT item_key, data, revision, date_created, date_updated, date_expires"
                f" FROM items WHERE map_id = ? AND {LIVE}{terms}{order} LIMIT ?",
                (sync_map.id, self.now(), *params, limit),
            ).fetchall()
        return [self._item(sync_map, row) for row in rows]

    def update_item(
        self,
        account_sid: str,
        service_ref: str,
        map_ref: str,
        key: str,
        *,
        data: str | None = None,
        ttl: int | None = None,
        collection_ttl: int | None = None,
        if_match: str | None = None,
    ) -> ItemRecord:
        """Apply the given changes if `if_match` (when given) equals the current revision, atomically."""
        now = self.now()
        with self._write() as db:
            sync_map = self._find_map(db, account_sid, service_ref, map_ref, now)
            item = self._find_item(db, sync_map, key, now)
            self._check_revision(item, if_match)
            db.execute(
                "UPDATE items SET data = ?, date_expires = ?, revision = revision + 1, date_updated = ?"
                " WHERE map_id = ? AND item_key = ?",
                (
                    item.data if data is None else data,
                    item.date_expires if ttl is None else expires(now, ttl),
                    now,
                    sync_map.id,
                    key,
                ),
            )
            self._touch_map(db, sync_map.id, now, collection_ttl)
            return self._find_item(db, sync_map, key, now)

    def delete_item(
        self, account_sid: str, service_ref: str, map_ref: str, key: str, *, if_match: str | None = None
    ) -> None:
        now = self.now()
        with self._write() as db:
            sync_map = self._find_map(db, account_sid, service_ref, map_ref, now)
            self._check_revision(self._find_item(db, sync_map, key, now), if_match)
            db.execute("DELETE FROM items WHERE map_id = ? AND item_key = ?", (sync_map.id, key))
            self._touch_map(db, sync_map.id, now, None)
