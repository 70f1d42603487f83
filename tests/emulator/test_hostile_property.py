"""Hypothesis against the emulator's HTTP surface: hostile paths, queries, forms, headers and control input.

Every request goes to the ASGI app as sent (see `call_asgi`: no client normalises it first), and
each must hold three things: no 5xx and a complete response; a 4xx is Twilio's exact error body;
and nothing changes in the store that the request did not name (a write names its item and, for
the revision it bumps, the item's map; a delete of a map or service names what it holds).

The default runs are short (`SHORT` examples), `pytest -m fuzz` runs `LONG`. At 125 the five take
~1.7 s of CPU (serial; 3.4 s at 250) and cover about as much of the emulator and `sync/` as 250
did: the gap is the size of what one seed differs from another (coverage.py, two seeds each:
1,378 and 1,393 of 3,782 statements at 125, 1,392 and 1,400 at 250). LONG stays 3,000.
"""

from __future__ import annotations

import asyncio
import base64
import json
import string
from typing import Any, Callable
from urllib.parse import quote, quote_from_bytes, unquote_to_bytes

import pytest
from emulator_support import ACCOUNT_SID, AUTH_TOKEN, FakeClock, RawResponse, call_asgi, check_against_spec, store_rows
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncmap_tui.emulator.app import create_app, parse_pairs
from syncmap_tui.emulator.faults import Faults
from syncmap_tui.emulator.store import SyncStore
from syncmap_tui.sync.errors import TwilioCode, error_body

SHORT = 125
LONG = 3000
RUNS = [pytest.param(SHORT, id="short"), pytest.param(LONG, id="long", marks=pytest.mark.fuzz)]

KEYS = ["k", "\ufffd", ".", "..", "a/b", "%FE", "a b", "\x00", "😀", "é", "K"]
"""Seeded item keys, among them what a careless decoder turns hostile paths into."""


class World:
    """A seeded emulator, called on one event loop for the whole test (one per test, not per example)."""

    def __init__(self) -> None:
        self.store = SyncStore(":memory:", clock=FakeClock())
        self.faults = Faults(seed=1)
        self.app = create_app(self.store, account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, faults=self.faults)
        self.runner = asyncio.Runner()
        for service in ("svc", "other"):
            self.store.create_service(ACCOUNT_SID, unique_name=service, webhook_url="https://example.com/hook")
        for service, sync_map in (("svc", "map"), ("svc", "second"), ("other", "map")):
            self.store.create_map(ACCOUNT_SID, service, unique_name=sync_map)
            self.store.create_items(ACCOUNT_SID, service, sync_map, [(key, '{"v":1}', 0) for key in KEYS])

    def __enter__(self) -> "World":
        return self

    def __exit__(self, *exc: object) -> None:
        self.runner.close()
        self.store.close()

    def send(self, method: str, raw_path: bytes, **kwargs: Any) -> RawResponse:
        return self.runner.run(call_asgi(self.app, method, raw_path, **kwargs))

    def check(self, method: str, raw_path: bytes, *, body: bytes = b"", **kwargs: Any) -> RawResponse:
        """Send a request; fail on a 5xx, a malformed error, or a change the request did not name."""
        before = store_rows(self.store)
        response = self.send(method, raw_path, body=body, **kwargs)
        after = store_rows(self.store)
        assert_well_formed(response, method, raw_path)
        allowed = allowed_changes(before, method, raw_path, body)
        changed = {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}
        unnamed = {name for name in changed if not allowed(name, name not in before)}
        assert not unnamed, f"{method} {raw_path!r} changed {unnamed} ({response.status})"
        return response


def assert_well_formed(response: RawResponse, method: str, raw_path: bytes) -> None:
    assert response.complete
    assert response.status < 500, (method, raw_path, response.status, response.body[:500])
    if response.status >= 400:
        body = json.loads(response.body)
        assert body == error_body(TwilioCode(body["code"]), body["message"], response.status), body
    elif 200 <= response.status < 300 and raw_path.startswith(b"/v1/"):
        check_against_spec(method, raw_path.decode("ascii"), response.status, response.body)


