"""Crash-safe drafts of edit buffers. Headless: this module never imports Textual.

Every edit buffer is checkpointed to disk shortly after typing stops, so a crash, a SIGKILL or a
dropped SSH session never loses the text. The UI builds a `Draft` on each change and hands it to a
`Checkpointer` (`syncmap_tui.checkpoints`), which debounces the writes; on start-up it lists
`DraftStore().load_all_with_problems()` and offers to recover, export (`DraftStore.export`) or
discard (`DraftStore.remove`) each draft.

Storage
-------
One file per edited item: ``<state_dir>/drafts/<draft_id>.json`` (``state_dir()`` from
`syncmap_tui.config`; ``~/.local/state/syncmap-tui/drafts`` on Linux). The directory is created
on the first write with mode 0700, each file has mode 0600: drafts hold item data. A draft holds
the target's identity (account SID and base URL) and a display label, never a credential.

A file is the whole draft as one JSON object written with ``ensure_ascii=True``, so the file is
pure ASCII and any `str` — NUL, control characters, lone surrogates, megabytes of invalid JSON —
reads back exactly. Writes are atomic: a temporary ``.<draft_id>.<random>.tmp`` in the same
directory is written, flushed and fsync'ed, then renamed over the old file with `os.replace`,
then the directory is fsync'ed. A crash at any moment leaves either the old draft or the new one,
never a mix. Temporary files left by a crash are ignored by the loaders and removed by them once
they are older than `STALE_TEMP_SECONDS` (younger ones may belong to another running instance).

`draft_id` is a hash of (account SID, base URL, service SID, map SID, key, instance, slot), so a
later checkpoint of the same edit replaces the earlier one. For the embedded emulator, whose target
has no URL, the UI should pass a stable stand-in such as ``"embedded:" + str(embedded_db_path())``.

Instances. Each running app writes its own drafts (`Draft.instance`, a random id per run), so that
two instances editing one item never share, replace or delete each other's file. Each holds an
`InstanceLock` (`syncmap_tui.instances`: ``<drafts>/instances/<id>.lock``, flock'ed for its
lifetime): a later start tells the drafts of an instance that died (kill -9, a dropped SSH
session) from those of one still running (`DraftStore.is_live`), and offers only the former. `slot` tells the edit in the editor
("edit") from the edit kept after "take theirs" ("kept"): both must survive a crash.
Format 1 drafts (no instance, no slot) still read, as a dead instance's "edit".

Nothing here logs or prints; no exception message, problem text or repr contains the draft's text.
`Draft`'s repr leaves the text out. The objects are meant for one thread (the UI's event loop).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from syncmap_tui.config import state_dir

from syncmap_tui.instances import is_live, lock_path
from syncmap_tui.private_files import (
    STALE_TEMP_SECONDS,
    TEMP_SUFFIX,
    ensure_private_dir,
    fsync_directory,
    remove_if_stale_temp,
    write_atomically,
    write_new,
)

__all__ = [
    "DRAFT_FORMAT",
    "DRAFT_VERSION",
    "MAX_DRAFT_FILE_BYTES",
    "STALE_TEMP_SECONDS",
    "Draft",
    "DraftError",
    "DraftExportError",
    "DraftFormatError",
    "DraftStore",
    "decode_draft",
    "default_drafts_dir",
    "draft_id_for",
    "encode_draft",
    "suggested_export_name",
]

DRAFT_FORMAT = "syncmap-tui draft"
DRAFT_VERSION = 2
"""2 added instance, slot and base_created; format 1 files still read."""
DRAFT_SUFFIX = ".json"
MAX_DRAFT_FILE_BYTES = 256 * 1024 * 1024  # far beyond any edit buffer; guards against reading junk
_ID_HEX_CHARS = 32  # 128 bits of sha256
_DRAFT_NAME_RE = re.compile(rf"[0-9a-f]{{{_ID_HEX_CHARS}}}\.json")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")


class DraftError(Exception):
    """A problem with a draft. The message never contains the draft's text."""


class DraftFormatError(DraftError, ValueError):
    """The bytes are not a draft this version can read."""


class DraftExportError(DraftError, ValueError):
    """The draft's text cannot be written as UTF-8 (it holds a lone surrogate)."""

    def __init__(self, message: str, *, line: int, column: int) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


EDIT_SLOT = "edit"
KEPT_SLOT = "kept"


