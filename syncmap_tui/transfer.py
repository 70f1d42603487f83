"""Export a map to JSON Lines and import such a file into a map. Headless: no Textual.

The file
--------
UTF-8 JSON Lines. The first line is a header naming where the items came from::

    {"format":"syncmap-tui map export","version":1,"base_url":"https://sync.twilio.com",
     "account_sid":"AC…","service_sid":"IS…","service":"Demo Store","map_sid":"MP…","map":"orders",
     "exported_at":"2026-01-15T12:00:00Z"}

then one item a line, in key order:
``{"key","data","revision","date_created","date_updated","date_expires"}`` (dates in Twilio's form,
``date_expires`` null for an item that does not expire). The header is
what tells a restore (into the very map the file came from: same base URL, account, service and
map SID) from an import into another map. A file without it (items only, e.g. made with jq) imports
as into another map. Every character that does not print is written as a JSON escape, so
`cat`-ing an export cannot drive the terminal, and the file reads back to the same data.

Importing
---------
The map is read first (keys, revisions and a fingerprint of each item's data: memory stays small
for a large map), then each line of the file is applied:

* already expired (``date_expires`` in the past): skipped and counted;
* missing in the map: created, with the TTL that remains until the file's ``date_expires``;
* present with JSON-equal data: done already (a rerun after an interruption costs no write);
* present with other data, in a restore: updated, with If-Match on the file's revision, only if
  it is still the item exported at that revision (the same revision and creation time: a deleted
  and recreated item starts again at revision "0"). So a file edited after the export (with jq,
  say) applies its edits, and a change made since the export, or another item under the key, is
  kept (and counted), whatever ``--on-conflict`` says;
* present with other data, in another map: ``on_conflict`` decides: ``skip`` (the default),
  ``fail`` (stop there) or ``overwrite``, which still sends If-Match on the revision just read,
  so a change made during the import is kept and reported, never written over.

A create that meets an item created meanwhile (409) reads it and goes on as above. Writes refused
with 429 are sent again after Retry-After (a 429 applied nothing).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import math
import os
import stat
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, Literal, TypeVar

from syncmap_tui.sync.client import SyncClient
from syncmap_tui.sync.errors import ItemNotFound, KeyExists, RateLimited, RevisionConflict, SyncError
from syncmap_tui.sync.models import MapItem, Service, SyncMap, format_datetime, parse_datetime
from syncmap_tui.sync.validation import (
    MAX_TTL_SECONDS,
    ValidationError,
    check_key,
    check_size,
    encode_data,
    escape_unprintable,
)

FORMAT_NAME = "syncmap-tui map export"
FORMAT_VERSION = 1
MAX_LINE_BYTES = 1024 * 1024
"""The longest line an export can hold is ~110 KB: 16 KiB of data with every character escaped
(a control character takes 6 bytes as `\\u0001`) and a 320-character key. Longer is no export."""
PAGE_SIZE = 100
"""Twilio's largest page: a 10,000-item map is 100 requests."""
RATE_LIMIT_ATTEMPTS = 8
"""Sends of one write refused with 429 before it counts as failed; each waits Retry-After, or
1, 2, 4 … 30 s when the server names no wait."""
MAX_RATE_LIMIT_WAIT = 30.0

OnConflict = Literal["skip", "overwrite", "fail"]
ON_CONFLICT_CHOICES: tuple[OnConflict, ...] = ("skip", "overwrite", "fail")
T = TypeVar("T")