def allowed_changes(
    before: dict[tuple[str, ...], tuple[Any, ...]], method: str, raw_path: bytes, body: bytes
) -> Callable[[tuple[str, ...], bool], bool]:
    """What a request may change: a predicate over (row name, whether the row is new)."""
    nothing: Callable[[tuple[str, ...], bool], bool] = lambda name, new: False
    try:
        segments = [unquote_to_bytes(part).decode("utf-8") for part in raw_path.split(b"/")[1:]]
    except UnicodeDecodeError:
        return nothing
    if method not in ("POST", "DELETE") or segments[:2] != ["v1", "Services"]:
        return nothing
    services = {name[1]: row for name, row in before.items() if name[0] == "service"}
    maps = {name[1]: row for name, row in before.items() if name[0] == "map"}

    def service_ids(ref: str) -> set[int]:  # services rows: (id, sid, account_sid, unique_name, ...)
        return {row[0] for sid, row in services.items() if ref in (sid, row[3])}

    def map_sids(service_ref: str, ref: str) -> set[str]:  # maps rows: (id, sid, service_id, unique_name, ...)
        owners = service_ids(service_ref)
        return {sid for sid, row in maps.items() if row[2] in owners and ref in (sid, row[3])}

    def maps_of(owners: set[int]) -> set[str]:
        return {sid for sid, row in maps.items() if row[2] in owners}

    rest = segments[2:]
    if len(rest) == 0 and method == "POST":  # create a service
        return lambda name, new: new and name[0] == "service"
    if len(rest) == 1:
        owners = service_ids(rest[0])
        sids = {sid for sid, row in services.items() if row[0] in owners}
        if method == "POST":
            return lambda name, new: name[0] == "service" and name[1] in sids
        held = maps_of(owners)
        return lambda name, new: (name[0] == "service" and name[1] in sids) or (name[0] != "service" and name[1] in held)
    if len(rest) == 2 and rest[1] == "Maps" and method == "POST":  # create a map
        return lambda name, new: new and name[0] == "map"
    if len(rest) == 3 and rest[1] == "Maps":
        targets = map_sids(rest[0], rest[2])
        if method == "POST":
            return lambda name, new: name[0] == "map" and name[1] in targets
        return lambda name, new: name[0] in ("map", "item") and name[1] in targets
    if len(rest) in (4, 5) and rest[1] == "Maps" and rest[3] == "Items":
        targets = map_sids(rest[0], rest[2])
        key = rest[4] if len(rest) == 5 else parse_pairs(body, "surrogateescape").get("Key")
        return lambda name, new: name[1] in targets and (name[0] == "map" or (name[0] == "item" and name[2] == key))
    return nothing


# Strategies

HOSTILE_SEGMENTS = [
    ".", "..", "%2e", "%2E%2E", "%2e%2e%2f", "", "%00", "%2F", "%FE", "%FF%FE", "%C0%AF", "%C0%AE", "%ED%A0%80",
    "%EF%BF%BD", "%F4%90%80%80", "%E2%80%AE", "%1B%5B31m", "%", "%%", "%G0", "%2", "a%2Fb", "%0A", "%0D%0A",
]
KNOWN_SEGMENTS = ["v1", "Services", "Maps", "Items", "svc", "other", "map", "second", "k", "K", "a%2Fb", "__emulator__"]

percent_escaped_bytes = st.binary(min_size=1, max_size=12).map(lambda raw: "".join(f"%{byte:02X}" for byte in raw))
def weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """One of the strategies, each drawn in proportion to its weight (st.one_of merges sampled_from
    branches into one uniform choice, which would drown the few segments that matter)."""
    indices = [index for index, (weight, _) in enumerate(choices) for _ in range(weight)]
    return st.sampled_from(indices).flatmap(lambda index: choices[index][1])


