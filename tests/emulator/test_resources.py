"""Services and maps: create, fetch (by SID and unique name), list, update, delete, and their errors."""

from __future__ import annotations

from emulator_support import ACCOUNT_SID, BASE_URL, FakeClock, load_spec, validated_operations

from syncmap_tui.emulator.store import SyncStore


async def test_service_lifecycle(client, sync):
    created = await sync.service(FriendlyName="Demo", WebhookUrl="https://example.com/hook", AclEnabled="true")
    assert created["sid"].startswith("IS") and len(created["sid"]) == 34
    assert created["account_sid"] == ACCOUNT_SID
    assert created["friendly_name"] == "Demo" and created["unique_name"] == "svc"
    assert created["acl_enabled"] is True and created["webhooks_from_rest_enabled"] is False
    assert created["url"] == f"{BASE_URL}/v1/Services/{created['sid']}"
    assert created["links"]["maps"] == f"{created['url']}/Maps"

    by_sid = await client.get(f"/v1/Services/{created['sid']}")
    by_name = await client.get("/v1/Services/svc")
    assert by_sid.status_code == by_name.status_code == 200
    assert by_sid.json() == by_name.json() == created

    updated = await client.post(
        "/v1/Services/svc", data={"FriendlyName": "Renamed", "WebhooksFromRestEnabled": "True", "WebhookUrl": ""}
    )
    assert updated.status_code == 200
    assert updated.json()["friendly_name"] == "Renamed"
    assert updated.json()["webhooks_from_rest_enabled"] is True
    assert updated.json()["webhook_url"] is None

    deleted = await client.delete("/v1/Services/svc")
    assert deleted.status_code == 204 and deleted.content == b""
    assert (await client.get(f"/v1/Services/{created['sid']}")).json()["code"] == 54050


async def test_service_without_unique_name(client, sync):
    created = await sync.service(unique_name=None, FriendlyName="nameless")
    assert created["unique_name"] is None
    assert (await client.get(f"/v1/Services/{created['sid']}")).status_code == 200


async def test_service_parameters_are_checked(client):
    bad_boolean = await client.post("/v1/Services", data={"AclEnabled": "yes"})
    assert bad_boolean.status_code == 400 and "AclEnabled" in bad_boolean.json()["message"]
    bad_window = await client.post("/v1/Services", data={"ReachabilityDebouncingWindow": "999"})
    assert bad_window.status_code == 400
    good_window = await client.post("/v1/Services", data={"ReachabilityDebouncingWindow": "1000"})
    assert good_window.json()["reachability_debouncing_window"] == 1000


async def test_services_are_per_account(store, app, client, sync):
    await sync.service()
    store.create_service("AC" + "1" * 32, unique_name="other-account")
    listed = (await client.get("/v1/Services")).json()["services"]
    assert [service["unique_name"] for service in listed] == ["svc"]
    assert (await client.get("/v1/Services/other-account")).status_code == 404


async def test_delete_service_cascades_to_maps_and_items(client, sync, sync_map, store):
    await sync.item("k")
    assert (await client.delete("/v1/Services/svc")).status_code == 204
    count = store._db.execute("SELECT (SELECT count(*) FROM maps) + (SELECT count(*) FROM items)").fetchone()[0]
    assert count == 0


async def test_map_lifecycle(client, sync, clock: FakeClock):
    service = await sync.service()
    created = await sync.map(Ttl="60")
    assert created["sid"].startswith("MP") and created["service_sid"] == service["sid"]
    assert created["revision"] == "0" and created["created_by"] == "system"
    assert created["date_expires"] == "2025-01-02T03:05:05Z"
    assert created["url"] == f"{BASE_URL}/v1/Services/{service['sid']}/Maps/{created['sid']}"
    assert created["links"] == {"items": f"{created['url']}/Items", "permissions": f"{created['url']}/Permissions"}

    by_name = await client.get("/v1/Services/svc/Maps/map")
    by_sid = await client.get(f"/v1/Services/{service['sid']}/Maps/{created['sid']}")
    assert by_name.json() == by_sid.json() == created

    clock.advance(seconds=1)
    updated = await client.post("/v1/Services/svc/Maps/map", data={"CollectionTtl": "0"})
    assert updated.status_code == 200
    assert updated.json()["date_expires"] is None
    assert updated.json()["revision"] != created["revision"]
    assert updated.json()["date_updated"] == "2025-01-02T03:04:06Z"

    assert (await client.delete("/v1/Services/svc/Maps/map")).status_code == 204
    assert (await client.get("/v1/Services/svc/Maps/map")).json()["code"] == 54200


async def test_map_ttl_alias_is_ignored_beside_collection_ttl(client, sync):
    await sync.service()
    created = await sync.map(Ttl="10", CollectionTtl="0")
    assert created["date_expires"] is None
    # Ignored means not even checked.
    assert (await client.post("/v1/Services/svc/Maps", data={"Ttl": "-5", "CollectionTtl": "5"})).status_code == 201


async def test_map_update_needs_a_ttl(client, sync_map):
    response = await client.post("/v1/Services/svc/Maps/map", data={})
    assert response.status_code == 400 and response.json()["code"] == 54010


