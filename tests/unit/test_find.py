"""Find in values: the query language (sync/find.py's docstring) and the scan of a whole map."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncmap_tui.emulator import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
from syncmap_tui.emulator.app import create_app
from syncmap_tui.emulator.inprocess import emulator_transport
from syncmap_tui.emulator.store import SyncStore
from syncmap_tui.sync.auth import Credentials
from syncmap_tui.sync.client import NO_RETRY, SyncClient
from syncmap_tui.sync.find import (
    MAX_RATE_LIMIT_WAITS,
    PathQuery,
    ScanGaveUp,
    TextQuery,
    excerpt,
    parse_query,
    scan_map,
)

URL = "http://emulator.test"


def matches(query: str, data: dict) -> bool:
    parsed = parse_query(query)
    assert parsed is not None
    return parsed.matches(data)


# -- the query language -------------------------------------------------------------------------


def test_an_empty_query_finds_nothing_to_do():
    assert parse_query("") is None
    assert parse_query("   ") is None
    assert parse_query("~") is None


def test_text_is_a_substring_of_the_compact_json():
    data = {"status": "failed", "n": 3, "note": "Café"}
    assert matches("failed", data)
    assert matches('"status":"failed"', data)  # compact: no space after the colon
    assert not matches('"status": "failed"', data)
    assert matches('"n":3', data)
    assert matches("café", data)  # non-ASCII as typed, not \u escapes
    assert not matches("missing", data)


def test_text_is_smart_case():
    data = {"name": "Alice"}
    assert matches("alice", data)  # all lower case: ignores case
    assert matches("Alice", data)
    assert not matches("ALICE", data)  # a capital: exact case


def test_path_test_compares_a_bare_word_as_a_string():
    assert matches("status=failed", {"status": "failed"})
    assert not matches("status=failed", {"status": "failed-twice"})
    assert not matches("status=failed", {"other": {"status": "failed"}})
    assert matches("  status =  failed ", {"status": "failed"})


def test_path_test_walks_objects_and_arrays():
    data = {"customer": {"email": "a@b.c", "tags": ["x", {"id": 7}]}}
    assert matches("customer.email=a@b.c", data)
    assert matches("customer.tags.0=x", data)
    assert matches("customer.tags.1.id=7", data)
    assert not matches("customer.tags.2=x", data)
    assert not matches("customer.email.x=a", data)
    assert not matches("nothing=", data)


def test_unquoted_literals_match_the_json_value_and_the_same_spelling_as_a_string():
    assert matches("code=200", {"code": 200})
    assert matches("code=200", {"code": 200.0})  # one number type in JSON
    assert matches("code=200", {"code": "200"})
    assert not matches("code=200", {"code": 201})
    assert matches("ok=true", {"ok": True})
    assert matches("ok=true", {"ok": "true"})
    assert not matches("ok=true", {"ok": 1})  # a bool is not a number
    assert not matches("n=1", {"n": True})
    assert matches("gone=null", {"gone": None})
    assert not matches("gone=null", {})
    assert matches('tags=["a",1]', {"tags": ["a", 1]})
    assert matches('m={"a":1}', {"m": {"a": 1}})


def test_a_quoted_value_matches_only_that_string():
    assert matches('code="200"', {"code": "200"})
    assert not matches('code="200"', {"code": 200})


def test_an_empty_value_matches_the_empty_string():
    assert matches("note=", {"note": ""})
    assert not matches("note=", {"note": None})


def test_what_is_not_a_path_reads_as_text():
    assert isinstance(parse_query("https://x.test/?a=b"), TextQuery)
    assert isinstance(parse_query("two words=x"), TextQuery)
    assert isinstance(parse_query("=x"), TextQuery)
    assert isinstance(parse_query("a.b=c"), PathQuery)


def test_tilde_forces_text():
    query = parse_query("~a=b")
    assert query == TextQuery("a=b")
    assert query.matches({"url": "?a=b"})


def test_excerpt_shows_the_match_or_the_path_value():
    data = {"a": "x" * 100 + "NEEDLE" + "y" * 100}
    shown = excerpt(data, parse_query("needle"), width=30)
    assert "NEEDLE" in shown and len(shown) <= 31
    assert excerpt({"s": {"t": 1}}, parse_query("s.t=1")) == "s.t=1"


# -- the scan -----------------------------------------------------------------------------------


@pytest.fixture
def store():
    with SyncStore(":memory:") as opened:
        yield opened


def seeded(store: SyncStore, items: dict[str, dict]) -> tuple[str, str]:
    service = store.create_service(DEFAULT_ACCOUNT_SID, unique_name="svc")
    sync_map = store.create_map(DEFAULT_ACCOUNT_SID, service.sid, unique_name="m")
    rows = [(key, json.dumps(data), 0) for key, data in items.items()]
    store.create_items(DEFAULT_ACCOUNT_SID, service.sid, sync_map.sid, rows)
    return service.sid, sync_map.sid


class Counting(httpx.AsyncBaseTransport):
    """The emulator's transport, counting requests; `rate_limited` answers 429 that many times."""

    def __init__(self, inner: httpx.AsyncBaseTransport, rate_limited: int = 0, retry_after: str | None = "3") -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []
        self.rate_limited = rate_limited
        self.retry_after = retry_after

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.rate_limited:
            self.rate_limited -= 1
            headers = {"Retry-After": self.retry_after} if self.retry_after else {}
            body = {"code": 54009, "message": "Too many requests", "more_info": "", "status": 429}
            return httpx.Response(429, json=body, headers=headers)
        return await self.inner.handle_async_request(request)