segments = weighted(
    (2, st.sampled_from(KNOWN_SEGMENTS)),
    (3, st.sampled_from(HOSTILE_SEGMENTS)),  # the listed escapes are the ones that broke something once
    (1, st.sampled_from([quote(key, safe="") for key in KEYS])),
    (2, percent_escaped_bytes),
    (1, st.text(max_size=20).map(lambda text: quote(text, safe=""))),
    (1, st.text(alphabet=string.ascii_letters + string.digits + "-._~!$&'()*+,;=:@%", max_size=20)),
    (1, st.integers(300, 70_000).map(lambda length: "k" * length)),
)


@st.composite
def paths(draw: st.DrawFn) -> bytes:
    """Mostly the routes' shapes with some segments hostile, sometimes any list of segments."""
    shape = draw(st.sampled_from([
        ["v1", "Services", None],
        ["v1", "Services", "svc", "Maps", None],
        ["v1", "Services", "svc", "Maps", "map", "Items", None],
        ["v1", "Services", "svc", "Maps", "map", "Items", None],
        ["v1", "Services", "svc", "Maps", "map", "Items", None],
        ["v1", "Services", None, "Maps", None, "Items", None],
        ["v1", "Services", "svc", "Maps", "map", "Items"],
        ["v1", None, None],
        ["__emulator__", None],
        None,
    ]))
    if shape is None:
        parts = draw(st.lists(segments, max_size=9))
    else:
        parts = [draw(segments) if part is None else part for part in shape]
        if draw(st.booleans()) and draw(st.booleans()):  # now and then, one known segment turned hostile too
            index = draw(st.integers(0, len(parts) - 1))
            parts[index] = draw(segments)
    return ("/" + "/".join(parts)).encode("ascii")


FORM_NAMES = ["Key", "Data", "Ttl", "ItemTtl", "CollectionTtl", "UniqueName", "FriendlyName", "WebhookUrl",
              "AclEnabled", "ReachabilityDebouncingWindow", "WebhooksFromRestEnabled"]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=10),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=12,
)
form_values = st.one_of(
    st.binary(max_size=40),  # any bytes, invalid UTF-8 included
    st.text(max_size=40).map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.sampled_from([b"", b"0", b"-1", b"31536000", b"31536001", b"1e3", b"true", b"TRUE", b"yes", b"\x00",
                     b"{}", b"[]", b"null", b'{"a":NaN}', b'{"a":1e999}', b'"\\ud800"', b'{"\\ud800":1}',
                     b"https://example.com/h", b"http://[::1", b"a" * 400]),
    json_values.map(lambda value: json.dumps({"v": value}).encode()),
    st.integers(16_000, 70_000).map(lambda size: b'{"v":"' + b"x" * size + b'"}'),
    st.integers(1, 30).map(lambda depth: b"[" * (depth * 100) + b"]" * (depth * 100)),
)


