"""The store's SQLite database: one connection behind one lock, its transactions, and the schema's migrations.

Synchronous and thread-safe: one connection guarded by one lock, every write in a
`BEGIN IMMEDIATE` transaction. One connection is what ":memory:" allows anyway, and every
operation here takes microseconds to a few milliseconds, so a single writer is not the limit;
`BEGIN IMMEDIATE` also keeps compare-and-set atomic if two processes share a database file.

Times are whole seconds since the epoch (Twilio's datetimes have no fractions).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, Self

MIGRATIONS: tuple[str, ...] = (
    # 1: services, maps and map items. IF NOT EXISTS: databases written before migrations were
    # counted hold these tables at user_version 0 or 1.
    """
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
""",
)
"""The schema's history: migration N (1-based) takes a database from user_version N-1 to N.
Each is SQL statements ending in ";". A new resource (Sync Documents, Lists) is one more entry
here; never edit one that has shipped."""

SCHEMA_VERSION = len(MIGRATIONS)

Bound = tuple[Any, bool]
"""A range end for listing: (position, inclusive). Positions are ids for services and maps, keys for items."""

LIVE = "(date_expires IS NULL OR date_expires > ?)"
"""Expiry is checked on every read, against the store's clock: an expired object is gone."""


def expires(now: int, ttl: int) -> int | None:
    return now + ttl if ttl > 0 else None


def range_terms(column: str, lower: Bound | None, upper: Bound | None, descending: bool) -> tuple[str, list[Any], str]:
    """SQL for a range scan over an indexed column: extra WHERE terms, their parameters, ORDER BY."""
    terms, params = [], []
    if lower is not None:
        terms.append(f" AND {column} {'>=' if lower[1] else '>'} ?")
        params.append(lower[0])
    if upper is not None:
        terms.append(f" AND {column} {'<=' if upper[1] else '<'} ?")
        params.append(upper[0])
    return "".join(terms), params, f" ORDER BY {column} {'DESC' if descending else 'ASC'}"


class Database:
    """The connection, its lock and clock; the resource stores build on it."""

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
        self._in_transaction = False
        """Inside `transaction()`: reads and writes join its one transaction (under its lock)."""
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

    def _migrate(self) -> None:
        """Apply the migrations the database lacks, each in its own transaction with its version."""
        with self._lock:
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                self._db.close()
                raise RuntimeError(
                    f"{self.path} was written by a newer emulator (schema {version}, this one knows {SCHEMA_VERSION})"
                )
            for number in range(version + 1, SCHEMA_VERSION + 1):
                try:
                    self._db.executescript(
                        f"BEGIN IMMEDIATE;\n{MIGRATIONS[number - 1]}\nPRAGMA user_version = {number};\nCOMMIT;"
                    )
                except BaseException:
                    if self._db.in_transaction:
                        self._db.execute("ROLLBACK")
                    self._db.close()
                    raise

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def now(self) -> int:
        moment = self.clock()
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)  # decision: a naive clock reads UTC
        return int(moment.timestamp())

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Every read and write inside is one transaction: all of it reaches the file, or none. The
        demo seed runs in one, so that a seed cut short (a full disk) leaves no half-seeded data
        that a later start would take for seeded."""
        with self._write():
            self._in_transaction = True
            try:
                yield
            finally:
                self._in_transaction = False

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._in_transaction:
                yield self._db
                return
            self._db.execute("BEGIN")
            try:
                yield self._db
            finally:
                self._db.execute("COMMIT")

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._in_transaction:
                yield self._db  # the outer transaction commits or rolls back
                return
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
