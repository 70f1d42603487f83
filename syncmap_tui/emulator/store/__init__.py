"""SQLite storage for Sync services, maps and map items.

One store module per resource (`services`, `maps`, `items`), each a layer over the one below it,
on `db` (the connection, its lock, transactions and the schema's migrations). Adding Sync
Documents or Lists is one module beside them, one migration in `db.MIGRATIONS`, and one base
class more for `SyncStore`.

The store trusts its callers for the wire rules (key length, unique names, data size, TTL
range): the app checks those with `syncmap_tui.sync.validation` before calling in. The store owns
what only it can decide: existence, uniqueness, expiry and revisions.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Callable

from syncmap_tui.emulator.store.db import SCHEMA_VERSION, Bound
from syncmap_tui.emulator.store.items import ItemRecord, ItemStore
from syncmap_tui.emulator.store.maps import MapRecord
from syncmap_tui.emulator.store.services import SERVICE_SETTINGS, ServiceRecord
from syncmap_tui.emulator.store.sids import MAP_SID_PREFIX, SERVICE_SID_PREFIX, derived_sid


class SyncStore(ItemStore):
    """Services, maps and items in one SQLite database. Synchronous and thread-safe."""

    def __init__(
        self,
        path: str | os.PathLike[str] = ":memory:",
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(path, clock=clock)
        self.purge_expired()

    def purge_expired(self) -> None:
        """Delete what has expired. Reads already hide it; this only reclaims space."""
        now = self.now()
        with self._write() as db:
            db.execute("DELETE FROM maps WHERE date_expires <= ?", (now,))
            db.execute("DELETE FROM items WHERE date_expires <= ?", (now,))


__all__ = [
    "MAP_SID_PREFIX",
    "SCHEMA_VERSION",
    "SERVICE_SETTINGS",
    "SERVICE_SID_PREFIX",
    "Bound",
    "ItemRecord",
    "MapRecord",
    "ServiceRecord",
    "SyncStore",
    "derived_sid",
]
