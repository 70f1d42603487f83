"""Issue #11, item 5 and the shared rules of the hardening: unit tests of headless code."""

from __future__ import annotations

import asyncio
import os
import stat
import threading

import pytest

from syncmap_tui.config import ConfigError, Target, config_path, embedded_db_path, load_config, resolve_target
from syncmap_tui.sync.urls import is_loopback_url
from syncmap_tui.ui.literal import visible, visible_lines


def load_config_within(seconds: float):
    """load_config in a thread: a hang fails the test instead of stopping the run."""
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["config"] = load_config()
        except ConfigError as error:
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "load_config hung"
    return outcome


def test_a_config_path_that_is_a_fifo_is_refused_at_once():
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path, 0o600)
    outcome = load_config_within(5)
    assert "not a regular file" in str(outcome["error"])


def test_a_config_path_that_is_a_folder_is_refused():
    path = config_path()
    path.mkdir(parents=True, mode=0o700)
    assert "not a regular file" in str(load_config_within(5)["error"])


def test_a_huge_config_file_is_refused_unread(monkeypatch):
    import syncmap_tui.config as config

    monkeypatch.setattr(config, "MAX_CONFIG_BYTES", 10)
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# " + "x" * 100)
    path.chmod(0o600)
    assert "larger than" in str(load_config_within(5)["error"])


def test_the_embedded_database_is_private():
    from syncmap_tui.connection import open_client

    old_umask = os.umask(0o022)
    try:
        client = open_client(Target(label="local", base_url=None, credentials=None, is_embedded_emulator=True, source="default"))
        asyncio.run(client.aclose())
    finally:
        os.umask(old_umask)
    db = embedded_db_path()
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700
    for companion in db.parent.iterdir():
        assert stat.S_IMODE(companion.stat().st_mode) & 0o077 == 0, companion


def test_an_older_world_readable_database_is_made_private():
    from syncmap_tui.connection import make_private_database

    db = embedded_db_path()
    db.parent.mkdir(parents=True, mode=0o755)
    db.parent.chmod(0o755)
    db.write_bytes(b"")
    db.chmod(0o644)
    make_private_database(db)
    assert stat.S_IMODE(db.stat().st_mode) == 0o600 and stat.S_IMODE(db.parent.stat().st_mode) == 0o700


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://localhost:8777", True),
        ("http://127.0.0.1:8777", True),
        ("http://127.3.4.5", True),
        ("http://[::1]:8777", True),
        ("http://evil.localhost:8777", False),
        ("http://localhost.evil.example", False),
        ("http://127.0.0.1.nip.io", False),
    ],
)
def test_only_literal_loopback_and_localhost_itself_are_loopback(url, loopback):
    assert is_loopback_url(url) is loopback


def test_plain_http_to_a_dot_localhost_name_is_refused():
    with pytest.raises(ConfigError, match="plain http"):
        resolve_target(base_url="http://evil.localhost:8777", profile=None, demo=False, read_only=False)


def test_the_literal_rule_keeps_line_breaks_only_where_asked():
    assert visible("a\nb\x1b") == "a\\x0ab\\x1b"
    assert visible_lines("a\nb\x1b[31m\u202e") == "a\nb\\x1b[31m\\u202e"
    assert visible_lines("tab\there\r") == "tab\\x09here\\x0d"
