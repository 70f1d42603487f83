"""Listing map items: order, From/Bounds, PageSize, page URLs, and the cost of a page in a large map."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from emulator_support import ACCOUNT_SID, BASE_URL, make_client

from syncmap_tui.sync.validation import encode_data

ITEMS = "/v1/Services/svc/Maps/map/Items"
KEYS = [f"k{index:03d}" for index in range(23)]


@pytest.fixture
async def filled(store, sync, sync_map):
    store.create_items(ACCOUNT_SID, "svc", "map", ((key, encode_data({"key": key}), 0) for key in KEYS))
    return sync_map


async def follow(client, url: str) -> tuple[list[str], list[dict]]:
    keys, metas = [], []
    while url:
        response = await client.get(url)
        assert response.status_code == 200, response.text
        page = response.json()
        keys += [item["key"] for item in page["items"]]
        metas.append(page["meta"])
        url = page["meta"]["next_page_url"]
    return keys, metas


@pytest.mark.parametrize("order", ["asc", "desc"])
async def test_pages_in_both_orders(client, filled, order):
    keys, metas = await follow(client, f"{ITEMS}?Order={order}&PageSize=5")
    assert keys == (KEYS if order == "asc" else KEYS[::-1])
    assert [meta["page"] for meta in metas] == [0, 1, 2, 3, 4]
    assert all(meta["page_size"] == 5 and meta["key"] == "items" for meta in metas)
    assert metas[0]["previous_page_url"] is None and metas[-1]["next_page_url"] is None
    for meta in metas:
        for name in ("first_page_url", "url", "next_page_url", "previous_page_url"):
            if meta[name] is not None:
                assert meta[name].startswith(f"{BASE_URL}{filled['url'][len(BASE_URL):]}/Items?")
                assert parse_qs(urlsplit(meta[name]).query)["Order"] == [order]


async def test_default_page_is_50_ascending(client, store, sync, sync_map):
    keys = [f"k{index:03d}" for index in range(60)]
    store.create_items(ACCOUNT_SID, "svc", "map", ((key, "{}", 0) for key in keys))
    page = (await client.get(ITEMS)).json()
    assert page["meta"]["page_size"] == 50
    assert [item["key"] for item in page["items"]] == keys[:50]
    assert page["meta"]["url"] == f"{sync_map['url']}/Items?PageSize=50&Page=0"


async def test_previous_page_urls_lead_back(client, filled):
    _, metas = await follow(client, f"{ITEMS}?Order=desc&PageSize=4")
    pages_forward = [[item["key"] for item in (await client.get(meta["url"])).json()["items"]] for meta in metas]
    back, url = [], metas[-1]["previous_page_url"]
    while url:
        page = (await client.get(url)).json()
        back.append([item["key"] for item in page["items"]])
        url = page["meta"]["previous_page_url"]
    assert back == pages_forward[-2::-1]


@pytest.mark.parametrize(
    ("order", "bounds", "expected"),
    [
        ("asc", "inclusive", KEYS[10:]),
        ("asc", "exclusive", KEYS[11:]),
        ("desc", "inclusive", KEYS[10::-1]),
        ("desc", "exclusive", KEYS[9::-1]),
    ],
)
async def test_from_and_bounds(client, filled, order, bounds, expected):
    keys, metas = await follow(client, f"{ITEMS}?Order={order}&From=k010&Bounds={bounds}&PageSize=4")
    assert keys == expected
    query = parse_qs(urlsplit(metas[0]["next_page_url"]).query)
    assert query["From"] == ["k010"] and query["Bounds"] == [bounds]


async def test_from_a_key_that_does_not_exist(client, filled):
    keys, _ = await follow(client, f"{ITEMS}?From=k0105&PageSize=100")
    assert keys == KEYS[11:]
    keys, _ = await follow(client, f"{ITEMS}?From=k0105&Order=desc")
    assert keys == KEYS[10::-1]


async def test_bounds_default_to_inclusive(client, filled):
    keys, _ = await follow(client, f"{ITEMS}?From=k020")
    assert keys == KEYS[20:]


async def test_prefix_search_is_from_and_stop(client, store, sync, sync_map):
    keys = ["app", "apple", "apple pie", "apples", "applf", "b"]
    store.create_items(ACCOUNT_SID, "svc", "map", ((key, "{}", 0) for key in keys))
    page = (await client.get(ITEMS, params={"From": "apple", "PageSize": 100})).json()
    found = [item["key"] for item in page["items"]]
    assert [key for key in found if key.startswith("apple")] == ["apple", "apple pie", "apples"]


@pytest.mark.parametrize(("asked", "given"), [("1", 1), ("100", 100), ("101", 100), ("100000", 100)])
async def test_page_size_is_clamped_to_100(client, filled, asked, given):
    page = (await client.get(ITEMS, params={"PageSize": asked})).json()
    assert page["meta"]["page_size"] == given
    assert len(page["items"]) == min(given, len(KEYS))
    assert f"PageSize={given}&" in page["meta"]["url"]


@pytest.mark.parametrize("asked", ["0", "-1", "ten", "", "1.5", " 5"])
async def test_page_size_zero_or_garbage_is_refused(client, filled, asked):
    response = await client.get(ITEMS, params={"PageSize": asked})
    assert response.status_code == 400 and response.json()["code"] == 54454


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"Order": "ascending"}, 54451),
        ({"Order": "ASC"}, 54451),
        ({"Bounds": "open"}, 54452),
        ({"PageToken": "garbage!"}, 54453),
        ({"PageToken": "WzAsMSwwXQ"}, 54453),  # a services token ([0,1,0]: an id) on an item list
        ({"Page": "-1"}, 400),
    ],
)
async def test_bad_list_parameters(client, filled, params, code):
    response = await client.get(ITEMS, params=params)
    assert response.status_code == 400 and response.json()["code"] == code


async def test_page_index_is_client_state(client, filled):
    page = (await client.get(ITEMS, params={"Page": "7", "PageSize": 2})).json()
    assert page["meta"]["page"] == 7
    assert [item["key"] for item in page["items"]] == KEYS[:2]


async def test_next_page_url_uses_the_clients_own_host(app, filled):
    async with make_client(app, base_url="https://sync.example:8443") as other:
        page = (await other.get(ITEMS, params={"PageSize": 2})).json()
    assert page["meta"]["next_page_url"].startswith("https://sync.example:8443/v1/Services/")
    assert page["items"][0]["url"].startswith("https://sync.example:8443/")


async def test_page_tokens_survive_writes(client, filled, sync):
    first = (await client.get(ITEMS, params={"PageSize": 5})).json()
    await client.delete(f"{ITEMS}/k005")
    await sync.item("k0045")
    second = (await client.get(first["meta"]["next_page_url"])).json()
    assert [item["key"] for item in second["items"]] == ["k0045", "k006", "k007", "k008", "k009"]


async def test_keys_sort_by_code_point(client, store, sync, sync_map):
    """Python's str order is code-point order; so is SQLite's BINARY collation on UTF-8.
    UTF-16 order would differ: it puts U+1F600 (a surrogate pair, D83D...) before U+FB01."""
    keys = ["b", "B", "a", "Z", "é", "e", "\ufb01", "😀", "\U0010fffd", "~", " ", "A", "ab", "a b", "z"]
    store.create_items(ACCOUNT_SID, "svc", "map", ((key, "{}", 0) for key in keys))
    listed = [item["key"] for item in (await client.get(ITEMS, params={"PageSize": 100})).json()["items"]]
    assert listed == sorted(keys)
    assert listed.index("\ufb01") < listed.index("😀")
    descending = (await client.get(ITEMS, params={"PageSize": 100, "Order": "desc"})).json()["items"]
    assert [item["key"] for item in descending] == sorted(keys, reverse=True)
    page = (await client.get(ITEMS, params={"From": "é", "Bounds": "exclusive"})).json()["items"]
    assert [item["key"] for item in page] == [key for key in sorted(keys) if key > "é"]


def test_listing_with_from_reads_only_the_page(store, clock):
    """A page from the middle of a 100,000-item map takes SQLite the same steps as one from a small map."""
    store.create_service(ACCOUNT_SID, unique_name="svc")
    small = store.create_map(ACCOUNT_SID, "svc", unique_name="small")
    large = store.create_map(ACCOUNT_SID, "svc", unique_name="large")
    store.create_items(ACCOUNT_SID, "svc", "small", ((f"key-{i:06d}", "{}", 0) for i in range(200)))
    store.create_items(ACCOUNT_SID, "svc", "large", ((f"key-{i:06d}", "{}", 0) for i in range(100_000)))

    plan = store._db.execute(
        "EXPLAIN QUERY PLAN SELECT item_key FROM items WHERE map_id = ? AND (date_expires IS NULL OR date_expires > ?)"
        " AND item_key >= ? ORDER BY item_key DESC LIMIT 51",
        (large.id, 0, "key-050000"),
    ).fetchall()
    detail = " ".join(row[-1] for row in plan)
    assert "USING INDEX" in detail or "USING PRIMARY KEY" in detail, detail
    assert "TEMP B-TREE" not in detail, detail  # no sort: the index gives the order

    def vm_steps(sync_map, key: str) -> int:
        """SQLite virtual-machine steps (in hundreds) for one page: work done, not time taken."""
        steps = 0

        def count() -> int:
            nonlocal steps
            steps += 1
            return 0

        store._db.set_progress_handler(count, 100)
        try:
            rows = store.list_items(sync_map, lower=(key, True), limit=51)
        finally:
            store._db.set_progress_handler(None, 100)
        assert len(rows) == 51
        return steps

    small_steps = vm_steps(small, "key-000100")
    large_steps = vm_steps(large, "key-050000")
    assert large_steps <= small_steps + 2, (small_steps, large_steps)
