"""private_files.create_new: a whole new private file, never one written over."""

from __future__ import annotations

import os
import stat

import pytest

from syncmap_tui import private_files
from syncmap_tui.private_files import create_new


def test_a_new_file_is_written_whole_and_private(tmp_path):
    path = tmp_path / "item.json"
    create_new(path, b'{"a":1}\n')
    assert path.read_bytes() == b'{"a":1}\n'
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["item.json"]  # no temp file left


def test_an_existing_file_is_never_replaced(tmp_path):
    path = tmp_path / "item.json"
    path.write_bytes(b"theirs")
    with pytest.raises(FileExistsError):
        create_new(path, b"mine")
    assert path.read_bytes() == b"theirs"
    assert [p.name for p in tmp_path.iterdir()] == ["item.json"]


def test_without_hard_links_it_still_refuses_to_replace(tmp_path, monkeypatch):
    def no_links(source, destination):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(private_files.os, "link", no_links)
    path = tmp_path / "item.json"
    create_new(path, b"mine")
    assert path.read_bytes() == b"mine"
    with pytest.raises(FileExistsError):
        create_new(path, b"again")
    assert path.read_bytes() == b"mine"
    assert sorted(os.listdir(tmp_path)) == ["item.json"]
