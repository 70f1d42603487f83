"""The tree cache keeps the last listing of services and maps per server and account, privately."""

from __future__ import annotations

import json
import stat
from datetime import datetime, timezone

from syncmap_tui.sync.models import Service, SyncMap
from syncmap_tui.tree_cache import TreeCache

WHEN = datetime(2026, 1, 15, 12, 0, 0, tzinfo=timezone.utc)
ACCOUNT = "AC" + "0" * 32
URL = "https://sync.twilio.com"


def service(sid_digit: str, name: str) -> Service:
    return Service(
        sid="IS" + sid_digit * 32, unique_name=name, friendly_name=name.title(), account_sid=ACCOUNT,
        date_created=WHEN, date_updated=WHEN, url=f"{URL}/v1/Services/IS{sid_digit * 32}", webhook_url=None,
        webhooks_from_rest_enabled=False, acl_enabled=True,
    )


def sync_map(owner: Service, sid_digit: str, name: str | None) -> SyncMap:
    return SyncMap(
        sid="MP" + sid_digit * 32, unique_name=name, account_sid=ACCOUNT, service_sid=owner.sid,
        url=f"{owner.url}/Maps/MP{sid_digit * 32}", revision="3", date_expires=None, date_created=WHEN,
        date_updated=WHEN, created_by="system",
    )


def test_services_and_maps_come_back_as_saved(tmp_path):
    cache = TreeCache(tmp_path / "state" / "tree-cache.json")
    shop, flags = service("a", "shop"), service("b", "flags")
    maps = [sync_map(shop, "1", "catalog"), sync_map(shop, "2", None)]
    cache.save_services(URL, ACCOUNT, [shop, flags])
    cache.save_maps(URL, ACCOUNT, shop.sid, maps)

    tree = TreeCache(cache.path).load(URL, ACCOUNT)

    assert tree is not None
    assert tree.services == [shop, flags]
    assert tree.maps == {shop.sid: maps}


def test_the_file_is_private(tmp_path):
    cache = TreeCache(tmp_path / "state" / "tree-cache.json")
    cache.save_services(URL, ACCOUNT, [service("a", "shop")])
    assert stat.S_IMODE(cache.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(cache.path.parent.stat().st_mode) == 0o700


def test_each_server_and_account_has_its_own_tree(tmp_path):
    cache = TreeCache(tmp_path / "tree-cache.json")
    cache.save_services(URL, ACCOUNT, [service("a", "shop")])
    assert cache.load("http://127.0.0.1:8080", ACCOUNT) is None
    assert cache.load(URL, "AC" + "1" * 32) is None
    cache.save_services("http://127.0.0.1:8080", ACCOUNT, [service("b", "local")])
    assert [s.unique_name for s in cache.load(URL, ACCOUNT).services] == ["shop"]


def test_a_new_service_listing_drops_the_maps_of_services_that_are_gone(tmp_path):
    cache = TreeCache(tmp_path / "tree-cache.json")
    shop, flags = service("a", "shop"), service("b", "flags")
    cache.save_services(URL, ACCOUNT, [shop, flags])
    cache.save_maps(URL, ACCOUNT, shop.sid, [sync_map(shop, "1", "catalog")])
    cache.save_maps(URL, ACCOUNT, flags.sid, [sync_map(flags, "2", "flags")])

    cache.save_services(URL, ACCOUNT, [flags])

    tree = cache.load(URL, ACCOUNT)
    assert tree.services == [flags] and list(tree.maps) == [flags.sid]


def test_a_damaged_or_foreign_file_is_no_cache_and_is_replaced(tmp_path):
    cache = TreeCache(tmp_path / "tree-cache.json")
    key = TreeCache.account_key(URL, ACCOUNT)
    for content in ("{not json", json.dumps([1, 2]), json.dumps({"version": 99, "accounts": {}}),
                    json.dumps({"version": 1, "accounts": {key: {"services": [{"sid": 5}]}}})):
        cache.path.write_text(content)
        assert cache.load(URL, ACCOUNT) is None
        cache.save_services(URL, ACCOUNT, [service("a", "shop")])
        assert [s.unique_name for s in cache.load(URL, ACCOUNT).services] == ["shop"]
    cache.path.write_text(json.dumps({"version": 1, "accounts": {key: {"services": [], "maps": [1]}}}))
    assert cache.load(URL, ACCOUNT).maps == {}
    cache.save_maps(URL, ACCOUNT, "IS" + "a" * 32, [])


def test_an_unwritable_cache_is_silently_no_cache(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    cache = TreeCache(blocker / "tree-cache.json")
    cache.save_services(URL, ACCOUNT, [service("a", "shop")])  # no exception
    assert cache.load(URL, ACCOUNT) is None


def test_only_the_most_recently_listed_trees_are_kept(tmp_path):
    from syncmap_tui.tree_cache import MAX_TREES

    cache = TreeCache(tmp_path / "tree-cache.json")
    for port in range(MAX_TREES + 5):
        cache.save_services(f"http://127.0.0.1:{9000 + port}", ACCOUNT, [service("a", "shop")])
    cache.save_services("http://127.0.0.1:9000", ACCOUNT, [service("a", "shop")])  # listed again: kept
    assert cache.load("http://127.0.0.1:9000", ACCOUNT) is not None
    assert cache.load("http://127.0.0.1:9001", ACCOUNT) is None
    assert cache.load(f"http://127.0.0.1:{9000 + MAX_TREES + 4}", ACCOUNT) is not None
    assert len(json.loads(cache.path.read_text())["accounts"]) == MAX_TREES


def test_a_fifo_or_a_huge_file_in_place_of_the_cache_is_no_cache_at_once(tmp_path, monkeypatch):
    import os
    import threading

    import syncmap_tui.tree_cache as tree_cache

    cache = TreeCache(tmp_path / "tree-cache.json")
    os.mkfifo(cache.path, 0o600)
    outcome = []
    reader = threading.Thread(target=lambda: outcome.append(cache.load(URL, ACCOUNT)), daemon=True)
    reader.start()
    reader.join(5)
    assert not reader.is_alive(), "reading the cache hung on a FIFO"
    assert outcome == [None]

    cache.path.unlink()
    cache.save_services(URL, ACCOUNT, [service("a", "shop")])
    monkeypatch.setattr(tree_cache, "MAX_CACHE_BYTES", 10)
    assert cache.load(URL, ACCOUNT) is None
