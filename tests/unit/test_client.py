"""The Sync client against the in-process emulator, and against hand-made broken servers.

Every test builds its own in-memory emulator. Requests are recorded by a transport wrapper, so
tests assert what went on the wire (paths, form bodies, If-Match) and how many requests were
sent. Retries sleep through `FakeSleep`, which only records the delays: nothing here waits,
except the timeout tests, whose client gives up after 0.2 s on a latency it never waits out.
The only socket is a refused connection to a closed port on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import re
import socket
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Awaitable, Callable, Iterator
from urllib.parse import parse_qsl, quote

import httpx
import pytest

from syncmap_tui.emulator.app import create_app
from syncmap_tui.emulator.faults import WRITE_METHODS, Faults, RateLimit
from syncmap_tui.emulator.inprocess import emulator_transport
from syncmap_tui.emulator.store import SyncStore
from syncmap_tui.sync import client as client_module
from syncmap_tui.sync.auth import Credentials
from syncmap_tui.sync.client import MAX_PAGE_SIZE, NO_RETRY, Page, RetryPolicy, SyncClient
from syncmap_tui.sync.errors import (
    AuthFailed,
    BadResponse,
    DataTooLarge,
    InvalidTtl,
    ItemNotFound,
    KeyExists,
    MapNotFound,
    NetworkError,
    NotFound,
    RateLimited,
    ReadOnlyRefused,
    RequestTimedOut,
    RevisionConflict,
    ServerError,
    ServiceNotFound,
    SyncError,
    TwilioCode,
    error_body,
    error_from_response,
)
from syncmap_tui.sync.models import MapItem, Service, SyncMap
from syncmap_tui.sync.validation import MAX_DATA_BYTES, ValidationError

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "tok-3f9a1c7e-not-for-your-eyes"
"""Distinctive, so that a leak into any message or repr is easy to find."""
AUTH_HEADER_VALUE = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
BASE_URL = "http://emulator.test"
NOW = datetime(2025, 3, 4, 5, 6, 7, tzinfo=timezone.utc)
FAST_RETRY = RetryPolicy(attempts=4, base_delay=0.1, max_delay=0.4)
WEIRD_KEYS = ["a/b", "what?", "#hash", "100%", "with space", "é", "😀", "[bold]x", "a/../b", "%2F", "+plus&amp=1"]
DOT_KEYS = [".", ".."]


# -- helpers and fixtures -----------------------------------------------------------------------


class FakeSleep:
    """Stands in for asyncio.sleep: records each delay and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


class Recorder(httpx.AsyncBaseTransport):
    """Wraps a transport and keeps every request that was handed to it."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()

    def writes(self) -> list[httpx.Request]:
        return [request for request in self.requests if request.method != "GET"]


def form_of(request: httpx.Request) -> dict[str, bytes]:
    """The request's form fields, each value as the UTF-8 bytes it decodes to."""
    body = request.content.decode("ascii")  # a urlencoded body is ASCII on the wire
    return {name: value.encode("utf-8") for name, value in parse_qsl(body, keep_blank_values=True, errors="strict")}


def raw_path(request: httpx.Request) -> str:
    return request.url.raw_path.split(b"?", 1)[0].decode("ascii")


def query_of(request: httpx.Request) -> dict[str, str]:
    return dict(parse_qsl(request.url.query.decode("ascii")))


def assert_no_secret(error: BaseException) -> None:
    """Neither the error nor anything in its chain shows the token, plain or in its Basic form."""
    seen: BaseException | None = error
    while seen is not None:
        for text in (str(seen), repr(seen)):
            assert AUTH_TOKEN not in text
            assert AUTH_HEADER_VALUE not in text
        seen = seen.__cause__ or seen.__context__


@contextmanager
def raises(kind: type[BaseException], match: str | None = None) -> Iterator[Any]:
    """pytest.raises that also checks that the error keeps the auth token to itself."""
    with pytest.raises(kind, match=match) as info:
        yield info
    assert_no_secret(info.value)


