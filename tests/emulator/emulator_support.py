"""Helpers for the emulator tests: Twilio's OpenAPI description as a validator, a movable clock,
clients in-process and over a real uvicorn socket.

Every client made here validates each 2xx response it receives against the response schema
that `twilio_sync_v1.json` gives for that operation, so every test checks the wire format.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import jsonschema
import jsonschema_rs
import pytest
import referencing
import referencing.jsonschema
import uvicorn

from syncmap_tui.emulator import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
from syncmap_tui.emulator.cli import LISTENING, bind, url_of
from syncmap_tui.emulator.inprocess import emulator_transport
from syncmap_tui.sync.models import DATETIME_FORMAT

REPO_ROOT = Path(__file__).resolve().parents[2]
SPEC_URI = "urn:twilio-sync-v1"
ACCOUNT_SID = DEFAULT_ACCOUNT_SID
AUTH_TOKEN = DEFAULT_AUTH_TOKEN
BASE_URL = "http://emulator.test"
START = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


# The OpenAPI description


def spec_path() -> Path:
    """`$SYNCMAP_SHARED_DIR/twilio-oai/...`, else `<repo>/../shared/...` (CI clones beside shared/)."""
    shared = os.environ.get("SYNCMAP_SHARED_DIR")
    folder = Path(shared) if shared else REPO_ROOT.parent / "shared"
    return folder / "twilio-oai" / "twilio_sync_v1.json"


def _nullable_to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0's `nullable: true` is not JSON Schema: turn it into a type union with "null"."""
    if isinstance(node, list):
        return [_nullable_to_json_schema(value) for value in node]
    if not isinstance(node, dict):
        return node
    result = {key: _nullable_to_json_schema(value) for key, value in node.items()}
    if result.pop("nullable", False) is True and "type" in result:
        kinds = result["type"] if isinstance(result["type"], list) else [result["type"]]
        result["type"] = [*kinds, "null"]
    return result


@lru_cache(maxsize=1)
def load_spec() -> dict[str, Any]:
    path = spec_path()
    if not path.is_file():
        pytest.fail(f"Twilio's OpenAPI file is not at {path}; set SYNCMAP_SHARED_DIR to the shared/ folder")
    return json.loads(path.read_text(encoding="utf-8"))


TWILIO_DATETIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
URI_CHARACTERS = re.compile(r"(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})+")

format_checker = jsonschema.FormatChecker(formats=())


@format_checker.checks("date-time", raises=ValueError)
def _twilio_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not TWILIO_DATETIME.fullmatch(value):
        return False
    datetime.strptime(value, DATETIME_FORMAT)
    return True


RFC3986_URI = jsonschema_rs.validator_for({"type": "string", "format": "uri"}, validate_formats=True)
"""RFC 3986's URI grammar, as Schemathesis checks `format: uri` (the characters alone let
`http://a/[x]` through, which is no URI)."""


def is_absolute_uri(value: str) -> bool:
    parts = urlsplit(value)
    return (
        parts.scheme in ("http", "https")
        and bool(parts.netloc)
        and URI_CHARACTERS.fullmatch(value) is not None
        and RFC3986_URI.is_valid(value)
    )


@format_checker.checks("uri")
def _uri(value: object) -> bool:
    return not isinstance(value, str) or is_absolute_uri(value)


@format_checker.checks("uri-map")
def _uri_map(value: object) -> bool:
    return not isinstance(value, dict) or all(isinstance(v, str) and is_absolute_uri(v) for v in value.values())


@dataclass(frozen=True)
class Operation:
    operation_id: str
    template: str
    method: str
    pattern: re.Pattern[str]


@lru_cache(maxsize=1)
def _operations() -> tuple[Operation, ...]:
    operations = []
    for template, methods in load_spec()["paths"].items():
        pattern = re.compile("".join("[^/]+" if part.startswith("{") else re.escape(part) for part in re.split(r"(\{[^}]+\})", template)))
        for method, operation in methods.items():
            if isinstance(operation, dict) and "operationId" in operation:
                operations.append(Operation(operation["operationId"], template, method.upper(), pattern))
    return tuple(operations)


@lru_cache(maxsize=1)
def _registry() -> referencing.Registry:
    contents = _nullable_to_json_schema(copy.deepcopy(load_spec()))
    resource = referencing.Resource.from_contents(contents, default_specification=referencing.jsonschema.DRAFT202012)
    return referencing.Registry().with_resource(SPEC_URI, resource)


