"""The last listing of services and maps, per server and account, so that the navigator can show
it at once (marked as refreshing) while the fresh listing is on its way.

Only the tree's listing is kept: names and SIDs of services and maps. Item data and revisions are
never cached: what the editor and the table show always comes from the server. The file is
private (0600 in a 0700 folder, like the drafts) since names can say what an account is for, and
is replaced atomically. A cache that cannot be read or written is not an error: the tree then
waits for the server, as without a cache.
"""

from __future__ import annotations

import json
import os
import stat
import threading
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from syncmap_tui.config import state_dir
from syncmap_tui.private_files import ensure_private_dir, write_atomically
from syncmap_tui.sync.errors import BadResponse
from syncmap_tui.sync.models import Service, SyncMap, format_datetime

CACHE_FILE_NAME = "tree-cache.json"
FORMAT_VERSION = 1
MAX_CACHE_BYTES = 16 * 1024 * 1024
"""A larger file is no cache: 20 trees of 1,000 maps each take about 10 MB."""
MAX_TREES = 20
"""Decision: the trees of this many servers and accounts are kept, the most recently listed. An
emulator on a new port each run is a new server: without a bound the file would grow for ever."""


def _payload(record: Service | SyncMap) -> dict[str, Any]:
    """The record as the API's JSON has it (the models use the API's field names), so that
    `from_api` reads it back with the same checks as an answer from the server."""
    return {name: format_datetime(value) if isinstance(value, datetime) else value for name, value in asdict(record).items()}


def _maps_of(entry: dict[str, Any]) -> dict[str, Any]:
    maps = entry.get("maps")
    return maps if isinstance(maps, dict) else {}


@dataclass
class CachedTree:
    """One account's last listing: its services, and the maps of the services that were expanded."""

    services: list[Service]
    maps: dict[str, list[SyncMap]] = field(default_factory=dict)
    """Service SID → its maps, for the services whose maps were listed."""


class TreeCache:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else state_dir() / CACHE_FILE_NAME
        self._writing = threading.Lock()
        """Writes come from worker threads: each reads the file, changes it and writes it whole."""

    @staticmethod
    def account_key(base_url: str, account_sid: str) -> str:
        """Each server and account has its own tree: the emulator's is not Twilio's."""
        return f"{account_sid} {base_url}"

    def _read_all(self) -> dict[str, Any]:
        try:
            document = json.loads(self._read_bytes())
        except (OSError, ValueError):
            return {}
        if not isinstance(document, dict) or document.get("version") != FORMAT_VERSION:
            return {}
        accounts = document.get("accounts")
        return accounts if isinstance(accounts, dict) else {}

    def _read_bytes(self) -> bytes:
        """The file's bytes; OSError for anything but a regular file of a sane size. Non-blocking:
        a FIFO in its place would otherwise hold the connecting worker for ever."""
        fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
        with os.fdopen(fd, "rb") as file:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise OSError(f"{self.path} is not a regular file")
            raw = file.read(MAX_CACHE_BYTES + 1)
        if len(raw) > MAX_CACHE_BYTES:
            raise OSError(f"{self.path} is larger than {MAX_CACHE_BYTES:,} bytes")
        return raw

    def load(self, base_url: str, account_sid: str) -> CachedTree | None:
        """The account's last listing, or None if there is none (or it cannot be read)."""
        entry = self._read_all().get(self.account_key(base_url, account_sid))
        if not isinstance(entry, dict):
            return None
        try:
            services = [Service.from_api(payload) for payload in entry.get("services", [])]
            maps = {
                service_sid: [SyncMap.from_api(payload) for payload in payloads]
                for service_sid, payloads in _maps_of(entry).items()
            }
        except (BadResponse, TypeError, AttributeError):
            return None  # a damaged cache is no cache
        known = {service.sid for service in services}
        return CachedTree(services, {sid: listed for sid, listed in maps.items() if sid in known})

    def save_services(self, base_url: str, account_sid: str, services: list[Service]) -> None:
        """The account's fresh list of services; the maps of services that are gone are dropped."""
        def change(entry: dict[str, Any]) -> None:
            entry["services"] = [_payload(service) for service in services]
            known = {service.sid for service in services}
            entry["maps"] = {sid: maps for sid, maps in _maps_of(entry).items() if sid in known}

        self._change(base_url, account_sid, change)

    def save_maps(self, base_url: str, account_sid: str, service_sid: str, maps: list[SyncMap]) -> None:
        def change(entry: dict[str, Any]) -> None:
            entry["maps"] = {**_maps_of(entry), service_sid: [_payload(sync_map) for sync_map in maps]}

        self._change(base_url, account_sid, change)

    def _change(self, base_url: str, account_sid: str, change: Callable[[dict[str, Any]], None]) -> None:
        with self._writing:
            self._change_unlocked(base_url, account_sid, change)

    def _change_unlocked(self, base_url: str, account_sid: str, change: Callable[[dict[str, Any]], None]) -> None:
        accounts = self._read_all()
        entry = accounts.pop(self.account_key(base_url, account_sid), None)
        entry = entry if isinstance(entry, dict) else {}
        change(entry)
        accounts[self.account_key(base_url, account_sid)] = entry  # last: the most recently listed
        accounts = dict(list(accounts.items())[-MAX_TREES:])
        document = {"version": FORMAT_VERSION, "accounts": accounts}
        try:
            ensure_private_dir(self.path.parent)
            write_atomically(self.path, json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
        except OSError:
            pass  # the next start lists from the server, as without a cache