@dataclass
class Emulator:
    store: SyncStore
    faults: Faults
    app: Any
    sleep: FakeSleep = field(default_factory=FakeSleep)

    def client(
        self,
        *,
        token: str = AUTH_TOKEN,
        retry: RetryPolicy = FAST_RETRY,
        read_only: bool = False,
        timeout: float = 5.0,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> tuple[SyncClient, Recorder]:
        recorder = Recorder(emulator_transport(self.app))
        client = SyncClient(
            Credentials.auth_token(ACCOUNT_SID, token),
            base_url=BASE_URL,
            transport=recorder,
            retry=retry,
            sleep=sleep or self.sleep,
            read_only=read_only,
            timeout=timeout,
        )
        return client, recorder


@contextmanager
def running_emulator(*, rate_limit: RateLimit | None = None) -> Iterator[Emulator]:
    """An in-memory emulator whose clock stands still at NOW, with seeded faults (none at first)."""
    with SyncStore(":memory:", clock=lambda: NOW) as store:
        faults = Faults(seed=20250304)
        app = create_app(store, account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, faults=faults, rate_limit=rate_limit)
        yield Emulator(store, faults, app)


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with running_emulator() as opened:
        yield opened


@pytest.fixture
async def client_and_recorder(emulator: Emulator) -> Any:
    client, recorder = emulator.client()
    async with client:
        yield client, recorder


@pytest.fixture
def client(client_and_recorder: tuple[SyncClient, Recorder]) -> SyncClient:
    return client_and_recorder[0]


@pytest.fixture
def recorder(client_and_recorder: tuple[SyncClient, Recorder]) -> Recorder:
    return client_and_recorder[1]


@pytest.fixture
async def sync_map(client: SyncClient) -> tuple[str, str]:
    """A service "svc" holding an empty map "map": their SIDs."""
    service = await client.create_service(unique_name="svc", friendly_name="Service")
    created = await client.create_map(service.sid, unique_name="map")
    return service.sid, created.sid


def mock_client(
    handler: Callable[[httpx.Request], httpx.Response],
    *,
    retry: RetryPolicy = FAST_RETRY,
    sleep: FakeSleep | None = None,
) -> tuple[SyncClient, list[httpx.Request]]:
    """A client of an httpx.MockTransport, for answers the emulator never gives."""
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    client = SyncClient(
        Credentials.auth_token(ACCOUNT_SID, AUTH_TOKEN),
        base_url=BASE_URL,
        transport=httpx.MockTransport(record),
        retry=retry,
        sleep=sleep or FakeSleep(),
    )
    return client, seen


def item_json(**overrides: Any) -> dict[str, Any]:
    body = {
        "key": "k",
        "account_sid": ACCOUNT_SID,
        "service_sid": "IS" + "0" * 32,
        "map_sid": "MP" + "0" * 32,
        "url": f"{BASE_URL}/v1/Services/IS{'0' * 32}/Maps/MP{'0' * 32}/Items/k",
        "revision": "0",
        "data": {},
        "date_expires": None,
        "date_created": "2025-03-04T05:06:07Z",
        "date_updated": "2025-03-04T05:06:07Z",
        "created_by": "system",
    }
    body.update(overrides)
    return body


def closed_loopback_port() -> int:
    """A port on 127.0.0.1 that nothing listens on: bound by us, then released."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- models ------------------------------------------------------------------------------------


def is_utc(value: datetime | None) -> bool:
    return value is not None and value.tzinfo is not None and value.utcoffset() == timedelta(0)


async def test_service_map_and_item_are_parsed_with_the_spec_field_names(client: SyncClient) -> None:
    service = await client.create_service(friendly_name="Demo", unique_name="demo")
    assert isinstance(service, Service)
    assert service.sid.startswith("IS") and len(service.sid) == 34
    assert (service.friendly_name, service.unique_name, service.account_sid) == ("Demo", "demo", ACCOUNT_SID)
    assert service.date_created == service.date_updated == NOW and is_utc(service.date_created)
    assert service.url == f"{BASE_URL}/v1/Services/{service.sid}"
    assert await client.fetch_service("demo") == service

    sync_map = await client.create_map(service.sid, unique_name="m", collection_ttl=3600)
    assert isinstance(sync_map, SyncMap)
    assert sync_map.sid.startswith("MP") and sync_map.service_sid == service.sid
    assert sync_map.account_sid == ACCOUNT_SID and sync_map.created_by == "system"
    assert isinstance(sync_map.revision, str)
    assert sync_map.date_expires == NOW + timedelta(hours=1) and is_utc(sync_map.date_expires)
    assert is_utc(sync_map.date_created) and is_utc(sync_map.date_updated)
    assert (await client.fetch_map(service.sid, "m")).sid == sync_map.sid

    item = await client.create_item(service.sid, "m", "k", {"n": 1}, item_ttl=60)
    assert isinstance(item, MapItem)
    assert item.key == "k" and item.data == {"n": 1}
    assert item.revision == "0" and isinstance(item.revision, str)
    assert (item.account_sid, item.service_sid, item.map_sid) == (ACCOUNT_SID, service.sid, sync_map.sid)
    assert item.url == f"{BASE_URL}/v1/Services/{service.sid}/Maps/{sync_map.sid}/Items/k"
    assert item.created_by == "system"
    assert item.date_created == item.date_updated == NOW
    assert item.date_expires == NOW + timedelta(seconds=60)
    assert all(is_utc(value) for value in (item.date_created, item.date_updated, item.date_expires))

    updated = await client.update_item(service.sid, sync_map.sid, "k", data={"n": 2}, if_match=item.revision)
    assert isinstance(updated.revision, str) and updated.revision != item.revision
    assert await client.fetch_item(service.sid, sync_map.sid, "k") == updated


async def test_update_map_sets_its_collection_ttl(client: SyncClient, sync_map: tuple[str, str]) -> None:
    service_sid, map_sid = sync_map
    assert (await client.fetch_map(service_sid, map_sid)).date_expires is None
    updated = await client.update_map(service_sid, map_sid, collection_ttl=120)
    assert updated.date_expires == NOW + timedelta(seconds=120)


# -- listing and paging -------------------------------------------------------------------------


KEYS = [f"k{index}" for index in range(7)]


@pytest.fixture
async def filled_map(client: SyncClient, sync_map: tuple[str, str]) -> tuple[str, str]:
    service_sid, map_sid = sync_map
    for key in reversed(KEYS):  # created out of order: the listing sorts by key
        await client.create_item(service_sid, map_sid, key, {"key": key})
    return sync_map


async def collect(iterator: Any) -> list[Any]:
    return [record async for record in iterator]


def list_requests(recorder: Recorder, suffix: str) -> list[httpx.Request]:
    return [r for r in recorder.requests if r.method == "GET" and raw_path(r).endswith(suffix)]


async def test_list_items_follows_next_page_url_across_pages(
    client: SyncClient, recorder: Recorder, filled_map: tuple[str, str]
) -> None:
    service_sid, map_sid = filled_map
    recorder.requests.clear()
    items = await collect(client.list_items(service_sid, map_sid, page_size=2))
    assert [item.key for item in items] == KEYS
    assert all(isinstance(item, MapItem) for item in items) and items[3].data == {"key": "k3"}
    pages = list_requests(recorder, "/Items")
    assert len(pages) == 4  # 2 + 2 + 2 + 1
    assert query_of(pages[0]) == {"PageSize": "2", "Order": "asc"}
    assert all("PageToken" in query_of(page) for page in pages[1:])


async def test_list_items_in_descending_order(client: SyncClient, filled_map: tuple[str, str]) -> None:
    items = await collect(client.list_items(*filled_map, page_size=3, order="desc"))
    assert [item.key for item in items] == list(reversed(KEYS))


@pytest.mark.parametrize(
    ("order", "bounds", "expected"),
    [
        ("asc", "inclusive", ["k3", "k4", "k5", "k6"]),
        ("asc", "exclusive", ["k4", "k5", "k6"]),
        ("desc", "inclusive", ["k3", "k2", "k1", "k0"]),
        ("desc", "exclusive", ["k2", "k1", "k0"]),
    ],
)
async def test_list_items_from_a_key_with_bounds(
    client: SyncClient, recorder: Recorder, filled_map: tuple[str, str], order: str, bounds: str, expected: list[str]
) -> None:
    recorder.requests.clear()
    listing = client.list_items(*filled_map, page_size=2, order=order, from_key="k3", bounds=bounds)  # type: ignore[arg-type]
    items = await collect(listing)
    assert [item.key for item in items] == expected
    assert query_of(recorder.requests[0]) == {"PageSize": "2", "Order": order, "From": "k3", "Bounds": bounds}


async def test_list_items_from_a_key_that_does_not_exist_starts_at_the_next_one(
    client: SyncClient, filled_map: tuple[str, str]
) -> None:
    items = await collect(client.list_items(*filled_map, from_key="k2x"))
    assert [item.key for item in items] == ["k3", "k4", "k5", "k6"]


async def test_list_item_page_returns_one_page_and_its_next_page_url(
    client: SyncClient, filled_map: tuple[str, str]
) -> None:
    first = await client.list_item_page(*filled_map, page_size=3)
    assert isinstance(first, Page)
    assert [item.key for item in first.records] == ["k0", "k1", "k2"]
    assert first.has_more and first.next_page_url is not None
    assert first.next_page_url.startswith(f"{BASE_URL}/v1/Services/")  # absolute, on the server's own base URL
    second = await client.list_item_page(*filled_map, page_url=first.next_page_url)
    assert [item.key for item in second.records] == ["k3", "k4", "k5"]
    third = await client.list_item_page(*filled_map, page_url=second.next_page_url)
    assert [item.key for item in third.records] == ["k6"]
    assert third.next_page_url is None and not third.has_more


async def test_list_items_of_an_empty_map_is_empty(client: SyncClient, sync_map: tuple[str, str]) -> None:
    assert await collect(client.list_items(*sync_map)) == []
    page = await client.list_item_page(*sync_map)
    assert page.records == [] and page.next_page_url is None


async def test_page_size_over_the_maximum_is_clamped(
    client: SyncClient, recorder: Recorder, emulator: Emulator, sync_map: tuple[str, str]
) -> None:
    service_sid, map_sid = sync_map
    rows = ((f"i{n:03d}", "{}", 0) for n in range(MAX_PAGE_SIZE + 5))
    emulator.store.create_items(ACCOUNT_SID, service_sid, map_sid, rows)
    page = await client.list_item_page(service_sid, map_sid, page_size=500)
    assert len(page.records) == MAX_PAGE_SIZE and page.has_more
    await client.list_service_page(page_size=500)
    await client.list_map_page(service_sid, page_size=500)
    sizes = [query_of(request)["PageSize"] for request in recorder.requests if request.method == "GET"]
    assert sizes == [str(MAX_PAGE_SIZE)] * 3


async def test_list_services_and_maps_follow_pages(client: SyncClient, recorder: Recorder) -> None:
    services = [await client.create_service(unique_name=f"s{n}") for n in range(5)]
    recorder.requests.clear()
    listed = await collect(client.list_services(page_size=2))
    assert [service.sid for service in listed] == [service.sid for service in services]
    assert len(list_requests(recorder, "/Services")) == 3

    maps = [await client.create_map(services[0].sid, unique_name=f"m{n}") for n in range(5)]
    recorder.requests.clear()
    listed_maps = await collect(client.list_maps(services[0].sid, page_size=2))
    assert [sync_map.sid for sync_map in listed_maps] == [sync_map.sid for sync_map in maps]
    assert len(list_requests(recorder, "/Maps")) == 3
    page = await client.list_map_page(services[0].sid, page_size=4)
    assert len(page.records) == 4 and page.has_more
    rest = await client.list_map_page(services[0].sid, page_url=page.next_page_url)
    assert [sync_map.sid for sync_map in rest.records] == [maps[4].sid] and not rest.has_more
    first_services = await client.list_service_page(page_size=3)
    more_services = await client.list_service_page(page_url=first_services.next_page_url)
    assert len(first_services.records) + len(more_services.records) == 5


# -- keys in paths ------------------------------------------------------------------------------


@pytest.mark.parametrize("key", WEIRD_KEYS + DOT_KEYS)
async def test_keys_with_reserved_characters_round_trip(
    client: SyncClient, recorder: Recorder, sync_map: tuple[str, str], key: str
) -> None:
    service_sid, map_sid = sync_map
    await client.create_item(service_sid, map_sid, "neighbour", {"keep": True})
    created = await client.create_item(service_sid, map_sid, key, {"k": key})
    assert created.key == key

    recorder.requests.clear()
    fetched = await client.fetch_item(service_sid, map_sid, key)
    assert fetched.key == key and fetched.data == {"k": key}
    last_segment = raw_path(recorder.requests[0]).rsplit("/", 1)[1]
    assert last_segment not in (".", "..")  # a dot segment would be removed from the path
    if key not in DOT_KEYS:
        assert last_segment == quote(key, safe="")

    updated = await client.update_item(service_sid, map_sid, key, data={"k": key, "v": 2}, if_match=fetched.revision)
    assert updated.key == key and updated.data == {"k": key, "v": 2}
    assert key in [item.key async for item in client.list_items(service_sid, map_sid)]

    await client.delete_item(service_sid, map_sid, key, if_match=updated.revision)
    with raises(ItemNotFound):
        await client.fetch_item(service_sid, map_sid, key)
    # Nothing else was touched: not the neighbour, not the map.
    assert (await client.fetch_item(service_sid, map_sid, "neighbour")).data == {"keep": True}
    assert (await client.fetch_map(service_sid, map_sid)).sid == map_sid


async def test_dot_dot_key_never_addresses_the_map(
    client: SyncClient, recorder: Recorder, sync_map: tuple[str, str]
) -> None:
    """Regression: quote("..", safe="") is "..", which httpx removes with the segment before it,
    so delete_item(key="..") used to send DELETE .../Maps/MP… and delete the whole map."""
    service_sid, map_sid = sync_map
    await client.create_item(service_sid, map_sid, "other", {})
    with raises(ItemNotFound):
        await client.delete_item(service_sid, map_sid, "..", if_match=None)
    assert raw_path(recorder.requests[-1]).endswith("/Items/%2E%2E")
    assert (await client.fetch_item(service_sid, map_sid, "other")).key == "other"


async def test_service_and_map_unique_names_are_path_encoded(client: SyncClient, recorder: Recorder) -> None:
    service = await client.create_service(unique_name="team a/b")
    sync_map = await client.create_map(service.sid, unique_name="map?#é")
    assert (await client.fetch_service("team a/b")).sid == service.sid
    assert (await client.fetch_map("team a/b", "map?#é")).sid == sync_map.sid
    assert raw_path(recorder.requests[-1]) == "/v1/Services/team%20a%2Fb/Maps/map%3F%23%C3%A9"


# -- data on the wire ---------------------------------------------------------------------------


async def test_data_is_sent_as_compact_json_without_ascii_escapes(
    client: SyncClient, recorder: Recorder, sync_map: tuple[str, str]
) -> None:
    service_sid, map_sid = sync_map
    data = {"name": "café 😀", "list": [1, 2.5, None, True], "nested": {"a": "x y"}}
    expected = '{"name":"café 😀","list":[1,2.5,null,true],"nested":{"a":"x y"}}'.encode("utf-8")

    item = await client.create_item(service_sid, map_sid, "k", data, item_ttl=10, collection_ttl=20)
    create = recorder.writes()[-1]
    assert create.headers["content-type"] == "application/x-www-form-urlencoded"
    assert form_of(create) == {"Key": b"k", "Data": expected, "ItemTtl": b"10", "CollectionTtl": b"20"}
    assert b"%C3%A9" in create.content and b"%5Cu" not in create.content  # UTF-8, not \u escapes
    assert item.data == data

    await client.update_item(service_sid, map_sid, "k", data={"é": "ü"}, if_match=None)
    assert form_of(recorder.writes()[-1]) == {"Data": '{"é":"ü"}'.encode("utf-8")}
    await client.update_item(service_sid, map_sid, "k", item_ttl=0, if_match=None)
    assert form_of(recorder.writes()[-1]) == {"ItemTtl": b"0"}  # absent parameters are not sent at all


def sized_data(size: int) -> dict[str, str]:
    """`{"v": ...}` whose compact JSON is exactly `size` UTF-8 bytes, using two-byte characters."""
    room = size - len(b'{"v":""}')
    return {"v": "é" * (room // 2) + "x" * (room % 2)}


async def test_data_at_the_limit_is_accepted_and_one_byte_over_is_refused_before_sending(
    client: SyncClient, recorder: Recorder, sync_map: tuple[str, str]
) -> None:
    service_sid, map_sid = sync_map
    at_limit = sized_data(MAX_DATA_BYTES)
    item = await client.create_item(service_sid, map_sid, "full", at_limit)
    assert item.data == at_limit
    assert len(form_of(recorder.writes()[-1])["Data"]) == MAX_DATA_BYTES

    sent = len(recorder.requests)
    over = sized_data(MAX_DATA_BYTES + 1)
    with raises(ValidationError, match="16,385 bytes") as info:
        await client.create_item(service_sid, map_sid, "over", over)
    assert info.value.code == TwilioCode.DATA_TOO_LARGE
    with raises(ValidationError):
        await client.update_item(service_sid, map_sid, "full", data=over, if_match=None)
    assert len(recorder.requests) == sent


async def test_invalid_key_and_ttl_are_refused_before_sending(
    client: SyncClient, recorder: Recorder, sync_map: tuple[str, str]
) -> None:
    service_sid, map_sid = sync_map
    sent = len(recorder.requests)
    with raises(ValidationError) as empty_key:
        await client.create_item(service_sid, map_sid, "", {})
    assert empty_key.value.code == TwilioCode.KEY_INVALID
    with raises(ValidationError):
        await client.create_item(service_sid, map_sid, "k" * 321, {})
    with raises(ValidationError) as bad_ttl:
        await client.create_item(service_sid, map_sid, "k", {}, item_ttl=-1)
    assert bad_ttl.value.code == TwilioCode.TTL_INVALID
    with raises(ValidationError):
        await client.update_item(service_sid, map_sid, "k", item_ttl=31_536_001, if_match=None)
    with raises(ValidationError):
        await client.create_map(service_sid, collection_ttl=-5)
    assert len(recorder.requests) == sent


# -- If-Match ----------------------------------------------------------------------------------


@pytest.fixture
async def item(client: SyncClient, sync_map: tuple[str, str]) -> MapItem:
    service_sid, map_sid = sync_map
    first = await client.create_item(service_sid, map_sid, "k", {"v": 1})
    return await client.update_item(service_sid, map_sid, "k", data={"v": 2}, if_match=first.revision)


async def test_update_with_a_stale_revision_is_a_conflict(
    client: SyncClient, recorder: Recorder, item: MapItem
) -> None:
    stale = "0"
    assert item.revision != stale
    with raises(RevisionConflict) as info:
        await client.update_item(item.service_sid, item.map_sid, "k", data={"v": 3}, if_match=stale)
    assert (info.value.code, info.value.status) == (54205, 412)
    assert "54205" in str(info.value) and info.value.message in str(info.value)
    assert recorder.requests[-1].headers["If-Match"] == stale
    assert (await client.fetch_item(item.service_sid, item.map_sid, "k")).data == {"v": 2}


async def test_update_with_the_current_revision_succeeds(client: SyncClient, recorder: Recorder, item: MapItem) -> None:
    updated = await client.update_item(item.service_sid, item.map_sid, "k", data={"v": 3}, if_match=item.revision)
    assert updated.data == {"v": 3} and updated.revision != item.revision
    assert recorder.requests[-1].headers["If-Match"] == item.revision


async def test_update_without_if_match_is_unconditional(client: SyncClient, recorder: Recorder, item: MapItem) -> None:
    updated = await client.update_item(item.service_sid, item.map_sid, "k", data={"v": 9}, if_match=None)
    assert updated.data == {"v": 9}
    assert "If-Match" not in recorder.requests[-1].headers


async def test_delete_with_a_stale_revision_is_a_conflict_and_keeps_the_item(
    client: SyncClient, recorder: Recorder, item: MapItem
) -> None:
    with raises(RevisionConflict) as info:
        await client.delete_item(item.service_sid, item.map_sid, "k", if_match="0")
    assert (info.value.code, info.value.status) == (54205, 412)
    request = recorder.requests[-1]
    assert request.method == "DELETE" and request.headers["If-Match"] == "0"
    assert (await client.fetch_item(item.service_sid, item.map_sid, "k")).revision == item.revision


async def test_delete_with_the_current_revision_sends_if_match_and_deletes(
    client: SyncClient, recorder: Recorder, item: MapItem
) -> None:
    assert await client.delete_item(item.service_sid, item.map_sid, "k", if_match=item.revision) is None
    request = recorder.requests[-1]
    assert request.method == "DELETE" and request.headers["If-Match"] == item.revision
    with raises(ItemNotFound):
        await client.fetch_item(item.service_sid, item.map_sid, "k")


async def test_delete_without_if_match_is_unconditional(client: SyncClient, recorder: Recorder, item: MapItem) -> None:
    await client.delete_item(item.service_sid, item.map_sid, "k", if_match=None)
    assert "If-Match" not in recorder.requests[-1].headers
    with raises(ItemNotFound):
        await client.fetch_item(item.service_sid, item.map_sid, "k")


# -- typed errors from the server ---------------------------------------------------------------


def assert_described(error: SyncError, code: int, status: int) -> None:
    assert (error.code, error.status) == (code, status)
    text = str(error)
    assert error.message and error.message in text
    assert str(code) in text and str(status) in text


async def test_bad_credentials_are_auth_failed(emulator: Emulator) -> None:
    client, recorder = emulator.client(token="wrong-token")
    async with client:
        with raises(AuthFailed) as info:
            await client.fetch_service("svc")
        assert_described(info.value, 20003, 401)
        assert len(recorder.requests) == 1  # a 401 is not retried
        with raises(AuthFailed):
            await client.create_service(unique_name="x")


async def test_not_found_errors_name_what_is_missing(client: SyncClient, sync_map: tuple[str, str]) -> None:
    service_sid, map_sid = sync_map
    with raises(ServiceNotFound) as service_error:
        await client.fetch_service("IS" + "f" * 32)
    assert_described(service_error.value, 54050, 404)
    with raises(MapNotFound) as map_error:
        await client.fetch_map(service_sid, "nope")
    assert_described(map_error.value, 54200, 404)
    with raises(ItemNotFound) as item_error:
        await client.fetch_item(service_sid, map_sid, "nope")
    assert_described(item_error.value, 54201, 404)
    with raises(ItemNotFound):
        await client.update_item(service_sid, map_sid, "nope", data={}, if_match=None)
    with raises(ItemNotFound):
        await client.delete_item(service_sid, map_sid, "nope", if_match="0")
    with raises(MapNotFound):
        await collect(client.list_items(service_sid, "nope"))
    with raises(ServiceNotFound):
        await collect(client.list_maps("nope"))
    assert isinstance(item_error.value, NotFound)


async def test_deletes_of_services_and_maps(client: SyncClient, sync_map: tuple[str, str]) -> None:
    service_sid, map_sid = sync_map
    await client.delete_map(service_sid, map_sid)
    with raises(MapNotFound):
        await client.fetch_map(service_sid, map_sid)
    await client.delete_service(service_sid)
    with raises(ServiceNotFound):
        await client.fetch_service(service_sid)


async def test_creating_an_existing_key_is_key_exists(client: SyncClient, sync_map: tuple[str, str]) -> None:
    await client.create_item(*sync_map, "k", {})
    with raises(KeyExists) as info:
        await client.create_item(*sync_map, "k", {"again": True})
    assert_described(info.value, 54208, 409)


async def test_data_the_server_refuses_as_too_large_is_data_too_large(
    client: SyncClient, recorder: Recorder, sync_map: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Switch the client's own size check off, so that the oversized Data reaches the server.
    monkeypatch.setattr(client_module, "check_size", lambda wire: len(wire.encode("utf-8")))
    with raises(DataTooLarge) as info:
        await client.create_item(*sync_map, "big", sized_data(MAX_DATA_BYTES + 1))
    assert len(form_of(recorder.writes()[-1])["Data"]) == MAX_DATA_BYTES + 1
    assert_described(info.value, 54006, 413)


async def test_a_ttl_the_server_refuses_is_invalid_ttl(
    client: SyncClient, sync_map: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_module, "check_ttl", lambda seconds: seconds)
    with raises(InvalidTtl) as info:
        await client.create_item(*sync_map, "k", {}, item_ttl=31_536_001)
    assert_described(info.value, 54011, 400)


def test_error_from_response_reads_twilio_bodies() -> None:
    body = error_body(TwilioCode.DATA_TOO_LARGE, "Data is too large")
    error = error_from_response(413, body, {})
    assert isinstance(error, DataTooLarge)
    assert str(error) == "Data is too large (HTTP 413, Twilio error 54006)"
    limited = error_from_response(429, error_body(TwilioCode.RATE_LIMITED, "slow down"), {"retry-after": "3"})
    assert isinstance(limited, RateLimited) and limited.retry_after == 3.0


async def test_write_over_the_rate_limit_is_rate_limited_and_not_retried() -> None:
    with running_emulator(rate_limit=RateLimit(per_second=1, burst_seconds=1, clock=lambda: 0.0)) as emulator:
        client, recorder = emulator.client()
        await rate_limited_write(emulator, client, recorder)


async def rate_limited_write(emulator: Emulator, client: SyncClient, recorder: Recorder) -> None:
    async with client:
        service = await client.create_service(unique_name="svc")
        sync_map = await client.create_map(service.sid, unique_name="map")
        await client.create_item(service.sid, sync_map.sid, "a", {})  # the bucket's one write
        recorder.requests.clear()
        with raises(RateLimited) as info:
            await client.create_item(service.sid, sync_map.sid, "b", {})
        assert_described(info.value, 54009, 429)
        assert info.value.retry_after == 1.0
        assert len(recorder.requests) == 1 and emulator.sleep.delays == []


# -- retries of reads ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", [503, 500])
async def test_reads_retry_injected_server_errors(emulator: Emulator, status: int) -> None:
    client, recorder = emulator.client(retry=RetryPolicy(attempts=4, base_delay=0.1, max_delay=10))
    async with client:
        service = await client.create_service(unique_name="svc")
        recorder.requests.clear()
        emulator.faults.update({"fail_next": 2, "fail_status": status})
        assert (await client.fetch_service("svc")).sid == service.sid
    assert len(recorder.requests) == 3
    first, second = emulator.sleep.delays
    assert 0.05 <= first <= 0.1 and 0.1 <= second <= 0.2  # base * 2**attempt, jittered down to half


async def test_reads_retry_dropped_connections(emulator: Emulator) -> None:
    client, recorder = emulator.client()
    async with client:
        await client.create_service(unique_name="svc")
        recorder.requests.clear()
        emulator.faults.update({"drop_next": 2})
        assert [service.unique_name async for service in client.list_services()] == ["svc"]
    assert len(recorder.requests) == 3 and len(emulator.sleep.delays) == 2


class ClosingKeptAliveServer:
    """A loopback HTTP/1.1 server that answers the first request of each connection, keeps the
    connection alive, and closes it unanswered when the next request arrives on it: what a server
    whose keep-alive timeout fires just as a request comes looks like to the client."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.server: asyncio.AbstractServer | None = None

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        answered = False
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                request_line = head.split(b"\r\n", 1)[0].decode()
                self.requests.append(request_line)
                length = int(re.search(rb"(?i)content-length: *(\d+)", head)[1]) if b"ength:" in head else 0
                await reader.readexactly(length)
                if answered:
                    break  # the keep-alive timeout fired as this request came: closed unread
                body = json.dumps(item_json()).encode()
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
                             + str(len(body)).encode() + b"\r\n\r\n" + body)
                await writer.drain()
                answered = True
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        writer.close()


