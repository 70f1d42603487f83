"""SQLite storage for Sync services, maps and map items.

Synchronous and thread-safe: one connection guarded by one lock, every write in a
`BEGIN IMMEDIATE` transaction. One connection is what ":memory:" allows anyway, and every
operation here takes microseconds to a few milliseconds, so a single writer is not the limit;
`BEGIN IMMEDIATE` also keeps compare-and-set atomic if two processes share a database file.

The store trusts its callers for the wire rules (key length, unique names, data size, TTL
range): the app checks those with `syncmap_tui.sync.validation` before calling in. The store owns
what only it can decide: existence, uniqueness, expiry and revisions.

Times are whole seconds since the epoch (Twilio's datetimes have no fractions). Keys are
compared with SQLite's BINARY collation on UTF-8 text, which orders by code point, the same
order as Python's `str` comparison.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, NamedTuple, Sequence

from syncmap_tui.emulator.errors import EmulatorError
from syncmap_tui.sync.errors import TwilioCode
from syncmap_tui.sync.validation import LOOKS_LIKE_SID

SCHEMA_VERSION = 1

SERVICE_SID_PREFIX = "IS"
MAP_SID_PREFIX = "MP"

DEFAULT_DEBOUNCING_WINDOW_MS = 5000
"""The spec's stated default for `reachability_debouncing_window`."""

Bound = tuple[Any, bool]
"""A range end for listing: (position, inclusive). Positions are ids for services and maps, keys for items."""


def new_sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


def derived_sid(prefix: str, *names: str) -> str:
    """A SID fixed by names, so that seeded data (and screenshots of it) is the same on every run."""
    digest = hashlib.sha256("\x1f".join(names).encode("utf-8")).hexdigest()
    return prefix + digest[:32]


def _is_sid(ref: str, prefix: str) -> bool:
    return len(ref) == 34 and ref.startswith(prefix) and LOOKS_LIKE_SID.fullmatch(ref) is not None


def _expires(now: int, ttl: int) -> int | None:
    return now + ttl if ttl > 0 else None


@dataclass(frozen=True)
class ServiceRecord:
    id: int
    """Internal creation order, used for listing; never sent."""
    sid: str
    account_sid: str
    unique_name: str | None
    friendly_name: str | None
    webhook_url: str | None
    webhooks_from_rest_enabled: bool
    reachability_webhooks_enabled: bool
    acl_enabled: bool
    reachability_debouncing_enabled: bool
    reachability_debouncing_window: int
    date_created: int
    date_updated: int


SERVICE_SETTINGS = (
    "friendly_name",
    "webhook_url",
    "webhooks_from_rest_enabled",
    "reachability_webhooks_enabled",
    "acl_enabled",
    "reachability_debouncing_enabled",
    "reachability_debouncing_window",
)
"""The service fields a create or an update may set."""


@dataclass(frozen=True)
class MapRecord:
    id: int
    """Internal creation order, used for listing; never sent."""
    sid: str
    unique_name: str | None
    account_sid: str
    service_sid: str
    revision: int
    date_created: int
    date_updated: int
    date_expires: int | None


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


_SCHEMA = """
CREATE TABLE IF NOT EXISTS services (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sid TEXT NOT NULL UNIQUE,
    account_sid TEXT NOT NULL,
    unique_name TEXT,
    friendly_name TEXT,
    webhook_url TEXT,
    webhooks_from_rest_enabled INTEGER NOT NULL DEFAULT 0,
    reachability_webhooks_enabled INTEGER NOT NULL DEFAULT 0,
    acl_enabled INTEGER NOT NULL DEFAULT 0,
    reachability_debouncing_enabled INTEGER NOT NULL DEFAULT 0,
    reachability_debouncing_window INTEGER NOT NULL DEFAULT 5000,
    date_created INTEGER NOT NULL,
    date_updated INTEGER NOT NULL,
    UNIQUE (account_sid, unique_name)
);
CREATE INDEX IF NOT EXISTS services_by_account ON services (account_sid, id);
CREATE TABLE IF NOT EXISTS maps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sid TEXT NOT NULL UNIQUE,
    service_id INTEGER NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    unique_name TEXT,
    revision INTEGER NOT NULL DEFAULT 0,
    date_created INTEGER NOT NULL,
    date_updated INTEGER NOT NULL,
    date_expires INTEGER,
    UNIQUE (service_id, unique_name)
);
CREATE INDEX IF NOT EXISTS maps_by_service ON maps (service_id, id);
-- The primary key (map_id, item_key) is the index that makes a page O(page size):
-- a range scan from `From` or the page token, in either direction.
CREATE TABLE IF NOT EXISTS items (
    map_id INTEGER NOT NULL REFERENCES maps (id) ON DELETE CASCADE,
    item_key TEXT NOT NULL,
    data TEXT NOT NULL,
    revision INTEGER NOT NULL DEFAULT 0,
    date_created INTEGER NOT NULL,
    date_updated INTEGER NOT NULL,
    date_expires INTEGER,
    PRIMARY KEY (map_id, item_key)
);
"""

