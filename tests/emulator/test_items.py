"""Map items: create, fetch, update and delete, revisions and If-Match, TTLs and expiry, keys in the path."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from emulator_support import BASE_URL, FakeClock

ITEMS = "/v1/Services/svc/Maps/map/Items"


def item_path(key: str) -> str:
    return f"{ITEMS}/{quote(key, safe='')}"


async def test_item_lifecycle(client, sync, sync_map, clock: FakeClock):
    created = await sync.item("greeting", {"hello": "wörld", "n": [1, 2, {"deep": None}]})
    assert created["revision"] == "0"
    assert created["data"] == {"hello": "wörld", "n": [1, 2, {"deep": None}]}
    assert created["map_sid"] == sync_map["sid"] and created["created_by"] == "system"
    assert created["date_expires"] is None
    assert created["date_created"] == created["date_updated"] == "2025-01-02T03:04:05Z"
    assert created["url"] == f"{sync_map['url']}/Items/greeting"

    fetched = await client.get(item_path("greeting"))
    assert fetched.status_code == 200 and fetched.json() == created
    assert fetched.headers["etag"] == "0"

    clock.advance(seconds=3)
    updated = await client.post(item_path("greeting"), data={"Data": json.dumps({"hello": "again"})})
    assert updated.status_code == 200
    assert updated.json()["data"] == {"hello": "again"}
    assert updated.json()["revision"] not in ("0", None)
    assert updated.headers["etag"] == updated.json()["revision"]
    assert updated.json()["date_updated"] == "2025-01-02T03:04:08Z"
    assert updated.json()["date_created"] == created["date_created"]

    deleted = await client.delete(item_path("greeting"))
    assert deleted.status_code == 204 and deleted.content == b""
    missing = await client.get(item_path("greeting"))
    assert missing.status_code == 404 and missing.json()["code"] == 54201


async def test_every_change_gives_a_new_revision(client, sync, sync_map):
    revisions = [(await sync.item("k"))["revision"]]
    for form in ({"Data": "{}"}, {"Data": "{}"}, {"ItemTtl": "100"}, {"Ttl": "0"}):
        response = await client.post(item_path("k"), data=form)
        assert response.status_code == 200, response.text
        revisions.append(response.json()["revision"])
    assert len(set(revisions)) == len(revisions)


async def test_map_revision_changes_with_its_items(client, sync, sync_map):
    async def map_revision() -> str:
        return (await client.get("/v1/Services/svc/Maps/map")).json()["revision"]

    seen = [await map_revision()]
    await sync.item("k")
    seen.append(await map_revision())
    await client.post(item_path("k"), data={"Data": "{}"})
    seen.append(await map_revision())
    await client.delete(item_path("k"))
    seen.append(await map_revision())
    assert len(set(seen)) == 4


async def test_if_match_on_update_and_delete(client, sync, sync_map):
    await sync.item("k")
    stale = await client.post(item_path("k"), data={"Data": "{}"}, headers={"If-Match": "1"})
    assert stale.status_code == 412 and stale.json()["code"] == 54205
    matching = await client.post(item_path("k"), data={"Data": '{"a":1}'}, headers={"If-Match": "0"})
    assert matching.status_code == 200
    revision = matching.json()["revision"]
    # Compared exactly: no quote stripping, no parsing.
    for near_miss in (f'"{revision}"', f"W/{revision}", f" {revision}", "0"):
        response = await client.delete(item_path("k"), headers={"If-Match": near_miss})
        assert response.status_code == 412 and response.json()["code"] == 54205, near_miss
    assert (await client.get(item_path("k"))).json()["data"] == {"a": 1}
    assert (await client.delete(item_path("k"), headers={"If-Match": revision})).status_code == 204


async def test_if_match_on_a_missing_item_is_not_found(client, sync_map):
    response = await client.post(item_path("nope"), data={"Data": "{}"}, headers={"If-Match": "0"})
    assert response.status_code == 404 and response.json()["code"] == 54201


async def test_key_exists(client, sync, sync_map):
    await sync.item("k")
    again = await client.post(ITEMS, data={"Key": "k", "Data": "{}"})
    assert again.status_code == 409 and again.json()["code"] == 54208


async def test_create_requires_key_and_data(client, sync_map):
    no_data = await client.post(ITEMS, data={"Key": "k"})
    assert no_data.status_code == 400 and no_data.json()["code"] == 54206
    no_key = await client.post(ITEMS, data={"Data": "{}"})
    assert no_key.status_code == 400 and no_key.json()["code"] == 54209
    empty_key = await client.post(ITEMS, data={"Key": "", "Data": "{}"})
    assert empty_key.status_code == 400 and empty_key.json()["code"] == 54209


@pytest.mark.parametrize(
    "data",
    [
        "not json", "[1, 2]", '"text"', "42", "null", "", "{",
        # Python's parser reads these; JSON has no NaN or Infinity, and 1e999 or 5,000 digits cannot be kept as sent.
        '{"a": NaN}', '{"a": Infinity}', '{"a": [-Infinity]}', '{"a": 1e999}', '{"a": -1e999}', '{"a": ' + "9" * 5000 + "}",
    ],
)
async def test_data_must_be_a_json_object(client, sync_map, data):
    response = await client.post(ITEMS, data={"Key": "k", "Data": data})
    assert response.status_code == 400 and response.json()["code"] == 54008
    update = await client.post(item_path("k"), data={"Data": data})
    assert update.status_code in (400, 404)


async def test_invalid_utf8_in_data_is_refused(client, sync_map):
    body = b"Key=k&Data=%7B%22a%22%3A%22%FF%22%7D"
    response = await client.post(ITEMS, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 400 and response.json()["code"] == 54008


async def test_an_escaped_lone_surrogate_in_data_is_refused(client, sync_map):
    # ASCII on the wire and valid JSON syntax, but the character it names is not UTF-8.
    response = await client.post(ITEMS, data={"Key": "k", "Data": '{"a": "\\ud800"}'})
    assert response.status_code == 400 and response.json()["code"] == 54008


@pytest.mark.parametrize("key", [".", ".."])
async def test_a_dot_key_has_a_url_that_addresses_the_item(client, sync_map, key):
    created = await client.post(ITEMS, data={"Key": key, "Data": "{}"})
    assert created.status_code == 201
    url = created.json()["url"]
    assert url.endswith("/Items/" + key.replace(".", "%2E"))
    fetched = await client.get(url)
    assert fetched.status_code == 200 and fetched.json()["key"] == key


async def test_update_needs_data_or_a_ttl(client, sync, sync_map):
    await sync.item("k")
    nothing = await client.post(item_path("k"), data={})
    assert nothing.status_code == 400 and nothing.json()["code"] == 54010
    collection_only = await client.post(item_path("k"), data={"CollectionTtl": "60"})
    assert collection_only.status_code == 400 and collection_only.json()["code"] == 54010
    with_data = await client.post(item_path("k"), data={"CollectionTtl": "60", "Data": "{}"})
    assert with_data.status_code == 200
    with_ttl = await client.post(item_path("k"), data={"CollectionTtl": "60", "ItemTtl": "30"})
    assert with_ttl.status_code == 200


async def test_item_ttl_and_expiry(client, sync, sync_map, clock: FakeClock):
    created = await sync.item("k", ItemTtl="10")
    assert created["date_expires"] == "2025-01-02T03:04:15Z"
    await sync.item("forever")
    clock.advance(seconds=9)
    assert (await client.get(item_path("k"))).status_code == 200
    clock.advance(seconds=1)
    gone = await client.get(item_path("k"))
    assert gone.status_code == 404 and gone.json()["code"] == 54201
    listed = (await client.get(ITEMS)).json()["items"]
    assert [item["key"] for item in listed] == ["forever"]
    assert (await client.post(item_path("k"), data={"Data": "{}"})).status_code == 404
    # The expired item's key is free again, with a fresh revision.
    assert (await sync.item("k"))["revision"] == "0"


async def test_ttl_alias_and_clearing(client, sync, sync_map):
    assert (await sync.item("a", Ttl="60"))["date_expires"] == "2025-01-02T03:05:05Z"
    assert (await sync.item("b", Ttl="60", ItemTtl="0"))["date_expires"] is None
    cleared = await client.post(item_path("a"), data={"ItemTtl": "0"})
    assert cleared.json()["date_expires"] is None
    data_only = await client.post(item_path("a"), data={"Data": "{}"})
    assert data_only.json()["date_expires"] is None


async def test_collection_ttl_on_an_item_write_sets_the_map_expiry(client, sync, sync_map, clock: FakeClock):
    await sync.item("k", CollectionTtl="30")
    assert (await client.get("/v1/Services/svc/Maps/map")).json()["date_expires"] == "2025-01-02T03:04:35Z"
    await client.post(item_path("k"), data={"Data": "{}", "CollectionTtl": "0"})
    assert (await client.get("/v1/Services/svc/Maps/map")).json()["date_expires"] is None


KEYS_IN_PATHS = ["a/b", "a%2Fb", "?", "#", " ", "é", "[bold]x", "a+b", "100%", "café/ünïcode", "emoji 😀", "..x", "a;b=c"]


@pytest.mark.parametrize("key", KEYS_IN_PATHS)
async def test_keys_are_decoded_from_the_path_exactly_once(client, sync, sync_map, key):
    created = await sync.item(key, {"key": key})
    assert created["key"] == key
    assert created["url"] == f"{sync_map['url']}/Items/{quote(key, safe='')}"
    fetched = await client.get(item_path(key))
    assert fetched.status_code == 200 and fetched.json()["key"] == key
    # The item's own URL is one a client can follow as is.
    assert (await client.get(created["url"])).json()["key"] == key
    updated = await client.post(item_path(key), data={"Data": '{"u":1}'})
    assert updated.status_code == 200 and updated.json()["key"] == key
    assert (await client.delete(item_path(key))).status_code == 204


async def test_a_slash_key_is_not_split_into_segments(client, sync, sync_map):
    await sync.item("a/b")
    # Unencoded, "a/b" is two path segments: no such route (as with Twilio).
    assert (await client.get(f"{ITEMS}/a/b")).json()["code"] == 20404
    # Encoded twice, it names the literal key "a%2Fb", which does not exist.
    assert (await client.get(f"{ITEMS}/a%252Fb")).json()["code"] == 54201


async def test_maps_addressed_by_unique_name_or_sid_share_items(client, sync, sync_map):
    await sync.item("k")
    by_sid = await client.get(f"/v1/Services/{sync_map['service_sid']}/Maps/{sync_map['sid']}/Items/k")
    assert by_sid.status_code == 200
    assert by_sid.json()["url"].startswith(f"{BASE_URL}/v1/Services/{sync_map['service_sid']}/Maps/{sync_map['sid']}/")


async def test_not_found_codes(client, sync):
    assert (await client.get("/v1/Services/nope")).json()["code"] == 54050
    assert (await client.get("/v1/Services/nope/Maps/map/Items/k")).json()["code"] == 54050
    await sync.service()
    assert (await client.get("/v1/Services/svc/Maps/nope")).json()["code"] == 54200
    assert (await client.post("/v1/Services/svc/Maps/nope/Items", data={"Key": "k", "Data": "{}"})).json()[
        "code"
    ] == 54200