def _pointer(*parts: str) -> str:
    return "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


validated_operations: set[str] = set()
"""The operationIds whose 2xx bodies some test has validated in this session."""


def find_operation(method: str, path: str) -> Operation:
    matches = [op for op in _operations() if op.method == method and op.pattern.fullmatch(path)]
    assert len(matches) == 1, f"no single operation in the spec for {method} {path}: {matches}"
    return matches[0]


def check_against_spec(method: str, path: str, status: int, body: bytes) -> None:
    """Fail unless a 2xx body is what the spec says this operation answers with this status."""
    operation = find_operation(method, path)
    responses = load_spec()["paths"][operation.template][operation.method.lower()]["responses"]
    assert str(status) in responses, f"{operation.operation_id} answered {status}; the spec has {sorted(responses)}"
    content = responses[str(status)].get("content")
    if content is None:
        assert body == b"", f"{operation.operation_id} {status} must have no body"
    else:
        schema_ref = f"{SPEC_URI}#/" + _pointer(
            "paths", operation.template, operation.method.lower(), "responses", str(status), "content", "application/json", "schema"
        )
        validator = jsonschema.Draft202012Validator(
            {"$ref": schema_ref}, registry=_registry(), format_checker=format_checker
        )
        instance = json.loads(body)
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.path))
        assert not errors, f"{operation.operation_id}: " + "; ".join(f"{list(e.path)}: {e.message}" for e in errors)
        _check_exact_fields(instance)
    validated_operations.add(operation.operation_id)


RESOURCE_SCHEMAS = {
    "sid:IS": "sync.v1.service",
    "sid:MP": "sync.v1.service.sync_map",
    "key": "sync.v1.service.sync_map.sync_map_item",
}


def _check_exact_fields(body: Any) -> None:
    """Each service, map and item carries exactly the fields its schema names, no more, no fewer."""
    resources = body[body["meta"]["key"]] if "meta" in body else [body]
    for resource in resources:
        if "key" in resource:
            name = RESOURCE_SCHEMAS["key"]
        else:
            name = RESOURCE_SCHEMAS[f"sid:{resource['sid'][:2]}"]
        expected = set(load_spec()["components"]["schemas"][name]["properties"])
        assert set(resource) == expected, f"{name}: extra {set(resource) - expected}, missing {expected - set(resource)}"


def _api_path(response: httpx.Response) -> str | None:
    """The request's path still percent-encoded (a key may hold "/"), if it is a 2xx from /v1."""
    path = response.request.url.raw_path.split(b"?", 1)[0].decode("ascii")
    return path if 200 <= response.status_code < 300 and path.startswith("/v1/") else None


async def _validate_response(response: httpx.Response) -> None:
    path = _api_path(response)
    if path is not None:
        await response.aread()
        check_against_spec(response.request.method, path, response.status_code, response.content)


def _validate_response_sync(response: httpx.Response) -> None:
    path = _api_path(response)
    if path is not None:
        response.read()
        check_against_spec(response.request.method, path, response.status_code, response.content)


# The emulator


class FakeClock:
    """A clock a test moves by hand: `clock.advance(seconds=10)`."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def make_client(app: Any, **kwargs: Any) -> httpx.AsyncClient:
    kwargs.setdefault("auth", (ACCOUNT_SID, AUTH_TOKEN))
    kwargs.setdefault("base_url", BASE_URL)
    return httpx.AsyncClient(
        transport=emulator_transport(app),
        event_hooks={"response": [_validate_response]},
        **kwargs,
    )


class SyncPaths:
    """Small helpers for the common setup calls, raising on any unexpected status."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def service(self, unique_name: str | None = "svc", **form: str) -> dict[str, Any]:
        if unique_name is not None:
            form["UniqueName"] = unique_name
        response = await self.client.post("/v1/Services", data=form)
        assert response.status_code == 201, response.text
        return response.json()

    async def map(self, service: str = "svc", unique_name: str | None = "map", **form: str) -> dict[str, Any]:
        if unique_name is not None:
            form["UniqueName"] = unique_name
        response = await self.client.post(f"/v1/Services/{service}/Maps", data=form)
        assert response.status_code == 201, response.text
        return response.json()

    async def item(self, key: str, data: Any = None, *, service: str = "svc", sync_map: str = "map", **form: str) -> dict[str, Any]:
        form.update(Key=key, Data=json.dumps({"v": key} if data is None else data))
        response = await self.client.post(f"/v1/Services/{service}/Maps/{sync_map}/Items", data=form)
        assert response.status_code == 201, response.text
        return response.json()