@st.composite
def form_bodies(draw: st.DrawFn) -> bytes:
    """Form bodies with duplicate fields, huge values, NULs and invalid UTF-8; sometimes not a form at all."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=200))
    fields = draw(st.lists(st.tuples(st.sampled_from(FORM_NAMES) | st.text(max_size=8), form_values), max_size=6))
    encode = draw(st.sampled_from(["quote", "raw"]))
    parts = []
    for name, value in fields:
        encoded_name = quote(name.encode("utf-8", "surrogatepass"), safe="")
        parts.append(f"{encoded_name}={quote_from_bytes(value, safe='') if encode == 'quote' else value.decode('latin-1')}")
    return "&".join(parts).encode("latin-1")


header_text = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=255), max_size=40),
    st.sampled_from(['"0"', "0", "1", "*", "W/0", 'W/"0"', "", " ", "0, 1", "\x00", "9" * 400]),
)
content_types = st.sampled_from([
    "application/x-www-form-urlencoded", "application/json", "multipart/form-data; boundary=x", "text/plain",
    "application/x-www-form-urlencoded; charset=latin-1", "", "\x00garbage",
])
methods = weighted(
    (3, st.sampled_from(["DELETE", "POST"])),
    (1, st.sampled_from(["GET", "PUT", "PATCH", "HEAD", "OPTIONS", "TRACE", "get", "X"])),
)


def run(examples: int, test: Callable[..., None], *strategies: st.SearchStrategy[Any]) -> None:
    given(*strategies)(settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))(test))()


# Tests


@pytest.mark.parametrize("examples", RUNS)
def test_hostile_paths(examples):
    with World() as world:
        def check(method, raw_path):
            world.check(method, raw_path, body=b"Data=%7B%7D" if method == "POST" else b"")

        run(examples, check, methods, paths())


@pytest.mark.parametrize("examples", RUNS)
def test_hostile_forms(examples):
    with World() as world:
        def check(raw_path, body, content_type):
            world.check("POST", raw_path, body=body, headers=[(b"content-type", content_type.encode("latin-1"))])

        form_paths = st.sampled_from([
            b"/v1/Services", b"/v1/Services/svc", b"/v1/Services/svc/Maps", b"/v1/Services/svc/Maps/map",
            b"/v1/Services/svc/Maps/map/Items", b"/v1/Services/svc/Maps/map/Items/k",
            b"/v1/Services/svc/Maps/second/Items/" + quote("😀").encode(),
        ])
        run(examples, check, form_paths, form_bodies(), content_types)


@pytest.mark.parametrize("examples", RUNS)
def test_hostile_headers(examples):
    with World() as world:
        def check(method, raw_path, if_match, authorization, content_type, content_length):
            headers = [
                (b"if-match", if_match.encode("latin-1")),
                (b"content-type", content_type.encode("latin-1")),
            ]
            if content_length is not None:
                headers.append((b"content-length", content_length.encode("latin-1")))
            body = b"Data=%7B%7D&Key=k2" if method == "POST" else b""
            if authorization is None:
                world.check(method, raw_path, body=body, headers=headers)
            else:  # someone else's credentials, or garbage: refused before anything is read
                response = world.check(
                    method, raw_path, body=body, headers=[*headers, (b"authorization", authorization)], authorized=False
                )
                assert response.status == 401

        item_paths = st.sampled_from([b"/v1/Services/svc/Maps/map/Items/k", b"/v1/Services/svc/Maps/map/Items",
                                      b"/v1/Services/svc/Maps/map/Items/%2E", b"/v1/Services/other"])
        authorizations = st.one_of(
            st.none(),
            st.binary(max_size=60),
            st.sampled_from([b"Basic", b"Basic ", b"Basic !!!", b"Bearer x", b"basic Og==", b"Basic QUM6",
                             b"Basic " + b"A" * 10_000]),
        )
        content_lengths = st.none() | st.sampled_from(["0", "5", "-1", "abc", "99999999999999999999", " 12", "1e3"])
        run(examples, check, st.sampled_from(["POST", "DELETE", "GET"]), item_paths, header_text, authorizations,
            content_types, content_lengths)


QUERY_NAMES = ["PageSize", "Page", "PageToken", "PageToken", "Order", "From", "Bounds"]
EDGE_INTEGERS = [0, 1, -1, 2**31, 2**53 + 1, 2**63 - 1, 2**63, -(2**63) - 1, 10**30, -(10**30)]
"""Where integer handling breaks: JSON's doubles, SQLite's 64 bits, Python's unbounded ints."""
cursor_flags = weighted((4, st.sampled_from([0, 1])), (1, json_values))
page_tokens = st.tuples(
    cursor_flags,
    weighted((2, st.sampled_from(EDGE_INTEGERS)), (1, st.integers()), (1, st.text(max_size=8)), (1, json_values)),
    cursor_flags,
).map(lambda cursor: base64.urlsafe_b64encode(json.dumps(list(cursor)).encode()).decode().rstrip("="))
query_values = weighted(
    (2, st.sampled_from(["", "0", "1", "100", "101", "-1", "1e3", "9" * 30, "asc", "desc", "DESC", "inclusive",
                         "exclusive", "k", "\ufffd", "a/b", "!!!", "=", "&"])),
    (1, st.sampled_from(EDGE_INTEGERS).map(str)),
    (1, st.text(max_size=12)),
    (2, page_tokens),
)