async def test_a_read_on_a_kept_alive_connection_closed_as_it_was_sent_goes_again_at_once() -> None:
    """Even under NO_RETRY (the watch's polls): the GET is sent once more, on a new connection. A
    write met the same way is not sent again; its outcome is unknown."""
    server = ClosingKeptAliveServer()
    async with server as base_url:
        credentials = Credentials.auth_token(ACCOUNT_SID, AUTH_TOKEN)
        async with SyncClient(credentials, base_url=base_url, retry=NO_RETRY) as client:
            sids = ("IS" + "0" * 32, "MP" + "0" * 32)
            await client.fetch_item(*sids, "k", retry=NO_RETRY)
            await client.fetch_item(*sids, "k", retry=NO_RETRY)  # met the closing connection
            assert [line.split()[0] for line in server.requests] == ["GET", "GET", "GET"]
            with raises(NetworkError) as lost:
                await client.update_item(*sids, "k", data={"a": 1}, if_match="0")
            assert lost.value.may_have_been_applied
            assert [line.split()[0] for line in server.requests] == ["GET", "GET", "GET", "POST"]


async def test_reads_give_up_after_the_policy_attempts(emulator: Emulator) -> None:
    client, recorder = emulator.client(retry=RetryPolicy(attempts=3, base_delay=0.1, max_delay=1))
    async with client:
        emulator.faults.update({"fail_rate": 1.0})
        with raises(ServerError) as info:
            await client.fetch_service("svc")
        assert_described(info.value, 20503, 503)
        emulator.faults.update({"fail_rate": 0.0, "drop_rate": 1.0})
        with raises(NetworkError, match="could not reach http://emulator.test") as dropped:
            await client.fetch_service("svc")
        assert "write" not in str(dropped.value)
    assert len(recorder.requests) == 6 and len(emulator.sleep.delays) == 4