async def test_maps_list_in_creation_order_with_paging(client, sync):
    await sync.service()
    names = [f"map-{index}" for index in range(7)]
    for name in names:
        await sync.map(unique_name=name)
    seen, url = [], "/v1/Services/svc/Maps?PageSize=3"
    while url:
        page = (await client.get(url)).json()
        assert page["meta"]["key"] == "maps" and page["meta"]["page_size"] == 3
        seen += [sync_map["unique_name"] for sync_map in page["maps"]]
        url = page["meta"]["next_page_url"]
    assert seen == names


async def test_services_list_paging(client, sync):
    names = [f"svc-{index}" for index in range(5)]
    for name in names:
        await sync.service(name)
    first = (await client.get("/v1/Services", params={"PageSize": 2})).json()
    assert first["meta"]["key"] == "services" and first["meta"]["previous_page_url"] is None
    second = (await client.get(first["meta"]["next_page_url"])).json()
    third = (await client.get(second["meta"]["next_page_url"])).json()
    assert third["meta"]["next_page_url"] is None
    assert [s["unique_name"] for page in (first, second, third) for s in page["services"]] == names
    back = (await client.get(third["meta"]["previous_page_url"])).json()
    assert back["services"] == second["services"]


async def test_unique_names_are_unique_and_valid(client, sync):
    await sync.service()
    await sync.map()
    duplicate = await client.post("/v1/Services/svc/Maps", data={"UniqueName": "map"})
    assert duplicate.status_code == 409 and duplicate.json()["code"] == 54301
    duplicate_service = await client.post("/v1/Services", data={"UniqueName": "svc"})
    assert duplicate_service.status_code == 409 and duplicate_service.json()["code"] == 54301
    for invalid in ("", "MP" + "a" * 32, "IS" + "0" * 32, "x" * 321):
        response = await client.post("/v1/Services/svc/Maps", data={"UniqueName": invalid})
        assert response.status_code == 400 and response.json()["code"] == 54302, invalid
    assert (await client.post("/v1/Services/svc/Maps", data={"UniqueName": "x" * 320})).status_code == 201


async def test_the_same_map_name_in_two_services(client, sync):
    await sync.service("a")
    await sync.service("b")
    assert (await sync.map("a", "shared"))["sid"] != (await sync.map("b", "shared"))["sid"]


async def test_expired_map_is_gone_and_frees_its_name(client, sync, clock: FakeClock):
    await sync.service()
    await sync.map(CollectionTtl="10")
    await sync.item("k")
    clock.advance(seconds=9)
    assert (await client.get("/v1/Services/svc/Maps/map")).status_code == 200
    clock.advance(seconds=1)
    assert (await client.get("/v1/Services/svc/Maps/map")).json()["code"] == 54200
    assert (await client.get("/v1/Services/svc/Maps/map/Items")).json()["code"] == 54200
    assert (await client.get("/v1/Services/svc/Maps")).json()["maps"] == []
    again = await sync.map()
    assert (await client.get(f"/v1/Services/svc/Maps/{again['sid']}/Items")).json()["items"] == []


async def test_every_operation_matches_the_spec(client, sync):
    """Walk every service, map and item operation once; the client validates each 2xx body."""
    validated_operations.clear()
    await sync.service()
    await client.get("/v1/Services")
    await client.get("/v1/Services/svc")
    await client.post("/v1/Services/svc", data={"FriendlyName": "x"})
    await sync.map()
    await client.get("/v1/Services/svc/Maps")
    await client.get("/v1/Services/svc/Maps/map")
    await client.post("/v1/Services/svc/Maps/map", data={"Ttl": "100"})
    await sync.item("k", ItemTtl="5")
    await client.get("/v1/Services/svc/Maps/map/Items")
    await client.get("/v1/Services/svc/Maps/map/Items/k")
    await client.post("/v1/Services/svc/Maps/map/Items/k", data={"Data": "{}"})
    await client.delete("/v1/Services/svc/Maps/map/Items/k")
    await client.delete("/v1/Services/svc/Maps/map")
    await client.delete("/v1/Services/svc")
    implemented = {
        operation["operationId"]
        for path, methods in load_spec()["paths"].items()
        if path.startswith("/v1/Services") and not any(
            part in path for part in ("Documents", "Lists", "Streams", "Permissions")
        )
        for operation in methods.values()
        if isinstance(operation, dict) and "operationId" in operation
    }
    assert len(implemented) == 15
    assert validated_operations == implemented


async def test_other_sync_resources_are_unknown_routes(client, sync):
    await sync.service()
    for path in ("/v1/Services/svc/Documents", "/v1/Services/svc/Lists", "/v2/Services", "/", "/v1/Services/"):
        response = await client.get(path)
        assert response.status_code == 404 and response.json()["code"] == 20404, path


def test_store_is_empty_until_a_service_exists(clock):
    with SyncStore(clock=clock) as store:
        assert store.is_empty()
        store.create_service(ACCOUNT_SID)
        assert not store.is_empty()