def client_for(store: SyncStore, **kwargs) -> tuple[SyncClient, Counting]:
    app = create_app(store, account_sid=DEFAULT_ACCOUNT_SID, auth_token=DEFAULT_AUTH_TOKEN)
    transport = Counting(emulator_transport(app), **kwargs)
    credentials = Credentials.auth_token(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN)
    return SyncClient(credentials, base_url=URL, transport=transport, retry=NO_RETRY), transport


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def collect(steps) -> list:
    return [step async for step in steps]


async def test_a_scan_tests_every_item_page_by_page(store):
    items = {f"k{i:03}": {"status": "failed" if i % 7 == 0 else "ok", "i": i} for i in range(250)}
    service_sid, map_sid = seeded(store, items)
    client, transport = client_for(store)
    time = FakeTime()
    steps = await collect(
        scan_map(client, service_sid, map_sid, parse_query("status=failed"), sleep=time.sleep, clock=time.clock)
    )
    assert [s.scanned for s in steps] == [100, 200, 250]
    assert steps[-1].done and not steps[0].done
    found = [item.key for step in steps for item in step.matches]
    assert found == [f"k{i:03}" for i in range(0, 250, 7)]
    assert len(transport.requests) == 3
    assert all(r.method == "GET" for r in transport.requests)  # read-only
    assert time.slept == [pytest.approx(0.1), pytest.approx(0.1)]  # paced: 10 pages a second at most


async def test_a_scan_stops_at_the_cap(store):
    service_sid, map_sid = seeded(store, {f"k{i:03}": {"x": 1} for i in range(250)})
    client, transport = client_for(store)
    steps = await collect(scan_map(client, service_sid, map_sid, parse_query("x=1"), max_matches=150, min_seconds_between_pages=0))
    assert steps[-1].capped and steps[-1].done
    assert sum(len(s.matches) for s in steps) == 150
    assert len(transport.requests) == 2  # no third page


async def test_a_scan_waits_out_429_and_asks_for_the_same_page_again(store):
    service_sid, map_sid = seeded(store, {f"k{i:03}": {"x": i} for i in range(150)})
    client, transport = client_for(store, rate_limited=2, retry_after="3")
    time = FakeTime()
    steps = await collect(scan_map(client, service_sid, map_sid, parse_query("x=140"), sleep=time.sleep, clock=time.clock))
    assert [s.waiting_seconds for s in steps[:2]] == [3.0, 3.0]
    assert 3.0 in time.slept
    assert [item.key for s in steps for item in s.matches] == ["k140"]
    assert steps[-1].scanned == 150


async def test_a_scan_gives_up_after_429_after_429(store):
    service_sid, map_sid = seeded(store, {"a": {}})
    client, transport = client_for(store, rate_limited=100, retry_after=None)
    time = FakeTime()
    with pytest.raises(ScanGaveUp):
        await collect(scan_map(client, service_sid, map_sid, parse_query("x"), sleep=time.sleep, clock=time.clock))
    assert len(transport.requests) == MAX_RATE_LIMIT_WAITS + 1


async def test_cancelling_a_scan_sends_no_further_request(store):
    service_sid, map_sid = seeded(store, {f"k{i:03}": {} for i in range(500)})
    client, transport = client_for(store)
    first_page = asyncio.Event()

    async def run() -> None:
        async for _ in scan_map(client, service_sid, map_sid, parse_query("x"), min_seconds_between_pages=30):
            first_page.set()

    task = asyncio.create_task(run())
    await first_page.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0)
    assert len(transport.requests) == 1


@given(
    st.text(max_size=40),
    st.dictionaries(
        st.text(max_size=8),
        st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12)),  # NaN too
        max_size=4,
    ),
)
def test_any_query_parses_and_tests_any_data_without_raising(text, data):
    query = parse_query(text)
    if query is not None:
        assert query.matches(data) in (True, False)
        excerpt(data, query)


@given(st.text(st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters='"\\~'), min_size=1, max_size=12).filter(str.strip))
def test_text_that_json_writes_as_typed_is_found_in_any_value(word):
    """JSON escapes only quotes, backslashes and controls: any other text is found as typed."""
    query = parse_query(word)
    assert query is not None
    if isinstance(query, TextQuery):
        assert query.matches({"field": f"before {word} after"})


def test_an_item_holding_nan_is_tested_not_a_reason_to_stop():
    data = {"ratio": float("nan"), "status": "failed"}
    assert matches("failed", data)
    assert matches("NaN", data)
    assert not matches("ratio=1", data)
    assert "NaN" in excerpt(data, parse_query("ratio"))