_SERVICE_COLUMNS = "id, sid, account_sid, unique_name, " + ", ".join(SERVICE_SETTINGS) + ", date_created, date_updated"
_MAP_SELECT = (
    "SELECT m.id, m.sid, m.unique_name, s.account_sid, s.sid, m.revision,"
    " m.date_created, m.date_updated, m.date_expires"
    " FROM maps AS m JOIN services AS s ON s.id = m.service_id"
)
_LIVE = "(date_expires IS NULL OR date_expires > ?)"
"""Expiry is checked on every read, against the store's clock: an expired object is gone."""


def _service(row: Sequence[Any]) -> ServiceRecord:
    values = list(row)
    for index in range(6, 10):  # the four booleans, stored as 0/1
        values[index] = bool(values[index])
    return ServiceRecord(*values)


def _range(column: str, lower: Bound | None, upper: Bound | None, descending: bool) -> tuple[str, list[Any], str]:
    """SQL for a range scan over an indexed column: extra WHERE terms, their parameters, ORDER BY."""
    terms, params = [], []
    if lower is not None:
        terms.append(f" AND {column} {'>=' if lower[1] else '>'} ?")
        params.append(lower[0])
    if upper is not None:
        terms.append(f" AND {column} {'<=' if upper[1] else '<'} ?")
        params.append(upper[0])
    return "".join(terms), params, f" ORDER BY {column} {'DESC' if descending else 'ASC'}"


