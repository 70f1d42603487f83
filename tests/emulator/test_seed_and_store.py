"""The demo seed (deterministic, quick, idempotent, full of awkward items) and the store on a file."""

from __future__ import annotations

from urllib.parse import quote

from emulator_support import ACCOUNT_SID, FakeClock

from syncmap_tui.emulator.seed import CATALOG_SIZE, DEMO_SERVICE, seed_demo
from syncmap_tui.emulator.store import SyncStore
from syncmap_tui.sync.validation import MAX_DATA_BYTES


def dump(store: SyncStore) -> list[tuple]:
    return store._db.execute(
        "SELECT s.sid, s.unique_name, s.friendly_name, m.sid, m.unique_name, i.item_key, i.data, i.date_expires"
        " FROM services s JOIN maps m ON m.service_id = s.id LEFT JOIN items i ON i.map_id = m.id"
        " ORDER BY s.sid, m.sid, i.item_key"
    ).fetchall()


def test_seed_is_deterministic_and_idempotent(clock: FakeClock):
    with SyncStore(clock=clock) as first, SyncStore(clock=FakeClock()) as second:
        assert first.is_empty()
        assert seed_demo(first, ACCOUNT_SID) is True
        assert not first.is_empty()
        seed_demo(second, ACCOUNT_SID)
        assert dump(first) == dump(second)
        before = dump(first)
        assert seed_demo(first, ACCOUNT_SID) is False
        assert dump(first) == before


def test_a_seed_cut_short_leaves_nothing_and_the_next_one_completes(clock: FakeClock, monkeypatch):
    """Found by the adversary: a full disk during the seed left the demo service with some of its
    maps, and every later start took that for seeded (the catalog stayed half full)."""
    import sqlite3

    with SyncStore(clock=clock) as store, SyncStore(clock=FakeClock()) as reference:
        create_items = SyncStore.create_items
        calls = {"n": 0}

        def full_on_the_second_map(self, *args, **kwargs):
            calls["n"] += 1
            if calls["n"] == 2:
                raise sqlite3.OperationalError("database or disk is full")
            return create_items(self, *args, **kwargs)

        monkeypatch.setattr(SyncStore, "create_items", full_on_the_second_map)
        try:
            seed_demo(store, ACCOUNT_SID)
        except sqlite3.OperationalError:
            pass
        else:
            raise AssertionError("the full disk was not reported")
        assert store.is_empty(), "nothing of a seed cut short stays"
        monkeypatch.setattr(SyncStore, "create_items", create_items)
        assert seed_demo(store, ACCOUNT_SID) is True
        seed_demo(reference, ACCOUNT_SID)
        assert dump(store) == dump(reference)
        store.create_service(ACCOUNT_SID, unique_name="after-the-seed")  # writes work again afterwards


def test_seed_for_another_account_beside_the_first(clock: FakeClock):
    with SyncStore(clock=clock) as store:
        seed_demo(store, ACCOUNT_SID)
        assert seed_demo(store, "AC" + "1" * 32) is True
        assert store.get_service(ACCOUNT_SID, DEMO_SERVICE).sid != store.get_service("AC" + "1" * 32, DEMO_SERVICE).sid


async def test_seeded_data_through_the_api(client, store):
    seed_demo(store, ACCOUNT_SID)
    services = (await client.get("/v1/Services")).json()["services"]
    assert len(services) >= 3 and all(service["friendly_name"] for service in services)
    assert any(service["unique_name"] is None for service in services)
    production = next(s for s in services if s["unique_name"] == "feature-flags")
    assert production["acl_enabled"] and production["webhooks_from_rest_enabled"] and production["webhook_url"]

    catalog = store.get_map(ACCOUNT_SID, DEMO_SERVICE, "catalog")
    assert len(store.list_items(catalog, limit=CATALOG_SIZE + 1)) >= 10_000
    maps = (await client.get(f"/v1/Services/{DEMO_SERVICE}/Maps")).json()["maps"]
    assert {m["unique_name"] for m in maps} >= {"catalog", "orders", "edge-cases", "empty"}

    edge = f"/v1/Services/{DEMO_SERVICE}/Maps/edge-cases/Items"
    for key in ("with space", "a/b/c", "what?", "#hash", "café/ünïcode", "[bold]x[/bold]", "[bold red]x", "emoji 😀"):
        response = await client.get(f"{edge}/{quote(key, safe='')}")
        assert response.status_code == 200 and response.json()["key"] == key, key
    escape = (await client.get(f"{edge}/escape-sequence")).json()
    assert escape["data"]["text"] == "\u001b[2J"
    with_ttl = (await client.get(f"{edge}/ttl-1-hour")).json()
    assert with_ttl["date_expires"] == "2025-01-02T04:04:05Z"

    sizes = {
        row[0]: len(row[1].encode("utf-8"))
        for row in store._db.execute(
            "SELECT item_key, data FROM items WHERE item_key IN ('size-max', 'size-max-multibyte', 'size-16000')"
        )
    }
    assert sizes == {"size-max": MAX_DATA_BYTES, "size-max-multibyte": MAX_DATA_BYTES, "size-16000": 16_000}
    nested = (await client.get(f"{edge}/nested")).json()["data"]
    depth = 0
    while isinstance(nested, dict) and f"level{depth}" in nested:
        nested, depth = nested[f"level{depth}"], depth + 1
    assert depth >= 10


def test_a_file_store_keeps_its_data_and_uses_wal(tmp_path, clock: FakeClock):
    path = tmp_path / "nested" / "emulator.sqlite3"
    with SyncStore(path, clock=clock) as store:
        assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        store.create_service(ACCOUNT_SID, unique_name="kept")
    with SyncStore(path, clock=clock) as reopened:
        assert reopened.get_service(ACCOUNT_SID, "kept").unique_name == "kept"
        assert not reopened.is_empty()


def test_opening_purges_what_expired(tmp_path, clock: FakeClock):
    path = tmp_path / "emulator.sqlite3"
    with SyncStore(path, clock=clock) as store:
        store.create_service(ACCOUNT_SID, unique_name="svc")
        store.create_map(ACCOUNT_SID, "svc", unique_name="short", ttl=5)
        store.create_items(ACCOUNT_SID, "svc", "short", [("k", "{}", 0)])
        store.create_map(ACCOUNT_SID, "svc", unique_name="long")
        store.create_items(ACCOUNT_SID, "svc", "long", [("brief", "{}", 5), ("lasting", "{}", 0)])
    clock.advance(seconds=5)
    with SyncStore(path, clock=clock) as reopened:
        rows = reopened._db.execute("SELECT item_key FROM items ORDER BY item_key").fetchall()
        assert rows == [("lasting",)]
        assert reopened._db.execute("SELECT count(*) FROM maps").fetchone()[0] == 1


def test_a_naive_clock_reads_as_utc():
    from datetime import datetime

    with SyncStore(clock=lambda: datetime(2025, 1, 1)) as store:
        assert store.now() == 1_735_689_600
