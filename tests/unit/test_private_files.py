"""Config, drafts, exports and crash reports are written readable by the user alone, and atomically."""

from __future__ import annotations

import os

import pytest

from syncmap_tui.private_files import ensure_private_dir, write_atomically, write_new

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def test_write_atomically_replaces_with_mode_0600_whatever_the_umask(tmp_path):
    old_umask = os.umask(0)
    try:
        folder = ensure_private_dir(tmp_path / "private")
        path = folder / "file"
        write_atomically(path, b"one")
        write_atomically(path, b"two")
    finally:
        os.umask(old_umask)
    assert path.read_bytes() == b"two"
    assert path.stat().st_mode & 0o777 == 0o600
    assert folder.stat().st_mode & 0o777 == 0o700
    assert [p.name for p in folder.iterdir()] == ["file"]


def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "file"
    write_atomically(path, b"old")

    def failing_replace(*_args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError):
        write_atomically(path, b"new")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["file"]


def test_write_new_never_overwrites(tmp_path):
    first = write_new(tmp_path / "draft.json", b"a")
    second = write_new(tmp_path / "draft.json", b"b")
    third = write_new(tmp_path / "draft.json", b"c")
    assert [first.name, second.name, third.name] == ["draft.json", "draft (1).json", "draft (2).json"]
    assert first.read_bytes() == b"a" and third.read_bytes() == b"c"
    assert third.stat().st_mode & 0o777 == 0o600