class SyncStore:
    def __init__(
        self,
        path: str | os.PathLike[str] = ":memory:",
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.path = os.fspath(path)
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        """Read on every operation; a test may replace it to move time."""
        self._lock = threading.RLock()
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: transactions are begun and ended explicitly below.
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA foreign_keys = ON")
        self._db.execute("PRAGMA busy_timeout = 5000")
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
        self._migrate()
        self.purge_expired()

    def _migrate(self) -> None:
        with self._lock:
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                self._db.close()
                raise RuntimeError(
                    f"{self.path} was written by a newer emulator (schema {version}, this one knows {SCHEMA_VERSION})"
                )
            self._db.executescript(_SCHEMA)
            self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> "SyncStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def now(self) -> int:
        moment = self.clock()
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)  # decision: a naive clock reads UTC
        return int(moment.timestamp())

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN")
            try:
                yield self._db
            finally:
                self._db.execute("COMMIT")

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                # SQLite has rolled back already after some errors (SQLITE_FULL): a ROLLBACK then
                # fails with "no transaction is active" and hides "database or disk is full".
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def is_empty(self) -> bool:
        """True when no service exists for any account: the editor seeds its embedded store then."""
        with self._read() as db:
            return db.execute("SELECT 1 FROM services LIMIT 1").fetchone() is None

    def purge_expired(self) -> None:
        """Delete what has expired. Reads already hide it; this only reclaims space."""
        now = self.now()
        with self._write() as db:
            db.execute("DELETE FROM maps WHERE date_expires <= ?", (now,))
            db.execute("DELETE FROM items WHERE date_expires <= ?", (now,))

    # Services

    def _find_service(self, db: sqlite3.Connection, account_sid: str, ref: str) -> ServiceRecord:
        column = "sid" if _is_sid(ref, SERVICE_SID_PREFIX) else "unique_name"
        row = db.execute(
            f"SELECT {_SERVICE_COLUMNS} FROM services WHERE account_sid = ? AND {column} = ?",
            (account_sid, ref),
        ).fetchone()
        if row is None:
            raise EmulatorError(TwilioCode.SERVICE_NOT_FOUND, f"Service {ref} not found")
        return _service(row)

    def create_service(
        self,
        account_sid: str,
        *,
        unique_name: str | None = None,
        sid: str | None = None,
        **settings: Any,
    ) -> ServiceRecord:
        unknown = set(settings) - set(SERVICE_SETTINGS)
        if unknown:
            raise TypeError(f"unknown service settings: {sorted(unknown)}")
        now = self.now()
        columns = ["sid", "account_sid", "unique_name", *settings, "date_created", "date_updated"]
        values = [sid or new_sid(SERVICE_SID_PREFIX), account_sid, unique_name, *settings.values(), now, now]
        with self._write() as db:
            try:
                cursor = db.execute(
                    f"INSERT INTO services ({', '.join(columns)}) VALUES ({', '.join('?' * len(values))})",
                    values,
                )
            except sqlite3.IntegrityError:
                raise EmulatorError(
                    TwilioCode.UNIQUE_NAME_EXISTS, f"A service with unique name {unique_name!r} already exists"
                ) from None
            row = db.execute(f"SELECT {_SERVICE_COLUMNS} FROM services WHERE id = ?", (cursor.lastrowid,)).fetchone()
        return _service(row)

    def get_service(self, account_sid: str, ref: str) -> ServiceRecord:
        with self._read() as db:
            return self._find_service(db, account_sid, ref)

    def list_services(
        self,
        account_sid: str,
        *,
        lower: Bound | None = None,
        upper: Bound | None = None,
        descending: bool = False,
        limit: int = 50,
    ) -> list[ServiceRecord]:
        terms, params, order = _range("id", lower, upper, descending)
        with self._read() as db:
            rows = db.execute(
                f"SELECT {_SERVICE_COLUMNS} FROM services WHERE account_sid = ?{terms}{order} LIMIT ?",
                (account_sid, *params, limit),
            ).fetchall()
        return [_service(row) for row in rows]

    def update_service(self, account_sid: str, ref: str, **settings: Any) -> ServiceRecord:
        unknown = set(settings) - set(SERVICE_SETTINGS)
        if unknown:
            raise TypeError(f"unknown service settings: {sorted(unknown)}")
        with self._write() as db:
            service = self._find_service(db, account_sid, ref)
            if settings:
                assignments = ", ".join(f"{name} = ?" for name in settings)
                db.execute(
                    f"UPDATE services SET {assignments}, date_updated = ? WHERE id = ?",
                    (*settings.values(), self.now(), service.id),
                )
            return self._find_service(db, account_sid, service.sid)

    def delete_service(self, account_sid: str, ref: str) -> None:
        with self._write() as db:
            service = self._find_service(db, account_sid, ref)
            db.execute("DELETE FROM services WHERE id = ?", (service.id,))  # maps and items cascade

    # Maps

    def _find_map(self, db: sqlite3.Connection, account_sid: str, service_ref: str, map_ref: str, now: int) -> MapRecord:
        service = self._find_service(db, account_sid, service_ref)
        column = "m.sid" if _is_sid(map_ref, MAP_SID_PREFIX) else "m.unique_name"
        row = db.execute(
            f"{_MAP_SELECT} WHERE m.service_id = ? AND {column} = ? AND (m.date_expires IS NULL OR m.date_expires > ?)",
            (service.id, map_ref, now),
        ).fetchone()
        if row is None:
            raise EmulatorError(TwilioCode.MAP_NOT_FOUND, f"Map {map_ref} not found")
        return MapRecord(*row)

    def _map_by_id(self, db: sqlite3.Connection, map_id: int) -> MapRecord:
        return MapRecord(*db.execute(f"{_MAP_SELECT} WHERE m.id = ?", (map_id,)).fetchone())

    def _touch_map(self, db: sqlite3.Connection, map_id: int, now: int, collection_ttl: int | None) -> None:
        """Every write to a map or its items gives the map a new revision and date_updated."""
        if collection_ttl is None:
            db.execute(
                "UPDATE maps SET revision = revision + 1, date_updated = ? WHERE id = ?",
                (now, map_id),
            )
        else:
            db.execute(
                "UPDATE maps SET revision = revision + 1, date_updated = ?, date_expires = ? WHERE id = ?",
                (now, _expires(now, collection_ttl), map_id),
            )

    def create_map(
        self,
        account_sid: str,
        service_ref: str,
        *,
        unique_name: str | None = None,
        ttl: int = 0,
        sid: str | None = None,
    ) -> MapRecord:
        now = self.now()
        with self._write() as db:
            service = self._find_service(db, account_sid, service_ref)
            if unique_name is not None:  # an expired map no longer holds its name
                db.execute(
                    "DELETE FROM maps WHERE service_id = ? AND unique_name = ? AND date_expires <= ?",
                    (service.id, unique_name, now),
                )
            try:
                cursor = db.execute(
                    "INSERT INTO maps (sid, service_id, unique_name, date_created, date_updated, date_expires)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (sid or new_sid(MAP_SID_PREFIX), service.id, unique_name, now, now, _expires(now, ttl)),
                )
            except sqlite3.IntegrityError:
                raise EmulatorError(
                    TwilioCode.UNIQUE_NAME_EXISTS, f"A map with unique name {unique_name!r} already exists"
                ) from None
            return self._map_by_id(db, cursor.lastrowid)

    def get_map(self, account_sid: str, service_ref: str, map_ref: str) -> MapRecord:
        now = self.now()
        with self._read() as db:
            return self._find_map(db, account_sid, service_ref, map_ref, now)

    def list_maps(
        self,
        service: ServiceRecord,
        *,
        lower: Bound | None = None,
        upper: Bound | None = None,
        descending: bool = False,
        limit: int = 50,
    ) -> list[MapRecord]:
        terms, params, order = _range("m.id", lower, upper, descending)
        with self._read() as db:
            rows = db.execute(
                f"{_MAP_SELECT} WHERE m.service_id = ? AND (m.date_expires IS NULL OR m.date_expires > ?)"
                f"{terms}{order} LIMIT ?",
                (service.id, self.now(), *params, limit),
            ).fetchall()
        return [MapRecord(*row) for row in rows]

    def update_map(self, account_sid: str, service_ref: str, map_ref: str, *, ttl: int) -> MapRecord:
        now = self.now()
        with self._write() as db:
            sync_map = self._find_map(db, account_sid, service_ref, map_ref, now)
            self._touch_map(db, sync_map.id, now, ttl)
            return self._map_by_id(db, sync_map.id)

    def delete_map(self, account_sid: str, service_ref: str, map_ref: str) -> None:
        with self._write() as db:
            sync_map = self._find_map(db, account_sid, service_ref, map_ref, self.now())
            db.execute("DELETE FROM maps WHERE id = ?", (sync_map.id,))  # items cascade

    # Items

    def _find_item(self, db: sqlite3.Connection, sync_map: MapRecord, key: str, now: int) -> ItemRecord:
        row = db.execute(
            "SELECT item_key, data, revision, date_created, date_updated, date_expires"
            f" FROM items WHERE map_id = ? AND item_key = ? AND {_LIVE}",
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
                    (sync_map.id, key, data, now, now, _expires(now, ttl)),
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
                ((sync_map.id, key, data, now, now, _expires(now, ttl)) for key, data, ttl in items),
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
        terms, params, order = _range("item_key", lower, upper, descending)
        with self._read() as db:
            rows = db.execute(
                "SELECT item_key, data, revision, date_created, date_updated, date_expires"
                f" FROM items WHERE map_id = ? AND {_LIVE}{terms}{order} LIMIT ?",
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
                    item.date_expires if ttl is None else _expires(now, ttl),
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
