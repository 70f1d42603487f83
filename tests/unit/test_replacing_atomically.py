"""private_files.replacing_atomically: the streamed, private, all-or-nothing write an export uses."""

from __future__ import annotations

import stat

import pytest

from syncmap_tui.private_files import replacing_atomically


def test_the_file_appears_whole_and_private_when_the_block_ends(tmp_path):
    path = tmp_path / "out.jsonl"
    path.write_text("old\n")
    with replacing_atomically(path) as file:
        file.write(b"new line 1\n")
        assert path.read_text() == "old\n", "nothing shows before the end"
        file.write(b"new line 2\n")
    assert path.read_text() == "new line 1\nnew line 2\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]


def test_a_failure_part_way_leaves_the_old_file_and_no_temp_file(tmp_path):
    path = tmp_path / "out.jsonl"
    path.write_text("old\n")
    with pytest.raises(RuntimeError), replacing_atomically(path) as file:
        file.write(b"half")
        raise RuntimeError("the server went away")
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]


def test_without_overwrite_an_existing_file_is_kept(tmp_path):
    path = tmp_path / "out.jsonl"
    with replacing_atomically(path, overwrite=False) as file:
        file.write(b"first\n")
    with pytest.raises(FileExistsError), replacing_atomically(path, overwrite=False) as file:
        file.write(b"second\n")
    assert path.read_text() == "first\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]