@st.composite
def query_strings(draw: st.DrawFn) -> bytes:
    """Paging and range parameters with hostile values, repeated names, raw escapes and invalid UTF-8;
    half the time a page token alone, so that what is wrong with it is what gets answered."""
    if draw(st.booleans()):
        return f"PageToken={draw(page_tokens)}".encode("ascii")
    pairs = draw(st.lists(st.tuples(st.sampled_from(QUERY_NAMES) | st.text(max_size=6), query_values), max_size=5))
    parts = [f"{quote(name, safe='')}={quote(value, safe='')}" for name, value in pairs]
    if draw(st.booleans()):
        parts.append(draw(st.sampled_from(QUERY_NAMES)) + "=" + draw(percent_escaped_bytes | st.sampled_from(["%", "%G0", "%FF"])))
    return "&".join(parts).encode("ascii")


@pytest.mark.parametrize("examples", RUNS)
def test_hostile_queries(examples):
    with World() as world:
        def check(raw_path, query):
            world.check("GET", raw_path, query=query)

        list_paths = st.sampled_from([b"/v1/Services", b"/v1/Services/svc/Maps", b"/v1/Services/svc/Maps/map/Items",
                                      b"/v1/Services/other/Maps/map/Items"])
        run(examples, check, list_paths, query_strings())


control_keys = st.sampled_from(["latency", "fail_rate", "fail_next", "fail_status", "drop_rate", "drop_next",
                                "methods", "after_commit", "seed", "enabled", "per_second", "burst_seconds"])
control_values = st.one_of(
    json_values,
    st.sampled_from([0, 1, -1, 0.5, 503, 503.5, 599, 600, 1e-320, 1e308, True, False, None, "GET", ["GET", "POST"],
                     [0, 0], [0.1, 0.05], "POST,DELETE", [[1]], {"a": 1}]),
)
control_bodies = st.one_of(
    st.dictionaries(control_keys | st.text(max_size=6), control_values, max_size=4).map(lambda body: json.dumps(body).encode()),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=80),
    st.sampled_from([b"NaN", b'{"latency": Infinity}', b'{"fail_rate": NaN}', b"[" * 5000 + b"]" * 5000]),
)


@pytest.mark.parametrize("examples", RUNS)
def test_hostile_control_input(examples):
    """Whatever the control endpoint accepts, the next request still gets an answer a setting explains."""
    with World() as world:
        def check(endpoint, method, body):
            response = world.check(method, b"/__emulator__/" + endpoint, body=body)
            settings_now = world.faults.as_dict()
            try:
                assert response.status in (200, 400, 404, 405, 413)
                json.dumps(settings_now, allow_nan=False)
                Faults(**settings_now)  # what was accepted still passes the checks
                world.faults.latency = 0  # keep the probe quick; every other setting stays
                probe = world.send("POST", b"/v1/Services/svc/Maps/map/Items/k", body=b"Data=%7B%7D")
                failing = settings_now["fail_next"] or settings_now["fail_rate"]
                allowed = {200, 429} | ({settings_now["fail_status"]} if failing else set())
                dropping = settings_now["drop_next"] or settings_now["drop_rate"]
                assert probe.status in allowed or (dropping and not probe.complete), (settings_now, probe)
            finally:
                world.faults.reset()
                world.faults.seed = None
                world.app.state.api.rate_limit = None

        run(examples, check, st.sampled_from([b"faults", b"rate-limit", b"reset", b"nothing"]),
            st.sampled_from(["POST", "GET", "DELETE"]), control_bodies)
