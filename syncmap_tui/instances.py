"""Running instances of the app: each holds a lock file in the drafts directory for its lifetime,
so that a later start tells the drafts of an instance that died (kill -9, a dropped SSH session)
from those of one still running. See "Instances" in `syncmap_tui.drafts`."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from syncmap_tui.private_files import ensure_private_dir

if TYPE_CHECKING:
    from syncmap_tui.drafts import DraftStore

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None  # type: ignore[assignment]

INSTANCES_DIR = "instances"
INSTANCE_ID_RE = re.compile(r"[0-9a-f]{16}")


def lock_path(drafts_dir: Path, instance: str) -> Path:
    if not INSTANCE_ID_RE.fullmatch(instance):
        raise ValueError("an instance id is 16 lowercase hex digits")
    return drafts_dir / INSTANCES_DIR / f"{instance}.lock"


def is_live(drafts_dir: Path, instance: str) -> bool:
    """Whether an instance still runs (holds its lock). Format-1 drafts' instances and instances
    without a lock file are dead; a stale lock file is removed."""
    if not INSTANCE_ID_RE.fullmatch(instance):
        return False
    path = lock_path(drafts_dir, instance)
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return False
    except OSError:
        return True  # cannot tell: never take drafts from under a running app
    try:
        if fcntl is None:
            return True
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        except OSError:
            return True
        try:
            os.unlink(path)
        except OSError:
            pass
        return False
    finally:
        os.close(fd)


def new_instance_id() -> str:
    """A running app's id: 64 random bits, hex."""
    return secrets.token_hex(8)


class InstanceLock:
    """Held by a running app for its lifetime: ``<drafts>/instances/<id>.lock``, flock'ed.

    The kernel drops a flock when its process dies however it dies, so a later start can tell a
    dead instance's drafts (offer them) from a live one's (leave them to it). Where flock does not
    exist, every other instance counts as live: drafts are never taken from under a running app.
    """

    def __init__(self, store: DraftStore, instance: str) -> None:
        self.store = store
        self.instance = instance
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock (creating the folders 0700); an OSError leaves drafts working without it."""
        path = lock_path(self.store.directory, self.instance)
        ensure_private_dir(path.parent)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.unlink(lock_path(self.store.directory, self.instance))
        except OSError:
            pass
        os.close(fd)