async def test_no_retry_policy_sends_a_read_once(emulator: Emulator) -> None:
    client, recorder = emulator.client(retry=NO_RETRY)
    async with client:
        emulator.faults.update({"fail_next": 1})
        with raises(ServerError):
            await client.fetch_service("svc")
    assert len(recorder.requests) == 1 and emulator.sleep.delays == []


def test_retry_delays_are_capped_and_jittered() -> None:
    policy = RetryPolicy(attempts=8, base_delay=0.5, max_delay=3.0)
    rng_state = random.getstate()
    try:
        random.seed(1)
        for attempt in range(8):
            capped = min(3.0, 0.5 * 2**attempt)
            draws = [policy.delay(attempt, None) for _ in range(50)]
            assert all(capped / 2 <= draw <= capped for draw in draws)
            assert len(set(draws)) > 1  # jittered: not the same delay every time
    finally:
        random.setstate(rng_state)
    assert policy.delay(0, 2.0) == 2.0  # Retry-After wins over the backoff
    assert policy.delay(5, 0.0) == 0.0
    assert policy.delay(0, 1000.0) == 1000.0  # obeyed as sent; _send refuses to wait past max_retry_after


def rate_limited_then_ok(retry_after: str | None, times: int = 1) -> Callable[[httpx.Request], httpx.Response]:
    state = {"left": times}

    def handler(request: httpx.Request) -> httpx.Response:
        if state["left"] > 0:
            state["left"] -= 1
            headers = {"Retry-After": retry_after} if retry_after is not None else {}
            return httpx.Response(429, json=error_body(TwilioCode.RATE_LIMITED, "Too many requests"), headers=headers)
        return httpx.Response(200, json=item_json())

    return handler


