"""The official twilio-python client, pointed at an emulator process, cannot tell it from Twilio."""

from __future__ import annotations

import pytest
from emulator_support import ACCOUNT_SID, AUTH_TOKEN, EmulatorProcess
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

ITEM_COUNT = 120
PAGE_SIZE = 50


@pytest.fixture
def twilio_sync(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    with EmulatorProcess() as emulator:
        client = Client(ACCOUNT_SID, AUTH_TOKEN)
        client.sync.base_url = emulator.wait_for_url()
        yield client.sync.v1
        assert emulator.terminate() == 0


def keys_of(page) -> list[str]:
    return [item.key for item in page]


def test_twilio_python_end_to_end(twilio_sync):
    service = twilio_sync.services.create(friendly_name="end to end")
    assert service.sid.startswith("IS") and service.friendly_name == "end to end"
    assert service.date_created is not None  # parsed by twilio-python: the datetime format is Twilio's

    created_map = twilio_sync.services(service.sid).sync_maps.create(unique_name="inventory", ttl=3600)
    sync_map = twilio_sync.services(service.sid).sync_maps("inventory")
    fetched_map = sync_map.fetch()
    assert fetched_map.sid == created_map.sid and fetched_map.unique_name == "inventory"
    assert fetched_map.date_expires is not None

    keys = [f"item-{index:03d}" for index in range(ITEM_COUNT)]
    for index, key in enumerate(keys):
        sync_map.sync_map_items.create(key=key, data={"index": index, "name": f"thing {index}"})

    item = sync_map.sync_map_items("item-007").fetch()
    assert item.data == {"index": 7, "name": "thing 7"} and item.revision == "0"
    assert item.map_sid == created_map.sid

    updated = sync_map.sync_map_items("item-007").update(data={"index": 7, "name": "renamed"}, if_match=item.revision)
    assert updated.data["name"] == "renamed" and updated.revision != item.revision
    with pytest.raises(TwilioRestException) as stale:
        sync_map.sync_map_items("item-007").update(data={"index": 7, "name": "lost"}, if_match=item.revision)
    assert stale.value.status == 412 and stale.value.code == 54205
    assert sync_map.sync_map_items("item-007").fetch().data["name"] == "renamed"

    for order, expected in (("asc", keys), ("desc", keys[::-1])):
        page = sync_map.sync_map_items.page(order=order, page_size=PAGE_SIZE)
        seen, pages = keys_of(page), 1
        while (page := page.next_page()) is not None:
            seen += keys_of(page)
            pages += 1
        assert seen == expected and pages == 3
        assert [item.key for item in sync_map.sync_map_items.stream(order=order, page_size=PAGE_SIZE)] == expected

    after = sync_map.sync_map_items.list(from_="item-100", bounds="exclusive", page_size=PAGE_SIZE)
    assert [item.key for item in after] == keys[101:]

    with pytest.raises(TwilioRestException) as missing:
        sync_map.sync_map_items("nope").fetch()
    assert missing.value.status == 404 and missing.value.code == 54201

    assert sync_map.sync_map_items("item-000").delete() is True
    assert sync_map.delete() is True
    with pytest.raises(TwilioRestException) as gone:
        sync_map.fetch()
    assert gone.value.code == 54200
    assert [s.sid for s in twilio_sync.services.list()] == [service.sid]
    assert twilio_sync.services(service.sid).delete() is True
    assert twilio_sync.services.list() == []
