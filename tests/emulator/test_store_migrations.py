"""The store's schema migrations: applied once each, in order, each in its own transaction, and
a database from a newer emulator refused untouched."""

from __future__ import annotations

import sqlite3

import pytest
from emulator_support import ACCOUNT_SID, FakeClock

from syncmap_tui.emulator.store import SCHEMA_VERSION, SyncStore
from syncmap_tui.emulator.store import db as store_db


def user_version(path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA user_version").fetchone()[0]


def tables(path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_a_new_database_gets_every_migration(tmp_path):
    path = tmp_path / "sync.sqlite3"
    SyncStore(path, clock=FakeClock()).close()
    assert user_version(path) == SCHEMA_VERSION == len(store_db.MIGRATIONS)
    assert {"services", "maps", "items"} <= tables(path)


def test_reopening_keeps_the_data_and_the_version(tmp_path):
    path = tmp_path / "sync.sqlite3"
    with SyncStore(path, clock=FakeClock()) as store:
        store.create_service(ACCOUNT_SID, unique_name="svc")
    with SyncStore(path, clock=FakeClock()) as store:
        assert store.get_service(ACCOUNT_SID, "svc").unique_name == "svc"
    assert user_version(path) == SCHEMA_VERSION


def test_a_new_migration_is_applied_to_an_existing_database_once(tmp_path, monkeypatch):
    """How Sync Lists would arrive: one more migration; the data already there stays."""
    path = tmp_path / "sync.sqlite3"
    with SyncStore(path, clock=FakeClock()) as store:
        store.create_service(ACCOUNT_SID, unique_name="svc")
    lists = "CREATE TABLE lists (id INTEGER PRIMARY KEY, service_id INTEGER NOT NULL REFERENCES services (id));"
    monkeypatch.setattr(store_db, "MIGRATIONS", (*store_db.MIGRATIONS, lists))
    monkeypatch.setattr(store_db, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    for _ in range(2):  # the second opening finds nothing to do (a second CREATE TABLE would fail)
        with SyncStore(path, clock=FakeClock()) as store:
            assert store.get_service(ACCOUNT_SID, "svc").unique_name == "svc"
    assert user_version(path) == SCHEMA_VERSION + 1
    assert "lists" in tables(path)


def test_a_failing_migration_is_rolled_back_whole(tmp_path, monkeypatch):
    path = tmp_path / "sync.sqlite3"
    SyncStore(path, clock=FakeClock()).close()
    broken = "CREATE TABLE half_done (id INTEGER); INSERT INTO no_such_table VALUES (1);"
    monkeypatch.setattr(store_db, "MIGRATIONS", (*store_db.MIGRATIONS, broken))
    monkeypatch.setattr(store_db, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with pytest.raises(sqlite3.OperationalError):
        SyncStore(path, clock=FakeClock())
    assert user_version(path) == SCHEMA_VERSION
    assert "half_done" not in tables(path)


def test_a_database_from_a_newer_emulator_is_refused_untouched(tmp_path):
    path = tmp_path / "sync.sqlite3"
    SyncStore(path, clock=FakeClock()).close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(RuntimeError, match="newer emulator"):
        SyncStore(path, clock=FakeClock())
    assert user_version(path) == SCHEMA_VERSION + 1
