"""The `emulator` fixture copies a database seeded once per worker (tests/ui/conftest.py)."""

from __future__ import annotations

from syncmap_tui.emulator import DEFAULT_ACCOUNT_SID
from syncmap_tui.emulator.seed import seed_demo
from syncmap_tui.emulator.store import SyncStore

from .conftest import PINNED_NOW


def test_each_test_gets_exactly_what_seed_demo_writes_and_a_copy_of_its_own(emulator, seeded_demo):
    with SyncStore(":memory:", clock=lambda: PINNED_NOW) as fresh:
        seed_demo(fresh, DEFAULT_ACCOUNT_SID)
        assert list(emulator.store._db.iterdump()) == list(fresh._db.iterdump())
        assert emulator.store._db.execute("PRAGMA user_version").fetchone() == fresh._db.execute("PRAGMA user_version").fetchone()
    emulator.store._db.execute("DELETE FROM items")
    assert seeded_demo._db.execute("SELECT count(*) FROM items").fetchone()[0] > 10_000