async def test_reads_honour_retry_after_on_429() -> None:
    sleep = FakeSleep()
    policy = RetryPolicy(attempts=3, base_delay=0.1, max_delay=1.0)
    client, seen = mock_client(rate_limited_then_ok("2", times=2), sleep=sleep, retry=policy)
    async with client:
        item = await client.fetch_item("svc", "map", "k")
    assert item.key == "k"
    assert len(seen) == 3 and sleep.delays == [2.0, 2.0]


async def test_a_retry_after_longer_than_the_policy_allows_is_not_waited_out() -> None:
    sleep = FakeSleep()
    policy = RetryPolicy(attempts=3, max_retry_after=10.0)
    client, seen = mock_client(rate_limited_then_ok("60", times=1), sleep=sleep, retry=policy)
    async with client:
        with raises(RateLimited) as info:
            await client.fetch_item("svc", "map", "k")
    assert info.value.retry_after == 60.0
    assert len(seen) == 1 and sleep.delays == []


async def test_429_without_retry_after_backs_off_and_gives_up_as_rate_limited() -> None:
    sleep = FakeSleep()
    client, seen = mock_client(rate_limited_then_ok(None, times=10), sleep=sleep, retry=RetryPolicy(3, 0.2, 1.0))
    async with client:
        with raises(RateLimited) as info:
            await client.fetch_item("svc", "map", "k")
    assert_described(info.value, 54009, 429)
    assert info.value.retry_after is None
    assert len(seen) == 3 and len(sleep.delays) == 2
    assert 0.1 <= sleep.delays[0] <= 0.2 and 0.2 <= sleep.delays[1] <= 0.4


