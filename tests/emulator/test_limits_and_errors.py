"""The 16 KiB, key and TTL limits at their boundaries, and every error code of the shared table."""

from __future__ import annotations

import json

import httpx
import pytest
from emulator_support import ACCOUNT_SID, AUTH_TOKEN, make_client

from syncmap_tui.emulator.faults import RateLimit
from syncmap_tui.sync.errors import HTTP_STATUS, InvalidRequest, ServerError, TwilioCode, error_body, error_from_response
from syncmap_tui.sync.validation import MAX_DATA_BYTES, MAX_TTL_SECONDS

ITEMS = "/v1/Services/svc/Maps/map/Items"


def data_of_size(size: int, fill: str) -> str:
    """Compact JSON of exactly `size` UTF-8 bytes, mostly `fill` (1 to 4 bytes a character)."""
    room = size - len('{"v":""}')
    unit = len(fill.encode("utf-8"))
    text = json.dumps({"v": fill * (room // unit) + "x" * (room % unit)}, separators=(",", ":"), ensure_ascii=False)
    assert len(text.encode("utf-8")) == size
    return text


@pytest.mark.parametrize("fill", ["a", "é", "€", "😀"])
@pytest.mark.parametrize(("size", "accepted"), [(16_383, True), (16_384, True), (16_385, False)])
async def test_data_size_boundary(client, sync_map, fill, size, accepted):
    data = data_of_size(size, fill)
    created = await client.post(ITEMS, data={"Key": "k", "Data": data})
    if accepted:
        assert created.status_code == 201, created.text
        assert created.json()["data"] == json.loads(data)
    else:
        assert created.status_code == 413 and created.json()["code"] == 54006
    await client.post(ITEMS, data={"Key": "small", "Data": "{}"})
    updated = await client.post(f"{ITEMS}/small", data={"Data": data})
    assert updated.status_code == (200 if accepted else 413)


async def test_size_counts_the_data_exactly_as_sent(client, sync_map):
    # 16,384 bytes with insignificant whitespace: counted as sent, not as re-encoded.
    compact = data_of_size(MAX_DATA_BYTES - 1, "a")
    assert (await client.post(ITEMS, data={"Key": "a", "Data": compact + " "})).status_code == 201
    assert (await client.post(ITEMS, data={"Key": "b", "Data": compact + "  "})).status_code == 413
    # ensure_ascii escapes are six bytes a character on the wire: 18,000 bytes as sent, though the
    # same value is 6,000 bytes written compactly in UTF-8.
    escaped = json.dumps({"v": "é" * 3000})
    assert len(escaped.encode()) > MAX_DATA_BYTES
    assert (await client.post(ITEMS, data={"Key": "c", "Data": escaped})).status_code == 413


@pytest.mark.parametrize(("length", "accepted"), [(1, True), (256, True), (257, True), (320, True), (321, False)])
async def test_key_length(client, sync_map, length, accepted):
    response = await client.post(ITEMS, data={"Key": "k" * length, "Data": "{}"})
    assert response.status_code == (201 if accepted else 400)
    if not accepted:
        assert response.json()["code"] == 54209


@pytest.mark.parametrize("name", ["Ttl", "ItemTtl", "CollectionTtl"])
@pytest.mark.parametrize(
    ("value", "accepted"),
    [("0", True), (str(MAX_TTL_SECONDS), True), (str(MAX_TTL_SECONDS + 1), False), ("-1", False), ("1.5", False), ("", False), ("soon", False)],
)
async def test_item_ttl_boundaries(client, sync_map, name, value, accepted):
    response = await client.post(ITEMS, data={"Key": "k", "Data": "{}", name: value})
    assert response.status_code == (201 if accepted else 400), response.text
    if not accepted:
        assert response.json()["code"] == 54011


@pytest.mark.parametrize(("value", "accepted"), [("0", True), ("31536000", True), ("31536001", False), ("-1", False)])
async def test_map_ttl_boundaries(client, sync, value, accepted):
    await sync.service()
    created = await client.post("/v1/Services/svc/Maps", data={"CollectionTtl": value})
    assert created.status_code == (201 if accepted else 400)
    if not accepted:
        assert created.json()["code"] == 54011


async def test_every_error_code_in_the_table(app, client, sync, sync_map):
    """Every code of the shared table (sync-api-notes.md's error table, the paging and protocol
    codes, the injected faults), each with its status and the exact body error_body() gives."""
    await sync.item("k")
    cases: list[tuple[TwilioCode, httpx.Response]] = []

    async with make_client(app, auth=(ACCOUNT_SID, "wrong")) as intruder:
        cases.append((TwilioCode.AUTH_FAILED, await intruder.get("/v1/Services")))
    cases += [
        (TwilioCode.ROUTE_NOT_FOUND, await client.get("/v1/Nowhere")),
        (TwilioCode.SERVICE_NOT_FOUND, await client.get("/v1/Services/nope")),
        (TwilioCode.MAP_NOT_FOUND, await client.get("/v1/Services/svc/Maps/nope")),
        (TwilioCode.ITEM_NOT_FOUND, await client.get(f"{ITEMS}/nope")),
        (TwilioCode.KEY_EXISTS, await client.post(ITEMS, data={"Key": "k", "Data": "{}"})),
        (TwilioCode.UNIQUE_NAME_EXISTS, await client.post("/v1/Services/svc/Maps", data={"UniqueName": "map"})),
        (TwilioCode.UNIQUE_NAME_INVALID, await client.post("/v1/Services/svc/Maps", data={"UniqueName": ""})),
        (TwilioCode.REVISION_MISMATCH, await client.post(f"{ITEMS}/k", data={"Data": "{}"}, headers={"If-Match": "9"})),
        (TwilioCode.DATA_TOO_LARGE, await client.post(ITEMS, data={"Key": "big", "Data": data_of_size(16_385, "a")})),
        (TwilioCode.DATA_INVALID, await client.post(ITEMS, data={"Key": "bad", "Data": "[]"})),
        (TwilioCode.DATA_MISSING, await client.post(ITEMS, data={"Key": "none"})),
        (TwilioCode.KEY_INVALID, await client.post(ITEMS, data={"Key": "", "Data": "{}"})),
        (TwilioCode.TTL_INVALID, await client.post(ITEMS, data={"Key": "t", "Data": "{}", "Ttl": "-1"})),
        (TwilioCode.NOTHING_TO_UPDATE, await client.post(f"{ITEMS}/k", data={"CollectionTtl": "5"})),
        (TwilioCode.INVALID_ORDER, await client.get(ITEMS, params={"Order": "sideways"})),
        (TwilioCode.INVALID_BOUNDS, await client.get(ITEMS, params={"From": "k", "Bounds": "loose"})),
        (TwilioCode.INVALID_PAGE_TOKEN, await client.get(ITEMS, params={"PageToken": "!!!"})),
        (TwilioCode.INVALID_PAGE_SIZE, await client.get(ITEMS, params={"PageSize": "0"})),
        (TwilioCode.BAD_REQUEST, await client.get("/v1/Services", params={"Page": "first"})),
        (TwilioCode.METHOD_NOT_ALLOWED, await client.put("/v1/Services/svc/Maps/map")),
    ]
    # A bucket of one write on a stopped clock: the first write passes, the second is refused.
    app.state.api.rate_limit = RateLimit(per_second=1, burst_seconds=1, clock=lambda: 0.0)
    assert (await client.post(f"{ITEMS}/k", data={"Data": "{}"})).status_code == 200
    cases.append((TwilioCode.RATE_LIMITED, await client.post(f"{ITEMS}/k", data={"Data": "{}"})))
    for code, status in ((TwilioCode.SERVICE_UNAVAILABLE, 503), (TwilioCode.INTERNAL, 500)):
        app.state.faults.update({"fail_next": 1, "fail_status": status})
        cases.append((code, await client.get("/v1/Services")))

    assert {code for code, _ in cases} == set(TwilioCode)
    for code, response in cases:
        assert response.status_code == HTTP_STATUS[code], (code, response.text)
        body = response.json()
        assert body == error_body(code, body["message"]), code
        assert set(body) == {"code", "message", "more_info", "status"}
        assert body["message"]


async def test_unauthenticated_requests(app):
    headers_cases = [
        {},
        {"Authorization": "Bearer x"},
        {"Authorization": "Basic !!!"},
        {"Authorization": "Basic " + "bm9jb2xvbg=="},  # "nocolon"
    ]
    async with make_client(app, auth=None) as anonymous:
        for headers in headers_cases:
            response = await anonymous.get("/v1/Services", headers=headers)
            assert response.status_code == 401 and response.json()["code"] == 20003
            assert response.headers["www-authenticate"] == 'Basic realm="Twilio API"'
        for auth in [("AC" + "1" * 32, AUTH_TOKEN), ("SK" + "a" * 32, "wrong"), ("SKshort", AUTH_TOKEN), ("", "")]:
            response = await anonymous.get("/v1/Services", auth=auth)
            assert response.status_code == 401, auth
        # Unknown paths and the control endpoint are behind the same door.
        assert (await anonymous.get("/v1/Nowhere")).status_code == 401
        assert (await anonymous.get("/__emulator__/faults")).status_code == 401


async def test_api_key_with_the_auth_token_as_secret(app):
    async with make_client(app, auth=("SK" + "0123456789abcdef" * 2, AUTH_TOKEN)) as keyed:
        assert (await keyed.get("/v1/Services")).status_code == 200


async def test_wrong_method(client, sync_map):
    response = await client.put("/v1/Services/svc/Maps/map")
    assert response.status_code == 405
    assert response.json() == error_body(TwilioCode.METHOD_NOT_ALLOWED, "Method PUT not allowed")
    assert response.json()["status"] == 405
    assert response.headers["allow"] == "DELETE, GET, POST"
    assert (await client.delete("/v1/Services/svc/Maps/map/Items")).status_code == 405


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (TwilioCode.INVALID_ORDER, InvalidRequest),
        (TwilioCode.INVALID_BOUNDS, InvalidRequest),
        (TwilioCode.INVALID_PAGE_TOKEN, InvalidRequest),
        (TwilioCode.INVALID_PAGE_SIZE, InvalidRequest),
        (TwilioCode.METHOD_NOT_ALLOWED, InvalidRequest),
        (TwilioCode.BAD_REQUEST, InvalidRequest),
        (TwilioCode.SERVICE_UNAVAILABLE, ServerError),
        (TwilioCode.INTERNAL, ServerError),
    ],
)
def test_the_client_reads_the_emulators_protocol_codes(code, expected):
    """The codes beyond the notes' table, as the client classifies the bodies the emulator sends."""
    error = error_from_response(HTTP_STATUS[code], error_body(code, "refused"), {})
    assert type(error) is expected
    assert (error.code, error.status) == (code, HTTP_STATUS[code])
