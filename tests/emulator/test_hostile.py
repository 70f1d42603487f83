"""Requests an attacker or a fuzzer sends: a path that is not UTF-8, a hostile page token, control
input out of range, bodies far over any request's size, a webhook URL that is not one, and the ETag
echoed back as If-Match. Each case here once answered a 5xx, acted on the wrong thing, or stored
what then broke the spec on every page that held it."""

from __future__ import annotations

import base64
import json
import socket
import string
from urllib.parse import quote, urlsplit

import pytest
from emulator_support import ACCOUNT_SID, AUTH_TOKEN, ThreadedServer, is_absolute_uri, store_rows
from hypothesis import given, settings
from hypothesis import strategies as st
from property_runs import short_and_long

from syncmap_tui.emulator.app import MAX_BODY_BYTES
from syncmap_tui.emulator.errors import EmulatorError
from syncmap_tui.emulator.services import _webhook_url
from syncmap_tui.sync.errors import TwilioCode, error_body
from syncmap_tui.sync.validation import MAX_DATA_BYTES, MAX_KEY_LENGTH

ITEMS = "/v1/Services/svc/Maps/map/Items"


def assert_twilio_error(response, code: TwilioCode, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.json() == error_body(code, response.json()["message"], status)


# A path or query that is not UTF-8


@pytest.mark.parametrize("escaped", ["%FE", "%C0%AF", "%ED%A0%80", "a%FFb", "%EF%BF"])
async def test_a_path_that_is_not_utf8_is_refused_and_acts_on_nothing(client, sync, sync_map, store, escaped):
    # "\ufffd" is what each of these became when invalid bytes were replaced: DELETE …/%FE deleted it.
    await sync.item("\ufffd")
    before = store_rows(store)
    for method, form in (("DELETE", None), ("POST", {"Data": "{}"}), ("GET", None)):
        response = await client.request(method, f"{ITEMS}/{escaped}", data=form)
        assert_twilio_error(response, TwilioCode.BAD_REQUEST, 400)
        assert "UTF-8" in response.json()["message"]
    for path in (f"/v1/Services/{escaped}", f"/v1/Services/svc/Maps/{escaped}/Items", f"/__emulator__/{escaped}"):
        assert_twilio_error(await client.get(path), TwilioCode.BAD_REQUEST, 400)
    assert store_rows(store) == before


async def test_a_query_that_is_not_utf8_is_refused(client, sync_map):
    assert_twilio_error(await client.get(f"{ITEMS}?From=%FE"), TwilioCode.BAD_REQUEST, 400)


async def test_a_valid_escape_still_names_its_key(client, sync, sync_map):
    await sync.item("\ufffd")
    assert (await client.get(f"{ITEMS}/%EF%BF%BD")).json()["key"] == "\ufffd"


# A page token holding a lone surrogate


def page_token(position: str) -> str:
    raw = f'[0,"{position}",0]'.encode("ascii")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


async def test_a_page_token_with_an_escaped_lone_surrogate_is_refused(client, sync, sync_map):
    await sync.item("k")
    response = await client.get(ITEMS, params={"PageToken": page_token("\\ud800")})
    assert_twilio_error(response, TwilioCode.INVALID_PAGE_TOKEN, 400)
    # A paired surrogate escape is a real character, and a fine position.
    assert (await client.get(ITEMS, params={"PageToken": page_token("\\ud83d\\ude00")})).status_code == 200


@pytest.mark.parametrize("position", ["99999999999999999999999", "-99999999999999999999999", "9223372036854775808", "-1"])
@pytest.mark.parametrize("path", ["/v1/Services", "/v1/Services/svc/Maps"])
async def test_a_page_token_past_sqlites_integers_is_refused(client, sync_map, path, position):
    # SQLite's INTEGER is 64 bits: a larger position raised OverflowError, a 500.
    token = base64.urlsafe_b64encode(f"[0,{position},0]".encode()).decode("ascii").rstrip("=")
    assert_twilio_error(await client.get(path, params={"PageToken": token}), TwilioCode.INVALID_PAGE_TOKEN, 400)


json_positions = st.one_of(
    st.integers(), st.text(), st.floats(), st.booleans(), st.none(), st.lists(st.integers(), max_size=2)
)


# The default suite runs 75 examples (~0.3 s of CPU; 150 took ~0.6 s); `pytest -m fuzz` runs 600.
@short_and_long(
    settings(deadline=None),
    75,
    600,
    given(
        st.sampled_from(["/v1/Services", "/v1/Services/svc/Maps", ITEMS]),
        st.tuples(st.integers(-2, 2) | st.booleans(), json_positions, st.integers(-2, 2) | st.booleans()),
        st.integers(1, 3),
    ),
)
def test_any_page_token_gets_a_page_or_54453(path, cursor, page_size):
    """Page tokens are opaque to clients but not to attackers: whatever JSON one holds, the answer
    is a page or 54453, never a 5xx."""
    import asyncio

    from emulator_support import make_client

    from syncmap_tui.emulator.app import create_app
    from syncmap_tui.emulator.store import SyncStore

    async def ask() -> None:
        with SyncStore(":memory:") as store:
            store.create_service(ACCOUNT_SID, unique_name="svc")
            store.create_map(ACCOUNT_SID, "svc", unique_name="map")
            store.create_items(ACCOUNT_SID, "svc", "map", [(key, "{}", 0) for key in ("a", "b", "c")])
            async with make_client(create_app(store, account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN)) as client:
                raw = json.dumps(list(cursor)).encode("utf-8", "surrogatepass")
                token = base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")
                response = await client.get(path, params={"PageToken": token, "PageSize": str(page_size)})
        assert response.status_code in (200, 400), response.text
        if response.status_code == 400:
            assert response.json()["code"] == TwilioCode.INVALID_PAGE_TOKEN

    asyncio.run(ask())


# Control input


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 30_000 + b"]" * 30_000,
        b'{"latency": ' + b"[" * 20_000 + b"]" * 20_000 + b"}",
        b'{"fail_status": 503.5}',
        b'{"fail_status": true}',
        b'{"fail_status": "503"}',
        b'{"fail_next": 1.5}',
        b'{"fail_next": -1}',
        b'{"drop_next": false}',
        b'{"fail_rate": NaN}',
        b'{"latency": Infinity}',
        b'{"latency": 1e308}',
        b'{"latency": [0]}',
        b'{"latency": [0, 1, 2]}',
        b'{"latency": "1"}',
        b'{"methods": [[1]]}',
        b'{"methods": [1]}',
        b'{"methods": ["GET", "\\ud800"]}',
        b'{"methods": ["G E T"]}',
        b'{"methods": {"GET": 1}}',
        b'{"after_commit": "yes"}',
        b'{"seed": {}}',
        b'{"seed": 1.5}',
        b'{"\\ud800": 1}',
        b'"\xff"',
    ],
    ids=lambda body: body[:24].decode("latin-1") + (f"...({len(body):,} bytes)" if len(body) > 24 else ""),
)
async def test_fault_settings_are_checked_like_api_input(client, app, sync_map, body):
    before = app.state.faults.as_dict()
    response = await client.post("/__emulator__/faults", content=body)
    assert_twilio_error(response, TwilioCode.BAD_REQUEST, 400)
    assert app.state.faults.as_dict() == before
    assert (await client.get("/v1/Services")).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"per_second": 1e-320},
        {"per_second": 0},
        {"per_second": 1e300},
        {"burst_seconds": 1e-320},
        {"burst_seconds": 1e9},
        {"per_second": True},
        {"per_second": "2"},
        {"per_second": None},
        {"enabled": "no"},
        {"enabled": None},
    ],
    ids=json.dumps,
)
async def test_rate_limit_settings_are_checked(client, app, sync_map, body):
    response = await client.post("/__emulator__/rate-limit", json=body)
    assert_twilio_error(response, TwilioCode.BAD_REQUEST, 400)
    assert app.state.api.rate_limit is None
    assert (await client.post(ITEMS, data={"Key": "k", "Data": "{}"})).status_code == 201