# -- writes are never retried -------------------------------------------------------------------


async def test_writes_are_sent_once_on_a_server_error(emulator: Emulator) -> None:
    client, recorder = emulator.client()
    async with client:
        service = await client.create_service(unique_name="svc")
        sync_map = await client.create_map(service.sid, unique_name="map")
        emulator.faults.update({"fail_rate": 1.0, "methods": WRITE_METHODS})
        recorder.requests.clear()
        for write in (
            lambda: client.create_item(service.sid, sync_map.sid, "k", {}),
            lambda: client.update_item(service.sid, sync_map.sid, "k", data={}, if_match=None),
            lambda: client.delete_item(service.sid, sync_map.sid, "k", if_match=None),
            lambda: client.update_map(service.sid, sync_map.sid, collection_ttl=5),
            lambda: client.delete_map(service.sid, sync_map.sid),
            lambda: client.create_service(),
        ):
            with raises(ServerError):
                await write()
        assert len(recorder.requests) == 6 and emulator.sleep.delays == []


async def test_a_write_whose_connection_drops_is_sent_once_and_may_have_been_applied(emulator: Emulator) -> None:
    client, recorder = emulator.client()
    async with client:
        service = await client.create_service(unique_name="svc")
        await client.create_map(service.sid, unique_name="map")
        emulator.faults.update({"drop_next": 1, "after_commit": True, "methods": WRITE_METHODS})
        recorder.requests.clear()
        with raises(NetworkError, match="may have been applied"):
            await client.create_item(service.sid, "map", "k", {"v": 1})
        assert len(recorder.requests) == 1 and emulator.sleep.delays == []
        emulator.faults.reset()
        assert (await client.fetch_item(service.sid, "map", "k")).data == {"v": 1}  # it was


