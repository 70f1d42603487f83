"""Files that hold secrets or item data (config, drafts, exports, crash reports).

They are readable by the user alone (0600 in 0700 folders whatever the umask), and written so that
a crash leaves the old file or the new one, never half of either.
"""

from __future__ import annotations

import os
import stat
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator

TEMP_SUFFIX = ".tmp"
STALE_TEMP_SECONDS = 60.0
"""A temp file older than this was left by a crash (kill -9 between its write and its rename): no
running instance takes that long to write one, so it can go; a younger one may be about to be renamed."""
_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)


def ensure_private_dir(path: Path) -> Path:
    """Create `path` (and missing parents) if needed; the leaf is created with mode 0700."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _open_private(path: Path) -> int:
    fd = os.open(path, _NEW_FILE_FLAGS, 0o600)
    if hasattr(os, "fchmod"):
        os.fchmod(fd, 0o600)  # exact, whatever the umask
    return fd


def _write_all(fd: int, data: bytes) -> None:
    with os.fdopen(fd, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())


def _unlink_quietly(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def remove_if_stale_temp(entry: os.DirEntry[str], now: float) -> None:
    """Remove `entry` if it is a temp file older than STALE_TEMP_SECONDS (see there)."""
    if not (entry.name.startswith(".") and entry.name.endswith(TEMP_SUFFIX)):
        return
    try:
        st = entry.stat(follow_symlinks=False)
        if stat.S_ISREG(st.st_mode) and now - st.st_mtime > STALE_TEMP_SECONDS:
            os.unlink(entry.path)
    except OSError:
        pass


def fsync_directory(directory: Path) -> None:
    """Make a rename or a new entry durable (POSIX); silently impossible elsewhere."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def replacing_atomically(path: Path, *, overwrite: bool = True) -> Iterator[BinaryIO]:
    """A private file to write `path`'s new content into, streamed: when the block ends it is
    fsynced and renamed over `path` (then the folder is fsynced); if the block raises, `path` is
    left as it was and the temp file is removed (a crash may leave a `.NAME.HEX.tmp`, which
    readers ignore). For content too large to hold in memory whole, such as a map's export.
    With `overwrite=False` the complete file is linked in only if `path` does not exist
    (FileExistsError otherwise): never a check and then a write that a new file could slip between."""
    while True:
        temp = path.parent / f".{path.name}.{os.urandom(8).hex()}{TEMP_SUFFIX}"
        try:
            fd = _open_private(temp)
            break
        except FileExistsError:  # pragma: no cover - 64 random bits
            continue
    try:
        with os.fdopen(fd, "wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        if overwrite:
            os.replace(temp, path)
        else:
            os.link(temp, path)
            os.unlink(temp)
    except BaseException:
        _unlink_quietly(temp)
        raise
    fsync_directory(path.parent)


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data` (see `replacing_atomically`)."""
    with replacing_atomically(path) as file:
        file.write(data)


def write_new(destination: Path, data: bytes) -> Path:
    """Write a new file, never overwriting: `name.ext`, else `name (1).ext`, `name (2).ext`… Returns it."""
    stem, suffix = destination.stem, destination.suffix
    for n in range(10_000):
        candidate = destination if n == 0 else destination.with_name(f"{stem} ({n}){suffix}")
        try:
            fd = _open_private(candidate)
        except FileExistsError:
            continue
        try:
            _write_all(fd, data)
        except BaseException:
            _unlink_quietly(candidate)
            raise
        fsync_directory(candidate.parent)
        return candidate
    raise FileExistsError(f"Too many files named like {destination.name} in {destination.parent}.")


def create_new(path: Path, data: bytes) -> None:
    """Write `path`, which must not exist yet (FileExistsError if it does, even if it appeared a moment
    ago): the whole file or none of it, as write_atomically, but never replacing one."""
    temp = path.parent / f".{path.name}.{os.urandom(8).hex()}{TEMP_SUFFIX}"
    fd = _open_private(temp)
    try:
        _write_all(fd, data)
        try:
            os.link(temp, path)  # fails if `path` exists: no check-then-write race
        except FileExistsError:
            raise
        except OSError:  # a file system without hard links (FAT, some network mounts)
            fd = _open_private(path)  # O_EXCL: still never replaces a file
            try:
                _write_all(fd, data)
            except BaseException:
                _unlink_quietly(path)
                raise
    finally:
        _unlink_quietly(temp)
    fsync_directory(path.parent)