async def test_the_slowest_rate_limit_answers_429_not_500(client, sync_map):
    assert (await client.post("/__emulator__/rate-limit", json={"per_second": 0.001, "burst_seconds": 0.001})).status_code == 200
    assert (await client.post(ITEMS, data={"Key": "a", "Data": "{}"})).status_code == 201
    limited = await client.post(ITEMS, data={"Key": "b", "Data": "{}"})
    assert_twilio_error(limited, TwilioCode.RATE_LIMITED, 429)
    assert limited.headers["retry-after"] == "1000"


async def test_an_injected_failure_status_is_what_was_set(client, sync_map):
    assert (await client.post("/__emulator__/faults", json={"fail_next": 1, "fail_status": 599})).status_code == 200
    assert (await client.get("/v1/Services")).status_code == 599


# Request size


class CountingBody:
    """A request body streamed in chunks, counting what the server pulled."""

    def __init__(self, chunk_size: int, chunks: int) -> None:
        self.chunk = b"a" * chunk_size
        self.chunks = chunks
        self.pulled = 0

    async def __aiter__(self):
        for _ in range(self.chunks):
            self.pulled += len(self.chunk)
            yield self.chunk


@pytest.mark.parametrize("path", [ITEMS, f"{ITEMS}/k", "/v1/Services", "/__emulator__/faults"])
async def test_a_body_over_the_limit_is_refused_from_its_content_length_unread(client, sync_map, store, path):
    before = store_rows(store)
    body = CountingBody(1 << 20, 300)  # 300 MB
    response = await client.post(path, content=body, headers={"Content-Length": str(300 << 20)})
    assert_twilio_error(response, TwilioCode.DATA_TOO_LARGE, 413)
    assert body.pulled == 0
    assert store_rows(store) == before


