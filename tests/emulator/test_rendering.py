"""The hand-written JSON of map items is what a JSON encoder would write for the same values.

Items are rendered by splicing the stored data into a template (items.render_item) rather than
through json.dumps; these tests hold that text to the encoder's exact bytes and to the meaning.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from syncmap_tui.emulator.items import render_item
from syncmap_tui.emulator.wire import to_json
from syncmap_tui.emulator.store import ItemRecord
from syncmap_tui.sync.validation import encode_data

ACCOUNT, SERVICE, MAP = "AC" + "a" * 32, "IS" + "b" * 32, "MP" + "c" * 32
ITEMS = "/v1/Services/svc/Maps/map/Items"

KEYS = [
    "plain-key_1.0~",
    "with space",
    "slash/question?hash#percent%",
    'quote"back\\slash',
    "ключ-日本-🙂",
    "tab\tnewline\nbell\x07",
    "..",
    "\u2028line separator",
]

DATA = [
    {},
    {"hello": "wörld", "n": [1, 2.5, -0.0, 1e300, {"deep": None}], "ok": True},
    {"quote": '"', "backslash": "\\", "controls": "\x00\x1f\x7f", "emoji": "🙂", "sep": "\u2028"},
    {"big": 123456789012345678901234567890, "small": 5e-324},
]


def item_segment(key: str) -> str:
    # quote() leaves dots alone; a ".." segment would be removed by URL resolution, so dots are encoded.
    return "%2E%2E" if key == ".." else quote(key, safe="")


def item(key: str, data: dict, expires: int | None = None) -> ItemRecord:
    return ItemRecord(key, ACCOUNT, SERVICE, MAP, encode_data(data), 7, 1_735_787_045, 1_735_787_046, expires)


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("data", DATA)
@pytest.mark.parametrize("expires", [None, 1_767_323_045])
def test_an_item_renders_as_the_encoder_would_write_it(key: str, data: dict, expires: int | None) -> None:
    base_url = "http://127.0.0.1:8765"
    text = render_item(item(key, data, expires), base_url)
    expected = {
        "key": key,
        "account_sid": ACCOUNT,
        "service_sid": SERVICE,
        "map_sid": MAP,
        "url": f"{base_url}/v1/Services/{SERVICE}/Maps/{MAP}/Items/{item_segment(key)}",
        "revision": "7",
        "data": data,
        "date_expires": None if expires is None else "2026-01-02T03:04:05Z",
        "date_created": "2025-01-02T03:04:05Z",
        "date_updated": "2025-01-02T03:04:06Z",
        "created_by": "system",
    }
    assert text == to_json(expected)
    assert json.loads(text) == expected


def test_a_base_url_with_characters_json_escapes_stays_one_string() -> None:
    base_url = 'http://h"o\\st:1'
    rendered = json.loads(render_item(item("a/b", {}), base_url))
    assert rendered["url"] == f"{base_url}/v1/Services/{SERVICE}/Maps/{MAP}/Items/a%2Fb"


async def test_a_listed_page_is_compact_json_as_the_encoder_writes_it(client, sync, sync_map) -> None:
    for index, key in enumerate(KEYS):
        await sync.item(key, DATA[index % len(DATA)])
    response = await client.get(ITEMS, params={"PageSize": "3"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert response.content == to_json(body).encode("utf-8")
    listed = []
    next_url = f"{ITEMS}?PageSize=3"
    while next_url:
        page = (await client.get(next_url)).json()
        listed += page["items"]
        next_url = page["meta"]["next_page_url"]
    assert [entry["key"] for entry in listed] == sorted(KEYS)
    for entry in listed:
        fetched = await client.get(f"{ITEMS}/{item_segment(entry['key'])}")
        assert fetched.json() == entry
        assert fetched.content == to_json(entry).encode("utf-8")