@pytest.mark.parametrize(
    ("failure", "error", "may_have_been_applied"),
    [
        (httpx.ConnectError, NetworkError, False),  # never left: certainly not applied
        (httpx.ConnectTimeout, RequestTimedOut, False),
        (httpx.PoolTimeout, RequestTimedOut, False),
        (httpx.ReadError, NetworkError, True),  # sent, then the connection died
        (httpx.RemoteProtocolError, NetworkError, True),
        (httpx.WriteTimeout, RequestTimedOut, True),
        (httpx.ReadTimeout, RequestTimedOut, True),
    ],
)
async def test_a_failed_write_says_whether_it_may_have_been_applied(
    failure: type[httpx.TransportError], error: type[SyncError], may_have_been_applied: bool
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise failure("boom", request=request)

    sleep = FakeSleep()
    client, seen = mock_client(handler, sleep=sleep)
    async with client:
        with raises(error) as info:
            await client.update_item("svc", "map", "k", data={}, if_match="3")
    assert ("the write may have been applied" in str(info.value)) is may_have_been_applied
    assert info.value.may_have_been_applied is may_have_been_applied
    assert len(seen) == 1 and sleep.delays == []


# -- timeouts ---------------------------------------------------------------------------------


TIMEOUT = 1.0
"""The impatient client's timeout, in seconds; the injected latency (30 s) is never waited out.
A request without latency must also finish within it, on a loaded CI machine too: not 0.2 s."""
LATENCY = 30.0


@pytest.fixture
async def svc_map(emulator: Emulator) -> tuple[str, str]:
    """Service "svc" and map "map", made through a patient client of their own."""
    setup, _ = emulator.client()
    async with setup:
        service = await setup.create_service(unique_name="svc")
        sync_map = await setup.create_map(service.sid, unique_name="map")
    return service.sid, sync_map.sid


async def test_a_read_that_times_out_is_retried_then_reported(emulator: Emulator, svc_map: tuple[str, str]) -> None:
    client, recorder = emulator.client(timeout=TIMEOUT, retry=RetryPolicy(attempts=2, base_delay=0.1, max_delay=1))
    async with client:
        emulator.faults.update({"latency": LATENCY, "methods": ["GET"]})
        with raises(RequestTimedOut) as info:
            await client.fetch_service("svc")
    assert str(info.value) == "no answer from http://emulator.test in time"  # a read: no word of a write
    assert isinstance(info.value.__cause__, httpx.ReadTimeout)
    assert len(recorder.requests) == 2 and len(emulator.sleep.delays) == 1


async def test_a_read_recovers_when_a_later_attempt_is_in_time(emulator: Emulator, svc_map: tuple[str, str]) -> None:
    async def sleep_then_heal(seconds: float) -> None:
        emulator.sleep.delays.append(seconds)
        emulator.faults.update({"latency": 0.0})  # the fault clears while the client waits to retry

    client, recorder = emulator.client(timeout=TIMEOUT, sleep=sleep_then_heal)
    async with client:
        emulator.faults.update({"latency": LATENCY, "methods": ["GET"]})
        assert (await client.fetch_service("svc")).unique_name == "svc"
    assert len(recorder.requests) == 2 and len(emulator.sleep.delays) == 1


async def test_a_write_that_times_out_is_sent_once_and_may_have_been_applied(
    emulator: Emulator, svc_map: tuple[str, str]
) -> None:
    service_sid, map_sid = svc_map
    client, recorder = emulator.client(timeout=TIMEOUT)
    async with client:
        emulator.faults.update({"latency": LATENCY, "after_commit": True, "methods": WRITE_METHODS})
        with raises(RequestTimedOut) as info:
            await client.create_item(service_sid, map_sid, "k", {"v": 1})
        assert str(info.value) == "no answer from http://emulator.test in time (the write may have been applied)"
        assert len(recorder.requests) == 1 and emulator.sleep.delays == []
        assert isinstance(info.value.__cause__, httpx.ReadTimeout)
    emulator.faults.reset()
    checker, _ = emulator.client()
    async with checker:
        assert (await checker.fetch_item(service_sid, map_sid, "k")).data == {"v": 1}  # and indeed it was


# -- network errors ---------------------------------------------------------------------------


@pytest.fixture
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """httpx reads proxy settings from the environment; loopback must be reached directly."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


async def test_connection_refused_is_a_network_error(no_proxy_env: None) -> None:
    port = closed_loopback_port()
    sleep = FakeSleep()
    client = SyncClient(
        Credentials.auth_token(ACCOUNT_SID, AUTH_TOKEN),
        base_url=f"http://127.0.0.1:{port}",
        retry=RetryPolicy(attempts=2, base_delay=0.1, max_delay=1),
        sleep=sleep,
    )
    async with client:
        with raises(NetworkError, match=rf"could not reach http://127\.0\.0\.1:{port}") as read_error:
            await client.fetch_service("svc")
        assert len(sleep.delays) == 1  # a read is retried
        assert isinstance(read_error.value.__cause__, httpx.ConnectError)
        with raises(NetworkError, match=rf"could not reach http://127\.0\.0\.1:{port}") as write_error:
            await client.create_service(unique_name="svc")
        assert len(sleep.delays) == 1  # a write is not
        assert "may have been applied" not in str(write_error.value)  # refused: nothing was sent
        assert read_error.value.code is None and read_error.value.status is None


# -- malformed responses ------------------------------------------------------------------------


PROXY_PAGE = b"""<html><head><title>502 Bad Gateway</title></head>
<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>"""


async def test_an_html_error_page_from_a_proxy_is_a_server_error() -> None:
    sleep = FakeSleep()
    client, seen = mock_client(
        lambda request: httpx.Response(502, content=PROXY_PAGE, headers={"content-type": "text/html"}), sleep=sleep
    )
    async with client:
        with raises(ServerError) as info:
            await client.fetch_item("svc", "map", "k")
    error = info.value
    assert (error.status, error.code) == (502, None)
    assert str(error) == "the server answered with an error page (HTTP 502)"
    assert "<" not in str(error) and "nginx" not in str(error) and "Traceback" not in str(error)
    assert len(seen) == FAST_RETRY.attempts  # a 502 on a read is worth retrying


async def test_a_non_json_success_is_a_bad_response() -> None:
    client, _ = mock_client(
        lambda request: httpx.Response(200, content=b"<html>hello</html>", headers={"content-type": "text/html"})
    )
    async with client:
        with raises(BadResponse, match=r"not JSON \(HTTP 200, text/html\)") as info:
            await client.fetch_item("svc", "map", "k")
    assert "hello" not in str(info.value)


async def test_a_json_item_missing_a_field_is_a_bad_response_naming_it() -> None:
    body = item_json()
    del body["revision"]
    client, _ = mock_client(lambda request: httpx.Response(200, json=body))
    async with client:
        with raises(BadResponse, match="'revision'"):
            await client.fetch_item("svc", "map", "k")


@pytest.mark.parametrize(
    ("field_name", "value", "complaint"),
    [
        ("revision", 3, "not a string"),
        ("date_created", "2025-03-04 05:06:07", "not a Twilio datetime"),
        ("data", [1, 2], "not a JSON object"),
    ],
)
async def test_a_json_item_with_a_wrong_field_is_a_bad_response(field_name: str, value: Any, complaint: str) -> None:
    client, _ = mock_client(lambda request: httpx.Response(200, json=item_json(**{field_name: value})))
    async with client:
        with raises(BadResponse, match=complaint):
            await client.fetch_item("svc", "map", "k")


async def test_a_body_cut_off_mid_way_is_a_bad_response() -> None:
    cut = json.dumps(item_json()).encode()[:57]
    client, _ = mock_client(
        lambda request: httpx.Response(200, content=cut, headers={"content-type": "application/json"})
    )
    async with client:
        with raises(BadResponse, match="not JSON"):
            await client.fetch_item("svc", "map", "k")


async def test_a_connection_cut_mid_body_on_a_read_is_retried_then_a_network_error(emulator: Emulator) -> None:
    """The emulator's drop promises 1024 bytes and sends 2: the truncation httpx sees on a socket."""
    client, recorder = emulator.client(retry=RetryPolicy(attempts=2, base_delay=0.1, max_delay=1))
    async with client:
        emulator.faults.update({"drop_rate": 1.0})
        with raises(NetworkError) as info:
            await client.fetch_service("svc")
    assert isinstance(info.value.__cause__, httpx.RemoteProtocolError)
    assert len(recorder.requests) == 2


async def test_a_garbled_content_encoding_is_a_bad_response() -> None:
    """httpx raises DecodingError (not a TransportError) when a gzip body does not decode."""
    client, _ = mock_client(
        lambda request: httpx.Response(200, content=b"not gzip at all", headers={"content-encoding": "gzip"})
    )
    async with client:
        with raises(BadResponse, match="could not be decoded"):
            await client.fetch_item("svc", "map", "k")


async def test_a_garbled_content_encoding_on_a_write_may_have_been_applied() -> None:
    client, seen = mock_client(
        lambda request: httpx.Response(201, content=b"not gzip at all", headers={"content-encoding": "gzip"})
    )
    async with client:
        with raises(BadResponse, match="the write may have been applied"):
            await client.create_service(unique_name="svc")
    assert len(seen) == 1


async def test_absurdly_nested_json_is_a_bad_response_not_a_recursion_error() -> None:
    client, _ = mock_client(lambda request: httpx.Response(200, content=b"[" * 100_000 + b"]" * 100_000))
    async with client:
        with raises(BadResponse):
            await client.fetch_item("svc", "map", "k")


@pytest.mark.parametrize(
    "body",
    [
        {"items": []},  # no meta
        {"meta": {"next_page_url": None, "key": "items"}},  # no items
        {"items": {}, "meta": {"next_page_url": None}},  # items not a list
        {"items": [], "meta": {"next_page_url": 42}},  # next_page_url not a string
        [1, 2, 3],  # not an envelope at all
    ],
)
async def test_a_malformed_list_envelope_is_a_bad_response(body: Any) -> None:
    client, _ = mock_client(lambda request: httpx.Response(200, json=body))
    async with client:
        with raises(BadResponse):
            await client.list_item_page("svc", "map")
        with raises(BadResponse):
            await collect(client.list_items("svc", "map"))


async def test_an_error_status_with_an_unexplained_json_body_is_still_typed() -> None:
    client, _ = mock_client(lambda request: httpx.Response(404, json={"oops": True}), retry=NO_RETRY)
    async with client:
        with raises(NotFound, match="did not explain") as info:
            await client.fetch_item("svc", "map", "k")
    assert info.value.status == 404


# -- read-only --------------------------------------------------------------------------------


async def test_read_only_refuses_every_write_and_sends_nothing(emulator: Emulator) -> None:
    writer, _ = emulator.client()
    async with writer:
        service = await writer.create_service(unique_name="svc")
        sync_map = await writer.create_map(service.sid, unique_name="map")
        await writer.create_item(service.sid, sync_map.sid, "k", {"v": 1})

    client, recorder = emulator.client(read_only=True)
    async with client:
        writes = {
            "create_service": lambda: client.create_service(unique_name="other"),
            "delete_service": lambda: client.delete_service(service.sid),
            "create_map": lambda: client.create_map(service.sid, unique_name="m2"),
            "update_map": lambda: client.update_map(service.sid, sync_map.sid, collection_ttl=5),
            "delete_map": lambda: client.delete_map(service.sid, sync_map.sid),
            "create_item": lambda: client.create_item(service.sid, sync_map.sid, "new", {}),
            "update_item": lambda: client.update_item(service.sid, sync_map.sid, "k", data={"v": 2}, if_match=None),
            "delete_item": lambda: client.delete_item(service.sid, sync_map.sid, "k", if_match=None),
        }
        for name, write in writes.items():
            with raises(ReadOnlyRefused, match="read-only"):
                await write()
        assert recorder.requests == []

        # Reads work.
        assert [s.sid for s in await collect(client.list_services())] == [service.sid]
        assert [m.sid for m in await collect(client.list_maps(service.sid))] == [sync_map.sid]
        assert (await client.fetch_service("svc")).sid == service.sid
        assert (await client.fetch_map(service.sid, "map")).sid == sync_map.sid
        assert (await client.fetch_item(service.sid, "map", "k")).data == {"v": 1}
        assert [i.key for i in await collect(client.list_items(service.sid, sync_map.sid))] == ["k"]
        assert all(request.method == "GET" for request in recorder.requests)


# -- secrets ----------------------------------------------------------------------------------


async def test_the_client_repr_does_not_show_the_token(emulator: Emulator) -> None:
    client, _ = emulator.client()
    async with client:
        for text in (repr(client), str(client), repr(client.credentials)):
            assert AUTH_TOKEN not in text and AUTH_HEADER_VALUE not in text
        assert ACCOUNT_SID in repr(client) and BASE_URL in repr(client)


async def test_the_token_travels_only_as_basic_auth(client: SyncClient, recorder: Recorder) -> None:
    await client.create_service(unique_name="svc")
    request = recorder.requests[-1]
    assert request.headers["Authorization"] == f"Basic {AUTH_HEADER_VALUE}"
    assert AUTH_TOKEN.encode() not in request.content and AUTH_TOKEN not in str(request.url)


# -- where the credentials may go ----------------------------------------------------------------


CREDENTIALS = Credentials.auth_token(ACCOUNT_SID, AUTH_TOKEN)


def page_body(next_page_url: str) -> dict:
    return {"services": [], "meta": {"key": "services", "next_page_url": next_page_url}}


@pytest.mark.parametrize(
    "base_url, next_page_url, followed",
    [
        ("https://sync.twilio.com", "https://sync.twilio.com/v1/Services?PageToken=x", True),
        ("https://sync.dublin.ie1.twilio.com", "https://sync.twilio.com/v1/Services?PageToken=x", True),
        ("https://sync.twilio.com", "http://sync.twilio.com/v1/Services?PageToken=x", False),
        ("https://sync.twilio.com", "https://evil.example/v1/Services", False),
        ("http://127.0.0.1:8777", "http://127.0.0.1:8777/v1/Services?PageToken=x", True),
        ("http://127.0.0.1:8777", "http://127.0.0.1:9999/v1/Services", False),
    ],
)
async def test_a_next_page_on_another_host_is_not_followed(base_url, next_page_url, followed) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=page_body(next_page_url))

    client = SyncClient(CREDENTIALS, base_url=base_url, transport=httpx.MockTransport(handler), retry=NO_RETRY)
    async with client:
        if followed:
            page = await client.list_service_page()
            assert page.next_page_url == next_page_url
        else:
            with raises(BadResponse, match="another host"):
                await client.list_service_page()


def test_a_loopback_emulator_is_never_reached_through_a_proxy(monkeypatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.invalid:3128")
    assert SyncClient(CREDENTIALS, base_url="http://127.0.0.1:8777")._http.trust_env is False
    assert SyncClient(CREDENTIALS, base_url="https://sync.twilio.com")._http.trust_env is True