# A real socket


class ThreadedServer:
    """uvicorn serving an app on 127.0.0.1 from a background thread (its own event loop)."""

    def __init__(self, app: Any) -> None:
        self.sock = bind("127.0.0.1", 0)
        self.url = url_of(self.sock)
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="critical", access_log=False, lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> "ThreadedServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


def socket_client(url: str, **kwargs: Any) -> httpx.AsyncClient:
    kwargs.setdefault("auth", (ACCOUNT_SID, AUTH_TOKEN))
    return httpx.AsyncClient(base_url=url, trust_env=False, event_hooks={"response": [_validate_response]}, **kwargs)


def sync_socket_client(url: str, **kwargs: Any) -> httpx.Client:
    kwargs.setdefault("auth", (ACCOUNT_SID, AUTH_TOKEN))
    return httpx.Client(base_url=url, trust_env=False, event_hooks={"response": [_validate_response_sync]}, **kwargs)


# A separate `syncmap-tui emulator` process


class EmulatorProcess:
    """`python -m syncmap_tui emulator --port 0 ...` with its stdout read by a thread, so that
    waiting for the URL line has a deadline instead of a sleep."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "syncmap_tui", "emulator", "--port", "0", *args],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        self.output: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def wait_for_url(self, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no URL line within {timeout} s; output so far: {self.output}")
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"the emulator exited ({self.process.wait()}): {self.output} {self.stderr()}")
            self.output.append(line)
            if line.startswith(LISTENING):
                return line.removeprefix(LISTENING).strip()

    def stderr(self) -> str:
        assert self.process.stderr is not None
        return self.process.stderr.read() if self.process.poll() is not None else ""

    def terminate(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=timeout)

    def __enter__(self) -> "EmulatorProcess":
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


# The store's contents, to show what a request changed


def store_rows(store: Any) -> dict[tuple[str, ...], tuple[Any, ...]]:
    """Every row of the store by what names it: ("service", sid), ("map", sid), ("item", map sid, key).

    Read from the database itself, expired rows included, so that nothing a request touches is hidden.
    """
    with store._read() as db:
        rows: dict[tuple[str, ...], tuple[Any, ...]] = {}
        for row in db.execute("SELECT * FROM services"):
            rows[("service", row[1])] = tuple(row)
        for row in db.execute("SELECT m.sid, m.* FROM maps AS m"):
            rows[("map", row[0])] = tuple(row[1:])
        for row in db.execute("SELECT m.sid, i.* FROM items AS i JOIN maps AS m ON m.id = i.map_id"):
            rows[("item", row[0], row[2])] = tuple(row[1:])
    return rows


# Raw ASGI requests


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    complete: bool
    """False when the app stopped before the end of its body (an injected drop)."""


async def call_asgi(
    app: Any,
    method: str,
    raw_path: bytes,
    *,
    query: bytes = b"",
    headers: list[tuple[bytes, bytes]] | None = None,
    body: bytes = b"",
    authorized: bool = True,
) -> RawResponse:
    """Send one request to an ASGI app exactly as given: the raw path and headers reach the app
    unnormalised (httpx removes dot segments and re-encodes paths), as a hostile client could send them."""
    all_headers = list(headers or [])
    if authorized:
        credentials = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode("ascii")
        all_headers.append((b"authorization", f"Basic {credentials}".encode("ascii")))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        # What uvicorn gives: the path percent-decoded (UTF-8, errors replaced) beside the raw one.
        "path": unquote(raw_path.decode("latin-1")),
        "raw_path": raw_path,
        "query_string": query,
        "root_path": "",
        "headers": all_headers,
        "server": ("emulator.test", 80),
        "client": ("127.0.0.1", 40000),
    }
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start = next(message for message in sent if message["type"] == "http.response.start")
    bodies = [message for message in sent if message["type"] == "http.response.body"]
    return RawResponse(
        status=start["status"],
        headers={name.decode("latin-1").lower(): value.decode("latin-1") for name, value in start["headers"]},
        body=b"".join(message.get("body", b"") for message in bodies),
        complete=bool(bodies) and not bodies[-1].get("more_body", False),
    )