def draft_id_for(account_sid: str, base_url: str, service_sid: str, map_sid: str, key: str,
                 instance: str = "", slot: str = EDIT_SLOT) -> str:
    """The id of the draft of one item of one map on one target, by one instance, in one slot:
    32 lowercase hex digits. A format-1 draft (no instance, the edit slot) keeps its old id."""
    parts = [account_sid, base_url, service_sid, map_sid, key]
    if instance or slot != EDIT_SLOT:
        parts += [instance, slot]
    identity = json.dumps(parts, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(identity.encode("ascii")).hexdigest()[:_ID_HEX_CHARS]


def default_drafts_dir() -> Path:
    return state_dir() / "drafts"


def default_exports_dir() -> Path:
    """Where "Save to file" suggests writing a draft's text (not the current directory, which may be
    anywhere the app was started from): private, beside the drafts."""
    return state_dir() / "exported-drafts"


# ---------------------------------------------------------------------------------------------
# The draft


@dataclass(frozen=True)
class Draft:
    """One checkpoint of one edit buffer.

    `base_revision` is the item revision the edit started from, None for an unsaved new item;
    `base_data` is that revision's data as JSON text, the base of a three-way merge on recovery.
    `saved_at` must be timezone-aware; it is stored in UTC (it defaults to now, and `Checkpointer`
    stamps it when it writes). `base_created` is the base item's date_created (Twilio's text): with
    it, recovery tells the item from one deleted and created again under the key, whose revisions
    restart at "0". `instance` is the running app that wrote it; `slot` is EDIT_SLOT or KEPT_SLOT.
    The repr leaves out the text, which is item data.
    """

    account_sid: str
    base_url: str
    target_label: str
    service_sid: str
    map_sid: str
    key: str
    base_revision: str | None
    text: str = field(repr=False)
    item_ttl: str
    collection_ttl: str
    base_data: str | None = field(default=None, repr=False)
    saved_at: datetime = field(default_factory=_utc_now)
    base_created: str | None = None
    instance: str = ""
    slot: str = EDIT_SLOT

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "saved_at":
                if not isinstance(value, datetime):
                    raise TypeError("Draft.saved_at must be a datetime.")
                if value.tzinfo is None or value.utcoffset() is None:
                    raise ValueError("Draft.saved_at must be timezone-aware (use UTC).")
            elif f.name in ("base_revision", "base_data", "base_created"):
                if value is not None and not isinstance(value, str):
                    raise TypeError(f"Draft.{f.name} must be a str or None.")
            elif not isinstance(value, str):
                raise TypeError(f"Draft.{f.name} must be a str.")

    @property
    def draft_id(self) -> str:
        return draft_id_for(self.account_sid, self.base_url, self.service_sid, self.map_sid, self.key,
                            self.instance, self.slot)

    def same_content(self, other: Draft) -> bool:
        """True when `other` differs at most in `saved_at`."""
        return all(getattr(self, f.name) == getattr(other, f.name) for f in fields(self) if f.name != "saved_at")


_STR_FIELDS = ("account_sid", "base_url", "target_label", "service_sid", "map_sid", "key",
               "item_ttl", "collection_ttl")
_V2_STR_FIELDS = ("instance", "slot")


def encode_draft(draft: Draft) -> bytes:
    """The file contents for `draft`: one ASCII-only JSON object (lone surrogates are escaped)."""
    obj: dict[str, Any] = {"format": DRAFT_FORMAT, "version": DRAFT_VERSION}
    for name in _STR_FIELDS:
        obj[name] = getattr(draft, name)
    obj["base_revision"] = draft.base_revision
    obj["base_data"] = draft.base_data
    obj["base_created"] = draft.base_created
    obj["instance"] = draft.instance
    obj["slot"] = draft.slot
    obj["saved_at"] = draft.saved_at.astimezone(timezone.utc).isoformat()
    obj["text"] = draft.text  # last, so the identifying fields are at the head of the file
    return json.dumps(obj, ensure_ascii=True, separators=(",", ":")).encode("ascii") + b"\n"


def decode_draft(data: bytes) -> Draft:
    """Parse file contents written by `encode_draft`. Raises DraftFormatError (no text in the message)."""
    try:
        obj = json.loads(data.decode("ascii"))
    except UnicodeDecodeError:
        raise DraftFormatError("not a draft file (it holds non-ASCII bytes)") from None
    except json.JSONDecodeError as exc:
        raise DraftFormatError(f"not valid JSON (line {exc.lineno}, column {exc.colno}); "
                               "the file is damaged or truncated") from None
    except (ValueError, RecursionError):
        raise DraftFormatError("not valid JSON; the file is damaged") from None
    if not isinstance(obj, dict) or obj.get("format") != DRAFT_FORMAT:
        raise DraftFormatError("not a syncmap-tui draft")
    version = obj.get("version")
    if version not in (1, DRAFT_VERSION) or isinstance(version, bool):
        if isinstance(version, int) and not isinstance(version, bool) and version > DRAFT_VERSION:
            raise DraftFormatError(f"written by a newer syncmap-tui (draft format {version}); "
                                   "open it with that version")
        raise DraftFormatError("unknown draft format version")
    values: dict[str, Any] = {}
    for name in _STR_FIELDS + ("text",):
        value = obj.get(name)
        if not isinstance(value, str):
            raise DraftFormatError(f"the field {name!r} is missing or not a string")
        values[name] = value
    if version >= 2:
        for name in _V2_STR_FIELDS:
            value = obj.get(name)
            if not isinstance(value, str):
                raise DraftFormatError(f"the field {name!r} is missing or not a string")
            values[name] = value
        if values["slot"] not in (EDIT_SLOT, KEPT_SLOT):
            raise DraftFormatError("the field 'slot' is not one this version knows")
        base_created = obj.get("base_created")
        if base_created is not None and not isinstance(base_created, str):
            raise DraftFormatError("the field 'base_created' is not a string or null")
        values["base_created"] = base_created
    base_revision = obj.get("base_revision")
    if base_revision is not None and not isinstance(base_revision, str):
        raise DraftFormatError("the field 'base_revision' is not a string or null")
    base_data = obj.get("base_data")
    if base_data is not None and not isinstance(base_data, str):
        raise DraftFormatError("the field 'base_data' is not a string or null")
    raw_saved_at = obj.get("saved_at")
    try:
        if not isinstance(raw_saved_at, str):
            raise ValueError
        saved_at = datetime.fromisoformat(raw_saved_at)
    except ValueError:
        raise DraftFormatError("the field 'saved_at' is missing or not a date and time") from None
    if saved_at.tzinfo is None or saved_at.utcoffset() is None:
        raise DraftFormatError("the field 'saved_at' has no time zone")
    return Draft(base_revision=base_revision, base_data=base_data, saved_at=saved_at.astimezone(timezone.utc), **values)


def suggested_export_name(draft: Draft) -> str:
    """A file name for exporting `draft`: its key with unsafe characters replaced, plus ``.json``."""
    return json_file_name(draft.key, "draft")


def file_stem(name: str, fallback: str, *, limit: int = 100) -> str:
    """`name` (a key, a map's name) as part of a file name: each run of characters other than ASCII
    letters, digits, '.', '_' and '-' becomes '_', dots and underscores at either end go (no hidden
    file, no '..'), at most `limit` characters; `fallback` if nothing is left. The one rule for
    every file name the app suggests."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")[:limit] or fallback


def json_file_name(key: str, fallback: str) -> str:
    """`key` as a file name (file_stem), plus ``.json``."""
    return f"{file_stem(key, fallback)}.json"


# ---------------------------------------------------------------------------------------------
# The store


class DraftStore:
    """The drafts directory. Nothing is created until the first `save`."""

    def __init__(self, directory: Path | None = None) -> None:
        self._default = directory is None
        self.directory = default_drafts_dir() if directory is None else Path(directory)

    # -- paths

    def lock_path(self, instance: str) -> Path:
        return lock_path(self.directory, instance)

    def is_live(self, instance: str) -> bool:
        """Whether the instance that wrote a draft still runs (see `syncmap_tui.instances`)."""
        return is_live(self.directory, instance)

    def path_for(self, draft_id: str) -> Path:
        if not re.fullmatch(rf"[0-9a-f]{{{_ID_HEX_CHARS}}}", draft_id):
            raise ValueError("a draft id is 32 lowercase hex digits")
        return self.directory / f"{draft_id}{DRAFT_SUFFIX}"

    # -- writing

    def save(self, draft: Draft) -> Path:
        """Write `draft` atomically (temp file, fsync, rename, fsync of the directory); mode 0600.

        On an OSError nothing is changed: the previous draft of the item, if any, is intact.
        """
        data = encode_draft(draft)
        path = self.path_for(draft.draft_id)
        self._ensure_directory()
        write_atomically(path, data)
        return path

    def remove(self, draft_id: str) -> None:
        """Delete the draft; a missing one is fine."""
        try:
            os.unlink(self.path_for(draft_id))
        except FileNotFoundError:
            return
        fsync_directory(self.directory)

    def export(self, draft: Draft, destination: Path, *, escape_surrogates: bool = False) -> Path:
        """Write the draft's text, as-is, as UTF-8 to a new file; return the path actually written.

        An existing file is never overwritten: ``name.json`` becomes ``name (1).json``,
        ``name (2).json`` and so on. If `destination` is an existing directory the file goes in it,
        named by `suggested_export_name`. The new file has mode 0600 (it holds item data) and is
        fsync'ed before this returns, so the caller may then remove the draft.

        Lone surrogates cannot be written as UTF-8. By default they make this raise
        DraftExportError (with the line and column of the first one) before anything is written;
        the draft stays in the store. With ``escape_surrogates=True`` each is written as the
        six characters ``\\udXXX`` — the JSON escape, exact inside a JSON string literal.
        """
        text = draft.text
        match = _SURROGATE_RE.search(text)
        if match is not None:
            if not escape_surrogates:
                line = text.count("\n", 0, match.start()) + 1
                column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
                raise DraftExportError(
                    f"The text holds a lone surrogate (an invalid character U+{ord(match.group()):04X}) "
                    f"at line {line}, column {column}; it cannot be written as UTF-8. Remove it in the "
                    "editor, or export with its characters escaped.", line=line, column=column)
            text = _SURROGATE_RE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
        data = text.encode("utf-8")
        destination = Path(destination)
        if destination.is_dir():
            destination = destination / suggested_export_name(draft)
        return write_new(destination, data)

    # -- reading

    def load(self, draft_id: str) -> Draft | None:
        """The draft with this id, or None if there is none. Raises DraftError if it is unreadable."""
        path = self.path_for(draft_id)
        try:
            data = _read_limited(path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise DraftError(f"cannot read it: {exc.strerror or type(exc).__name__}") from None
        draft = decode_draft(data)
        if draft.draft_id != draft_id:
            raise DraftFormatError("its file name does not match the item it holds")
        return draft

    def load_all(self) -> list[Draft]:
        """Every readable draft, newest first. Unreadable files are skipped (see load_all_with_problems)."""
        return self.load_all_with_problems()[0]

    def load_all_with_problems(self) -> tuple[list[Draft], list[tuple[Path, str]]]:
        """(drafts newest first, [(path, what is wrong)] for files that could not be read).

        A missing directory means no drafts. Temporary files are never read; those older than
        STALE_TEMP_SECONDS are deleted (a crash left them; the draft they would have replaced is intact).
        """
        drafts: list[Draft] = []
        problems: list[tuple[Path, str]] = []
        try:
            entries = list(os.scandir(self.directory))
        except (FileNotFoundError, NotADirectoryError):
            return drafts, problems
        except OSError as exc:
            return drafts, [(self.directory, f"cannot list the drafts folder: {exc.strerror}")]
        now = time.time()
        for entry in sorted(entries, key=lambda e: e.name):
            path = Path(entry.path)
            if entry.name.startswith("."):
                if entry.name.endswith(TEMP_SUFFIX):
                    remove_if_stale_temp(entry, now)
                continue
            if not entry.name.endswith(DRAFT_SUFFIX):
                continue
            if not _DRAFT_NAME_RE.fullmatch(entry.name):
                problems.append((path, "not a draft file name (expected 32 hex digits and .json)"))
                continue
            try:
                draft = self.load(entry.name[: -len(DRAFT_SUFFIX)])
            except DraftError as exc:
                problems.append((path, str(exc)))
                continue
            if draft is not None:  # None: removed meanwhile
                drafts.append(draft)
        drafts.sort(key=lambda d: (d.saved_at, d.draft_id), reverse=True)
        return drafts, problems

    # -- internals

    def _ensure_directory(self) -> None:
        ensure_private_dir(self.directory)
        if self._default and os.name == "posix":
            # Our own folder: tighten it if it was made by hand or by an older version.
            st = os.stat(self.directory)
            if st.st_mode & 0o077 and st.st_uid == os.getuid():
                os.chmod(self.directory, 0o700)


def _read_limited(path: Path) -> bytes:
    with open(path, "rb") as fh:
        data = fh.read(MAX_DRAFT_FILE_BYTES + 1)
    if len(data) > MAX_DRAFT_FILE_BYTES:
        raise DraftFormatError(f"larger than {MAX_DRAFT_FILE_BYTES // (1024 * 1024)} MiB; not a draft")
    return data
