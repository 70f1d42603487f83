"""Every version of an item that the app has seen, kept on disk. Headless: never imports Textual.

"Show history", "Undo last save", "Restore version…" and "Undo delete" read it. A version is
recorded when it is loaded, saved by you, shown in a conflict, seen by the watch or a refresh,
and when you delete the item (the deleted version, so that undo can bring it back).

Storage
-------
One file per item: ``<state_dir>/history/<item_id>.json`` (``state_dir()`` from
`syncmap_tui.config`), where `item_id` is a hash of (base URL, service SID, map SID, key). The
folder is 0700 and each file 0600: they hold item data. A file is one JSON object in ASCII
(``ensure_ascii``), written atomically (`private_files.write_atomically`), so a kill -9 while it is
written leaves the old file or the new one. Each read-modify-write holds an flock on
``<history>/.lock``, so that two running instances never drop each other's versions.

Bounds (documented in the README too):

* `MAX_VERSIONS_PER_ITEM` (50) versions per item, and `MAX_ITEM_BYTES` (1 MiB) per file: the
  oldest versions go first;
* `MAX_TOTAL_BYTES` (32 MiB) over all items: after a write that passes it, the files written
  longest ago are removed whole;
* the temp files a kill -9 leaves behind go at the next write, once `STALE_TEMP_SECONDS` old.

Nothing here logs or prints item data; an unreadable file reads as no history.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from syncmap_tui.config import state_dir
from syncmap_tui.private_files import TEMP_SUFFIX, ensure_private_dir, remove_if_stale_temp, write_atomically
from syncmap_tui.sync.merge import json_equal
from syncmap_tui.sync.models import MapItem, format_datetime, parse_datetime

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

HISTORY_FORMAT = "syncmap-tui history"
HISTORY_VERSION = 1
MAX_VERSIONS_PER_ITEM = 50
MAX_ITEM_BYTES = 1024 * 1024
"""50 versions of Twilio's largest item (16 KiB) fit; an item full of escaped non-ASCII text keeps fewer."""
MAX_TOTAL_BYTES = 32 * 1024 * 1024

How = Literal["loaded", "saved", "conflict", "watch", "seen", "deleted"]
"""How the app came to see a version: opened it, you saved it, a conflict showed it, the watch or a
page or a refresh showed it, or you deleted it (the version as it was)."""


def _utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


@dataclass(frozen=True)
class ItemRef:
    """Which item, on which server: the history's key."""

    base_url: str
    service_sid: str
    map_sid: str
    key: str

    @property
    def item_id(self) -> str:
        parts = (self.base_url, self.service_sid, self.map_sid, self.key)
        return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]


