"""Services in the store: their records, lookup by SID or unique name, and their operations."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any, Sequence

from syncmap_tui.emulator.errors import EmulatorError
from syncmap_tui.emulator.store.db import Bound, Database, range_terms
from syncmap_tui.emulator.store.sids import SERVICE_SID_PREFIX, is_sid, new_sid
from syncmap_tui.sync.errors import TwilioCode


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

_SERVICE_COLUMNS = "id, sid, account_sid, unique_name, " + ", ".join(SERVICE_SETTINGS) + ", date_created, date_updated"


def _service(row: Sequence[Any]) -> ServiceRecord:
    values = list(row)
    for index in range(6, 10):  # the four booleans, stored as 0/1
        values[index] = bool(values[index])
    return ServiceRecord(*values)


class ServiceStore(Database):
    """Services, found by SID or unique name within an account."""

    def is_empty(self) -> bool:
        """True when no service exists for any account: the editor seeds its embedded store then."""
        with self._read() as db:
            return db.execute("SELECT 1 FROM services LIMIT 1").fetchone() is None


    def _find_service(self, db: sqlite3.Connection, account_sid: str, ref: str) -> ServiceRecord:
        column = "sid" if is_sid(ref, SERVICE_SID_PREFIX) else "unique_name"
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
        terms, params, order = range_terms("id", lower, upper, descending)
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