class ExportFileError(Exception):
    """A file that is not an export this module can import; `message` names the line."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# ---------------------------------------------------------------------------------------------
# The file format


@dataclass(frozen=True)
class ExportHeader:
    base_url: str
    account_sid: str
    service_sid: str
    map_sid: str
    service: str = ""
    map: str = ""
    exported_at: str = ""

    def source_of(self, client: SyncClient, service_sid: str, map_sid: str) -> bool:
        """Whether this file came from that map (a restore): the same server, account, service and map."""
        return (self.base_url, self.account_sid, self.service_sid, self.map_sid) == (
            client.base_url, client.credentials.account_sid, service_sid, map_sid,
        )


@dataclass(frozen=True)
class ExportedItem:
    line: int
    key: str
    data: dict[str, Any]
    revision: str | None
    date_created: str | None
    """As the file has it (Twilio's form): compared as text, never parsed, like a revision."""
    date_expires: datetime | None


_LINE_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
"""One encoder for every line: json.dumps with options builds a new one per call (~1 µs of the
~8 µs a line cost)."""

_when = functools.lru_cache(maxsize=4096)(format_datetime)
"""format_datetime, remembered: items written together share their dates, and strftime was
3 µs of a line's 8 (two dates a line)."""


def json_line(record: dict[str, Any]) -> str:
    """One line of the file: compact JSON, non-ASCII kept, anything that does not print escaped.
    isprintable() first: escaping walks the text a character at a time in Python, and took a third
    of an export's time (10,000 items) although nearly every line has nothing to escape."""
    text = _LINE_ENCODER.encode(record)
    return (text if text.isprintable() else escape_unprintable(text, keep="")) + "\n"


def header_line(client: SyncClient, service: Service, sync_map: SyncMap, now: datetime) -> str:
    return json_line({
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "base_url": client.base_url,
        "account_sid": client.credentials.account_sid,
        "service_sid": service.sid,
        "service": service.display_name,
        "map_sid": sync_map.sid,
        "map": sync_map.display_name,
        "exported_at": format_datetime(now),
    })


def item_line(item: MapItem) -> str:
    return json_line({
        "key": item.key,
        "data": item.data,
        "revision": item.revision,
        "date_created": _when(item.date_created),
        "date_updated": _when(item.date_updated),
        "date_expires": None if item.date_expires is None else _when(item.date_expires),
    })


def _parse_header(record: dict[str, Any], line: int) -> ExportHeader:
    if record.get("version") != FORMAT_VERSION:
        raise ExportFileError(f"line {line}: an export of version {record.get('version')!r}; this version reads {FORMAT_VERSION}")
    values = {}
    for name in ("base_url", "account_sid", "service_sid", "map_sid", "service", "map", "exported_at"):
        value = record.get(name, "")
        if not isinstance(value, str):
            raise ExportFileError(f"line {line}: the header's {name!r} is not a string")
        values[name] = value
    return ExportHeader(**values)


def _parse_item(record: dict[str, Any], line: int) -> ExportedItem:
    key, data = record.get("key"), record.get("data")
    if not isinstance(key, str):
        raise ExportFileError(f"line {line}: no 'key' string")
    try:
        check_key(key)
    except ValidationError as exc:
        raise ExportFileError(f"line {line}: {exc.message}") from None
    if not isinstance(data, dict):
        raise ExportFileError(f"line {line}: 'data' is not a JSON object")
    try:
        check_size(encode_data(data))
    except ValidationError as exc:
        raise ExportFileError(f"line {line}: {exc.message}") from None
    revision, created = record.get("revision"), record.get("date_created")
    if revision is not None and not isinstance(revision, str):
        raise ExportFileError(f"line {line}: 'revision' is not a string")
    if created is not None and not isinstance(created, str):
        raise ExportFileError(f"line {line}: 'date_created' is not a string")
    expires = record.get("date_expires")
    try:
        date_expires = None if expires is None else parse_datetime(expires)
    except (TypeError, ValueError):
        raise ExportFileError(f"line {line}: 'date_expires' is not a Twilio datetime (YYYY-MM-DDTHH:MM:SSZ) or null") from None
    return ExportedItem(line, key, data, revision, created, date_expires)


def read_export(file: IO[bytes]) -> tuple[ExportHeader | None, Iterator[ExportedItem]]:
    """The header (None for an items-only file) and the items, read lazily line by line.
    Raises ExportFileError for the first line that is not an export's."""
    lines = _records(file)
    first = next(lines, None)
    if first is None:
        return None, iter(())
    number, record = first
    if "format" in record:
        if record["format"] != FORMAT_NAME:
            raise ExportFileError(f"line {number}: not a syncmap-tui export (format {record['format']!r})")
        header = _parse_header(record, number)
        return header, (_parse_item(r, n) for n, r in lines)

    def items() -> Iterator[ExportedItem]:
        yield _parse_item(record, number)
        for n, r in lines:
            yield _parse_item(r, n)

    return None, items()


def _records(file: IO[bytes]) -> Iterator[tuple[int, dict[str, Any]]]:
    number = 0
    while True:
        raw = file.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        number += 1
        if len(raw) > MAX_LINE_BYTES:
            raise ExportFileError(f"line {number}: longer than {MAX_LINE_BYTES:,} bytes; not an export")
        if not raw.strip():
            continue
        try:
            record = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise ExportFileError(f"line {number}: not UTF-8") from None
        except (ValueError, RecursionError) as exc:
            raise ExportFileError(f"line {number}: not JSON ({exc})") from None
        if not isinstance(record, dict):
            raise ExportFileError(f"line {number}: not a JSON object")
        yield number, record


def check_export_file(path: Path) -> tuple[ExportHeader | None, int]:
    """Read the whole file once, before anything is sent: a bad line refuses the import whole
    rather than half-way. Returns the header and the number of items."""
    with open(path, "rb") as file:
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            # A pipe or a FIFO would be used up by this check, leaving nothing to import.
            raise ExportFileError("not a regular file (a pipe, a FIFO or a device); save it to a file first")
        header, items = read_export(file)
        return header, sum(1 for _ in items)


# ---------------------------------------------------------------------------------------------
# Export


async def export_map(
    client: SyncClient,
    service: Service,
    sync_map: SyncMap,
    write: Callable[[str], object],
    *,
    now: datetime,
    progress: Callable[[int], None] = lambda count: None,
) -> int:
    """Write the header and every item, page by page (never the whole map in memory). Returns the count."""
    write(header_line(client, service, sync_map, now))
    count = 0
    page = await client.list_item_page(service.sid, sync_map.sid, page_size=PAGE_SIZE)
    while True:
        for item in page.records:
            write(item_line(item))
        count += len(page.records)
        progress(count)
        if page.next_page_url is None:
            return count
        page = await client.list_item_page(service.sid, sync_map.sid, page_url=page.next_page_url)


# ---------------------------------------------------------------------------------------------
# Import


def data_fingerprint(data: dict[str, Any]) -> bytes:
    """A digest equal for two items' data exactly when `merge.json_equal` says they are equal:
    key order does not count; `true`, `1` and `1.0` differ, as do `0.0` and `-0.0` (json writes
    floats by repr). Kept for every item of the map instead of its data: 32 bytes, not up to 16 KiB."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=True)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


@dataclass(frozen=True)
class _Present:
    revision: str
    date_created: str
    fingerprint: bytes

    def is_as_exported(self, item: ExportedItem) -> bool:
        """Still the item the file holds, at the file's revision (the rule of session.same_item)."""
        return (self.revision, self.date_created) == (item.revision, item.date_created)


MAX_PROBLEMS_LISTED = 50
"""The summary lists this many problems by key; beyond that it counts them."""


@dataclass
class ImportSummary:
    """What an import did (or, in a dry run, would do), counted by outcome."""

    dry_run: bool = False
    restore: bool = False
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    expired: int = 0
    skipped: int = 0
    """Conflicts left alone: `skip`, or in a restore a key changed since the export."""
    failed: int = 0
    stopped_at: str | None = None
    """The key at which `--on-conflict fail` stopped the import."""
    interrupted: bool = False
    """Cut short (ctrl+c, a lost connection): the last item read may or may not have been written."""
    problems: list[str] = field(default_factory=list)
    """The first MAX_PROBLEMS_LISTED conflicts kept and failures, by line and key."""
    problems_left_out: int = 0

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.stopped_at is None

    def lines(self) -> list[str]:
        would = "would be " if self.dry_run else ""
        kind = "restore into the map the file came from" if self.restore else "import"
        done = "Dry run of the" if self.dry_run else "Interrupted the" if self.interrupted else "Finished the"
        lines = [
            f"{done} {kind}: {self.read:,} items read from the file.",
            f"  {self.created:,} {would}created, {self.updated:,} {would}updated, "
            f"{self.unchanged:,} already as in the file, {self.expired:,} expired (skipped), "
            f"{self.skipped:,} conflicts {would}kept as they are"
            + ("." if self.dry_run else f", {self.failed:,} failed."),
        ]
        if self.stopped_at is not None:
            lines.append(f"  Stopped at a conflict on key {self.stopped_at!r} (--on-conflict fail).")
        lines.extend(f"  {problem}" for problem in self.problems)
        if self.problems_left_out:
            lines.append(f"  … and {self.problems_left_out:,} more.")
        if self.failed:
            lines.append("  Run the same import again for the failed items: what is already there is "
                         "recognised, neither duplicated nor overwritten.")
        return lines


class Importer:
    """Applies an export's items to one map; see the module docstring for the rules.

    `summary` is filled in as it goes, so that an interrupted import can still say what it did.
    """

    def __init__(
        self,
        client: SyncClient,
        service_sid: str,
        map_sid: str,
        *,
        header: ExportHeader | None,
        on_conflict: OnConflict = "skip",
        dry_run: bool = False,
        now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if on_conflict not in ON_CONFLICT_CHOICES:
            raise ValueError(f"on_conflict must be one of {ON_CONFLICT_CHOICES}, not {on_conflict!r}")
        self.client = client
        self.service_sid = service_sid
        self.map_sid = map_sid
        self.on_conflict = on_conflict
        self.dry_run = dry_run
        self.restore = header is not None and header.source_of(client, service_sid, map_sid)
        self.now = now
        self.sleep = sleep
        self.summary = ImportSummary(dry_run=dry_run, restore=self.restore)
        self._present: dict[str, _Present] = {}

    async def read_map(self, progress: Callable[[int], None] = lambda count: None) -> int:
        """Note every key of the map with its revision and data fingerprint. Returns the count."""
        page = await self.client.list_item_page(self.service_sid, self.map_sid, page_size=PAGE_SIZE)
        while True:
            for item in page.records:
                self._note(item)
            progress(len(self._present))
            if page.next_page_url is None:
                return len(self._present)
            page = await self.client.list_item_page(self.service_sid, self.map_sid, page_url=page.next_page_url)

    def _note(self, item: MapItem) -> None:
        self._present[item.key] = _Present(item.revision, _when(item.date_created), data_fingerprint(item.data))

    def _problem(self, item: ExportedItem, text: str) -> None:
        if len(self.summary.problems) < MAX_PROBLEMS_LISTED:
            self.summary.problems.append(f"line {item.line}, key {item.key!r}: {text}")
        else:
            self.summary.problems_left_out += 1

    def _fail(self, item: ExportedItem, text: str) -> None:
        self.summary.failed += 1
        self._problem(item, text)

    def remaining_ttl(self, item: ExportedItem) -> int | None:
        """Seconds until the file's date_expires, rounded up; None without one, 0 or less if past."""
        if item.date_expires is None:
            return None
        seconds = math.ceil((item.date_expires - self.now()).total_seconds())
        return min(seconds, MAX_TTL_SECONDS)

    async def apply(self, item: ExportedItem) -> None:
        """Apply one line of the file. A `fail` conflict sets `summary.stopped_at`; failures are counted."""
        self.summary.read += 1
        ttl = self.remaining_ttl(item)
        if ttl is not None and ttl <= 0:
            self.summary.expired += 1
            return
        try:
            present = self._present.get(item.key)
            if present is None:
                if self.dry_run:
                    self.summary.created += 1
                    return
                try:
                    created = await self._write(lambda: self.client.create_item(
                        self.service_sid, self.map_sid, item.key, item.data, item_ttl=ttl
                    ))
                except KeyExists:  # created since the map was read: compare with it
                    present = await self._fetch(item)
                    if present is None:
                        self._fail(item, "created and deleted again during the import; run it again")
                        return
                else:
                    self._note(created)
                    self.summary.created += 1
                    return
            await self._apply_to_present(item, present, ttl)
        except SyncError as exc:
            self._fail(item, str(exc))

    async def _fetch(self, item: ExportedItem) -> _Present | None:
        try:
            current = await self.client.fetch_item(self.service_sid, self.map_sid, item.key)
        except ItemNotFound:
            return None
        self._note(current)
        return self._present[item.key]

    async def _apply_to_present(self, item: ExportedItem, present: _Present, ttl: int | None) -> None:
        if present.fingerprint == data_fingerprint(item.data):
            self.summary.unchanged += 1
            return
        if self.restore:
            if not present.is_as_exported(item):
                self.summary.skipped += 1
                self._problem(item, "changed since the export; kept (a restore never replaces a later change)")
                return
            if_match = item.revision
        elif self.on_conflict == "skip":
            self.summary.skipped += 1
            self._problem(item, "the map holds other data; kept (--on-conflict skip)")
            return
        elif self.on_conflict == "fail":
            self.summary.stopped_at = item.key
            return
        else:
            if_match = present.revision
        if self.dry_run:
            self.summary.updated += 1
            return
        try:
            updated = await self._write(lambda: self.client.update_item(
                self.service_sid, self.map_sid, item.key, data=item.data,
                item_ttl=0 if ttl is None else ttl, if_match=if_match,
            ))
        except RevisionConflict:
            self._fail(item, "changed by someone else during the import; their change is kept")
            return
        except ItemNotFound:
            self._fail(item, "deleted during the import; run the import again to create it")
            return
        self._note(updated)
        self.summary.updated += 1

    async def _write(self, send: Callable[[], Awaitable[T]]) -> T:
        """Send a write, again after each 429 (which applied nothing), up to RATE_LIMIT_ATTEMPTS."""
        for attempt in range(RATE_LIMIT_ATTEMPTS):
            try:
                return await send()
            except RateLimited as exc:
                if attempt + 1 >= RATE_LIMIT_ATTEMPTS:
                    raise
                wait = exc.retry_after if exc.retry_after is not None else float(2**attempt)
                await self.sleep(min(wait, MAX_RATE_LIMIT_WAIT))
        raise AssertionError("unreachable: the loop returns or raises")

    async def run(self, items: Iterator[ExportedItem], progress: Callable[[ImportSummary], None] = lambda s: None) -> ImportSummary:
        """Apply every item until the end or a `fail` conflict. Call `read_map` first."""
        for item in items:
            await self.apply(item)
            progress(self.summary)
            if self.summary.stopped_at is not None:
                break
        return self.summary