@dataclass(frozen=True)
class Version:
    revision: str
    data: dict[str, Any]
    date_created: datetime
    date_updated: datetime
    date_expires: datetime | None
    seen_at: datetime
    how: How
    by_you: bool = False
    """You wrote it (a save, a recreate), or you deleted it (`how` "deleted"), from any running
    instance of the app on this account of the machine: the history is theirs to share."""
    replaced: str | None = None
    """For a save of yours: the revision it was made on, which undo brings back."""
    instance: str | None = None
    """Which running instance (`syncmap_tui.instances`) wrote or deleted it, when `by_you`; None:
    not known (written before instances were kept). Undo asks before acting on another's."""

    @classmethod
    def of(
        cls, item: MapItem, how: How, seen_at: datetime, *, by_you: bool = False, replaced: str | None = None,
        instance: str | None = None,
    ) -> Version:
        return cls(
            item.revision, item.data, item.date_created, item.date_updated, item.date_expires,
            seen_at, how, by_you, replaced, instance if by_you else None,
        )

    def same_version(self, other: Version) -> bool:
        """The same state of the same item (a recreated item restarts at revision "0": compare more)."""
        return (
            self.revision == other.revision
            and self.date_created == other.date_created
            and self.date_expires == other.date_expires
            and json_equal(self.data, other.data)
        )

    def as_item(self, ref: ItemRef) -> MapItem:
        """The version as an item, for the session's checks (identity, revision, data); the
        fields the history does not keep (account, url, author) are empty."""
        return MapItem(
            key=ref.key, account_sid="", service_sid=ref.service_sid, map_sid=ref.map_sid, url="",
            revision=self.revision, data=self.data, date_expires=self.date_expires,
            date_created=self.date_created, date_updated=self.date_updated, created_by="",
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "revision": self.revision,
            "data": self.data,
            "date_created": format_datetime(self.date_created),
            "date_updated": format_datetime(self.date_updated),
            "date_expires": None if self.date_expires is None else format_datetime(self.date_expires),
            "seen_at": format_datetime(self.seen_at),
            "how": self.how,
            "by_you": self.by_you,
            "replaced": self.replaced,
            "instance": self.instance,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Version:
        expires = raw["date_expires"]
        data = raw["data"]
        if not isinstance(data, dict) or raw["how"] not in How.__args__:  # type: ignore[attr-defined]
            raise ValueError("not a version")
        return cls(
            revision=str(raw["revision"]),
            data=data,
            date_created=parse_datetime(raw["date_created"]),
            date_updated=parse_datetime(raw["date_updated"]),
            date_expires=None if expires is None else parse_datetime(expires),
            seen_at=parse_datetime(raw["seen_at"]),
            how=raw["how"],
            by_you=bool(raw.get("by_you")),
            replaced=raw.get("replaced"),
            instance=raw.get("instance") if isinstance(raw.get("instance"), str) else None,
        )


@dataclass(frozen=True)
class DeletedItem:
    ref: ItemRef
    version: Version
    """The item as it was when you deleted it; `seen_at` is when."""


def default_history_dir() -> Path:
    return state_dir() / "history"


class HistoryStore:
    """The versions of every item, one file each. Safe to call from a worker thread."""

    def __init__(
        self, directory: Path | None = None, *, instance: str | None = None, now: Callable[[], datetime] = _utc_now
    ) -> None:
        self.directory = directory if directory is not None else default_history_dir()
        self.instance = instance
        """This running instance: what it writes or deletes is marked as its own."""
        self.now = now
        self._lock = threading.Lock()
        self._last: dict[str, Version] = {}
        """The newest version each item's file is known to end with: the watch sees the same one
        every few seconds, and that costs no disk read."""

    def path_for(self, ref: ItemRef) -> Path:
        return self.directory / f"{ref.item_id}.json"

    # -- reading -------------------------------------------------------------------------------

    def versions(self, ref: ItemRef) -> list[Version]:
        """Oldest first."""
        return self._read(self.path_for(ref))[1]

    def last_save(self, ref: ItemRef) -> tuple[Version, Version] | None:
        """(your latest save, the version it replaced), when both are still in the history."""
        versions = self.versions(ref)
        for index in range(len(versions) - 1, -1, -1):
            saved = versions[index]
            if saved.how == "saved" and saved.by_you and saved.replaced is not None:
                for earlier in reversed(versions[:index]):
                    if earlier.revision == saved.replaced and earlier.how != "deleted":
                        return saved, earlier
                return None
        return None

    def deleted_items(self, base_url: str, service_sid: str, map_sid: str) -> list[DeletedItem]:
        """Items of this map you deleted, and whose history ends there: those this instance deleted
        first, then those of other instances (running or not), each the latest deleted first. Undo
        delete takes the first: another window's delete is never "your last delete" here."""
        found: list[DeletedItem] = []
        for path in self._files():
            ref, versions = self._read(path)
            if ref is None or not versions or (ref.base_url, ref.service_sid, ref.map_sid) != (base_url, service_sid, map_sid):
                continue
            last = versions[-1]
            if last.how == "deleted" and last.by_you:
                found.append(DeletedItem(ref, last))
        found.sort(key=lambda deleted: deleted.version.seen_at, reverse=True)
        found.sort(key=lambda deleted: not self.is_mine(deleted.version))
        return found

    def is_mine(self, version: Version) -> bool:
        """Written or deleted by this running instance (not only by you, from any instance)."""
        return version.by_you and self.instance is not None and version.instance == self.instance

    # -- writing -------------------------------------------------------------------------------

    def record(self, ref: ItemRef, item: MapItem, how: How, *, by_you: bool = False, replaced: str | None = None) -> bool:
        """Keep `item` as a version of `ref`; True when that wrote to disk (a new version, or a known one
        now known to be yours). Raises OSError when the disk refuses."""
        return self._add(ref, Version.of(item, how, self.now(), by_you=by_you, replaced=replaced, instance=self.instance))

    def record_deleted(self, ref: ItemRef, item: MapItem) -> bool:
        """You deleted `item` (as it was then): undo delete can bring it back."""
        return self._add(ref, Version.of(item, "deleted", self.now(), by_you=True, instance=self.instance))

    def _add(self, ref: ItemRef, version: Version) -> bool:
        item_id = ref.item_id
        known = self._last.get(item_id)
        if known is not None and self._adds_nothing(known, version):
            return False
        with self._lock, self._file_lock():
            path = self.path_for(ref)
            _, versions = self._read(path)
            merged = self._merge(versions, version)
            if merged is None:
                if versions:
                    self._last[item_id] = versions[-1]
                return False
            self._write(path, ref, merged)
            self._last[item_id] = merged[-1]
            self._bound_total()
        return True

    @staticmethod
    def _adds_nothing(known: Version, version: Version) -> bool:
        if version.how == "deleted" or known.how == "deleted":
            return False
        return known.same_version(version) and (known.by_you or not version.by_you)

    @staticmethod
    def _merge(versions: list[Version], version: Version) -> list[Version] | None:
        """`versions` with `version` added (or an earlier record of it marked as yours); None: nothing new."""
        if version.how != "deleted":
            for index in range(len(versions) - 1, -1, -1):
                earlier = versions[index]
                if earlier.how == "deleted" or not earlier.same_version(version):
                    continue
                if index != len(versions) - 1:
                    break  # seen again after other versions (an undo came back to it): a new entry
                if earlier.by_you or not version.by_you:
                    return None
                # Seen before the save's own answer came (a watch, a lost answer): it is yours.
                updated = replace(earlier, how=version.how, by_you=True, replaced=version.replaced or earlier.replaced,
                                  instance=version.instance)
                return [*versions[:index], updated]
        return [*versions, version]

    def _write(self, path: Path, ref: ItemRef, versions: list[Version]) -> None:
        versions = versions[-MAX_VERSIONS_PER_ITEM:]
        while True:
            body = json.dumps(
                {
                    "format": HISTORY_FORMAT, "version": HISTORY_VERSION,
                    "base_url": ref.base_url, "service_sid": ref.service_sid, "map_sid": ref.map_sid, "key": ref.key,
                    "versions": [v.to_json() for v in versions],
                },
                ensure_ascii=True, separators=(",", ":"),
            ).encode("ascii")
            if len(body) <= MAX_ITEM_BYTES or len(versions) == 1:
                break
            versions = versions[1:]
        ensure_private_dir(self.directory)
        write_atomically(path, body)

    def _bound_total(self) -> None:
        self._remove_stale_temps()
        entries = []
        for path in self._files():
            try:
                stat = path.stat()
            except OSError:
                continue
            entries.append((stat.st_mtime, stat.st_size, path))
        total = sum(size for _, size, _ in entries)
        for _, size, path in sorted(entries):
            if total <= MAX_TOTAL_BYTES:
                break
            try:
                path.unlink()
            except OSError:
                continue
            total -= size
            self._last.pop(path.stem, None)

    # -- files ---------------------------------------------------------------------------------

    def _remove_stale_temps(self) -> None:
        """A kill -9 between a temp file's write and its rename leaves the temp (up to
        MAX_ITEM_BYTES, outside MAX_TOTAL_BYTES): each run of them would grow the folder for ever."""
        now = time.time()
        try:
            with os.scandir(self.directory) as entries:
                for entry in entries:
                    remove_if_stale_temp(entry, now)
        except OSError:
            pass

    def _files(self) -> list[Path]:
        try:
            with os.scandir(self.directory) as entries:
                return [
                    Path(entry.path) for entry in entries
                    if entry.name.endswith(".json") and not entry.name.startswith(".") and not entry.name.endswith(TEMP_SUFFIX)
                ]
        except OSError:
            return []

    def _read(self, path: Path) -> tuple[ItemRef | None, list[Version]]:
        try:
            with open(path, "rb") as file:
                raw = file.read(MAX_ITEM_BYTES * 2)
            body = json.loads(raw)
            if body.get("format") != HISTORY_FORMAT:
                return None, []
            ref = ItemRef(str(body["base_url"]), str(body["service_sid"]), str(body["map_sid"]), str(body["key"]))
            versions = []
            for entry in body["versions"]:
                try:
                    versions.append(Version.from_json(entry))
                except (KeyError, TypeError, ValueError):
                    continue  # one bad entry costs that entry only
            return ref, versions
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None, []

    def _file_lock(self) -> _FileLock:
        return _FileLock(self.directory / ".lock")


class _FileLock:
    """An exclusive flock for one read-modify-write, between running instances."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def __enter__(self) -> _FileLock:
        ensure_private_dir(self.path.parent)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        if fcntl is not None:
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing releases the flock
            self.fd = None
