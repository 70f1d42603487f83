"""Maps in the store: their records, lookup within a service, expiry, and the map revision every write bumps."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import cast

from syncmap_tui.emulator.errors import EmulatorError
from syncmap_tui.emulator.store.db import Bound, expires, range_terms
from syncmap_tui.emulator.store.services import ServiceRecord, ServiceStore
from syncmap_tui.emulator.store.sids import MAP_SID_PREFIX, is_sid, new_sid
from syncmap_tui.sync.errors import TwilioCode


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


_MAP_SELECT = (
    "SELECT m.id, m.sid, m.unique_name, s.account_sid, s.sid, m.revision,"
    " m.date_created, m.date_updated, m.date_expires"
    " FROM maps AS m JOIN services AS s ON s.id = m.service_id"
)


class MapStore(ServiceStore):
    """Maps, found by SID or unique name within a service; an expired map is gone."""

    def _find_map(self, db: sqlite3.Connection, account_sid: str, service_ref: str, map_ref: str, now: int) -> MapRecord:
        service = self._find_service(db, account_sid, service_ref)
        column = "m.sid" if is_sid(map_ref, MAP_SID_PREFIX) else "m.unique_name"
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
                (now, expires(now, collection_ttl), map_id),
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
                    (sid or new_sid(MAP_SID_PREFIX), service.id, unique_name, now, now, expires(now, ttl)),
                )
            except sqlite3.IntegrityError:
                raise EmulatorError(
                    TwilioCode.UNIQUE_NAME_EXISTS, f"A map with unique name {unique_name!r} already exists"
                ) from None
            return self._map_by_id(db, cast(int, cursor.lastrowid))  # an INSERT that succeeded has one

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
        terms, params, order = range_terms("m.id", lower, upper, descending)
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