@pytest.mark.parametrize("path", [ITEMS, "/__emulator__/faults"])
async def test_a_chunked_body_over_the_limit_is_refused_once_past_it(client, sync_map, store, path):
    before = store_rows(store)
    chunk_size = 16 * 1024
    body = CountingBody(chunk_size, (300 << 20) // chunk_size)
    response = await client.post(path, content=body)
    assert_twilio_error(response, TwilioCode.DATA_TOO_LARGE, 413)
    assert body.pulled <= MAX_BODY_BYTES + chunk_size
    assert store_rows(store) == before


async def test_an_unreadable_content_length_is_refused(client, sync_map):
    response = await client.post(ITEMS, content=b"Key=k&Data={}", headers={"Content-Length": "12x"})
    assert_twilio_error(response, TwilioCode.BAD_REQUEST, 400)


async def test_the_largest_valid_request_is_under_the_limit(client, sync_map):
    # Every byte of Data form-encodes to three ('"' is %22) and the key is 320 four-byte characters.
    data = json.dumps({"v": '"' * ((MAX_DATA_BYTES - 8) // 2)}, separators=(",", ":"))
    assert len(data) == MAX_DATA_BYTES
    key = "😀" * MAX_KEY_LENGTH
    body = f"Key={quote(key, safe='')}&Data={quote(data, safe='')}&ItemTtl=31536000&CollectionTtl=31536000"
    assert len(body) > 3 * MAX_DATA_BYTES
    response = await client.post(
        ITEMS, content=body.encode("ascii"), headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 201, response.text


def test_a_huge_content_length_over_a_socket_is_answered_without_waiting_for_the_body(server: ThreadedServer):
    url = urlsplit(server.url)
    credentials = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
    head = (
        f"POST /v1/Services HTTP/1.1\r\nHost: {url.netloc}\r\nAuthorization: Basic {credentials}\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {300 << 20}\r\n\r\n"
    )
    with socket.create_connection((url.hostname, url.port), timeout=10) as conn:
        conn.sendall(head.encode("ascii"))  # and not one byte of the 300 MB it announces
        answer = b""
        while b"\r\n\r\n" not in answer:
            received = conn.recv(65536)
            assert received, answer
            answer += received
    assert answer.startswith(b"HTTP/1.1 413 "), answer


# WebhookUrl


@pytest.mark.parametrize(
    "url",
    ["0", "not a url\n", "ftp://example.com/hook", "http://", "/hook", "example.com/hook", "http://exa mple.com",
     "http://[::1", "http://example.com:99999/", "http://example.com/%zz", "https://example.com/\x00",
     "javascript:alert(1)", "http:///path", "http://a/[x]", "http://a/?q=[", "http://a/#a#b", "http://[1.2.3.4]/",
     "http://é.example/", "http://a/\u00e9"],
)
async def test_webhook_url_must_be_an_absolute_http_url(client, sync, url):
    created = await client.post("/v1/Services", data={"WebhookUrl": url})
    assert_twilio_error(created, TwilioCode.BAD_REQUEST, 400)
    service = await sync.service(WebhookUrl="https://example.com/hook")
    updated = await client.post("/v1/Services/svc", data={"WebhookUrl": url, "FriendlyName": "changed"})
    assert_twilio_error(updated, TwilioCode.BAD_REQUEST, 400)
    assert (await client.get("/v1/Services/svc")).json() == service
    # The page that holds the service still matches the spec (the client's hook checks each page).
    assert (await client.get("/v1/Services")).status_code == 200


@pytest.mark.parametrize(
    "url",
    ["https://example.com/hook", "http://127.0.0.1:8080/a?b=c#d", "HTTPS://EXAMPLE.COM", "http://[::1]:80/%20x",
     "http://user:pw@example.com:65535/a;b?c=d&e#f/g?h", "http://[v1.x]/"],
)
async def test_webhook_url_accepts_absolute_http_urls_and_empty_unsets_it(client, sync, url):
    service = await sync.service(WebhookUrl=url)
    assert service["webhook_url"] == url
    assert (await client.post("/v1/Services/svc", data={"WebhookUrl": ""})).json()["webhook_url"] is None


# ETag and If-Match


async def test_the_etag_echoed_back_as_if_match_matches(client, sync, sync_map):
    await sync.item("k")
    fetched = await client.get(f"{ITEMS}/k")
    assert fetched.headers["etag"] == fetched.json()["revision"]
    updated = await client.post(f"{ITEMS}/k", data={"Data": '{"n":1}'}, headers={"If-Match": fetched.headers["etag"]})
    assert updated.status_code == 200, updated.text
    assert updated.headers["etag"] == updated.json()["revision"] != fetched.json()["revision"]
    deleted = await client.delete(f"{ITEMS}/k", headers={"If-Match": updated.headers["etag"]})
    assert deleted.status_code == 204


@pytest.mark.parametrize("if_match", ['"0"', "W/0", 'W/"0"', "*", "00", ""])
async def test_if_match_is_compared_exactly(client, sync, sync_map, store, if_match):
    await sync.item("k")
    before = store_rows(store)
    for response in (
        await client.post(f"{ITEMS}/k", data={"Data": "{}"}, headers={"If-Match": if_match}),
        await client.delete(f"{ITEMS}/k", headers={"If-Match": if_match}),
    ):
        assert_twilio_error(response, TwilioCode.REVISION_MISMATCH, 412)
    assert store_rows(store) == before


URL_ALPHABET = string.ascii_letters + string.digits + "-._~:/?#[]@!$&'()*+,;=%" + "é \n\x00\\"


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["http://", "https://", "HTTP://", "ftp://", "http:", ""]),
    st.sampled_from(["example.com", "a", "u:p@a", "[::1]", "[v1.x]", "[1.2.3.4]", "a:80", "a:99999", "", "a]"]),
    st.text(alphabet=URL_ALPHABET, max_size=30),
)
def test_whatever_webhook_url_the_emulator_takes_is_a_uri(scheme, host, rest):
    """sync-api-notes.md: what the emulator accepts as WebhookUrl must be a URI (the spec's
    `format: uri`, checked here with the validator Schemathesis uses) or empty."""
    value = scheme + host + rest
    try:
        stored = _webhook_url(value, "WebhookUrl")
    except EmulatorError:
        return
    assert stored is None or is_absolute_uri(stored), value
