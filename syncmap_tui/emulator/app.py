"""The emulator as an ASGI app: authentication, path decoding, fault injection and the control endpoint.

The REST operations themselves are in `api.py`; this module only turns ASGI into `ApiRequest`
and `ApiResponse` back into ASGI. Each operation runs in a worker thread (`asyncio.to_thread`), JSON
rendering included, so that a slow query or a large page does not stall the event loop the
editor shares with the embedded emulator. Not anyio's threads: importing anyio's asyncio backend
would cost the app's start-up ~50 ms on the embedded emulator's first request.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import json
import re
from typing import Any, Awaitable, Callable
from urllib.parse import unquote_to_bytes

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.convertors import Convertor, register_url_convertor
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from syncmap_tui.emulator.api import SyncApi
from syncmap_tui.emulator.errors import EmulatorError, method_not_allowed
from syncmap_tui.emulator.faults import Faults, RateLimit
from syncmap_tui.emulator.store import SyncStore
from syncmap_tui.emulator.wire import ApiRequest, ApiResponse
from syncmap_tui.sync.errors import TwilioCode, error_body

API_PREFIX = "v1"
CONTROL_PREFIX = "__emulator__"
"""Control endpoints live outside /v1, so that no Twilio path can collide with them."""

API_KEY_SID = re.compile(r"SK[0-9a-fA-F]{32}")
"""Decision: any well-formed API Key SID is accepted, with the auth token as its secret."""

WWW_AUTHENTICATE = 'Basic realm="Twilio API"'

DROPPED_RESPONSE_LENGTH = 1024
"""The Content-Length a dropped response promises before the connection dies after 2 bytes."""

MAX_BODY_BYTES = 64 * 1024
"""Decision: the largest request body the emulator reads; a longer one is refused with
`BODY_TOO_LARGE` from its Content-Length, or as soon as a chunked body passes the limit, before it
is read whole (a 300 MB body once took the process to 600 MB). The largest valid request is an
item create with 16 KiB of Data in which every byte form-encodes to three (`%22`), beside a
320-character key of 4-byte characters (3,840 bytes encoded): about 53 KB, so nothing valid is
refused."""

BODY_TOO_LARGE = TwilioCode.DATA_TOO_LARGE
"""Decision: a body over `MAX_BODY_BYTES` gets 413 with code 54006, what a too-large Data gets:
the only large thing a Sync request carries is its Data, and Twilio publishes no other code."""


def parse_pairs(raw: bytes, errors: str) -> dict[str, str]:
    """Decode `a=1&b=2` (a form body or a query string) once, as UTF-8. A repeated name keeps its last value.

    Form values use errors="surrogateescape", so that invalid UTF-8 reaches the wire rules
    (which refuse it with their own code) instead of being silently replaced; the query string
    uses "strict" (a UnicodeDecodeError, see `parse_query`).
    """
    fields: dict[str, str] = {}
    for part in raw.split(b"&"):
        if not part:
            continue
        name, _, value = part.partition(b"=")
        fields[_unquote(name, errors)] = _unquote(value, errors)
    return fields


def _unquote(raw: bytes, errors: str) -> str:
    return unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8", errors)


def parse_query(raw: bytes) -> dict[str, str]:
    try:
        return parse_pairs(raw, "strict")
    except UnicodeDecodeError:
        raise EmulatorError(TwilioCode.BAD_REQUEST, "The query string is not valid UTF-8 after percent-decoding") from None


def path_segments(scope: Scope) -> list[str]:
    """The path's segments, each percent-decoded exactly once, as UTF-8.

    Decoding segment by segment from the raw path keeps an encoded "/" (%2F) inside its segment:
    a map item key "a/b" arrives as ".../Items/a%2Fb" and stays one key.

    Decision: a path (or a query string, `parse_query`) that is not UTF-8 once decoded is refused
    with 400, code 400: replacing its bytes with U+FFFD would name another key ("\ufffd"), which a
    DELETE of ".../Items/%FE" then deleted.
    """
    raw_path = scope.get("raw_path")
    if raw_path is None:  # the server gave only the decoded path; "%2F" is then indistinguishable from "/"
        path: str = scope["path"]
        return path.split("/")[1:]
    raw_path = raw_path.split(b"?", 1)[0]
    try:
        return [unquote_to_bytes(part).decode("utf-8") for part in raw_path.split(b"/")[1:]]
    except UnicodeDecodeError:
        raise EmulatorError(TwilioCode.BAD_REQUEST, "The request path is not valid UTF-8 after percent-decoding") from None


async def read_body(request: Request) -> bytes:
    """The request body, refused (`BODY_TOO_LARGE`) before it is read whole if over `MAX_BODY_BYTES`."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not (declared.isascii() and declared.isdigit()):
            raise EmulatorError(TwilioCode.BAD_REQUEST, f"Content-Length {declared!r} is not a number of bytes")
        if int(declared) > MAX_BODY_BYTES:
            raise _body_too_large()
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _body_too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def _body_too_large() -> EmulatorError:
    return EmulatorError(BODY_TOO_LARGE, f"The request body is over the limit of {MAX_BODY_BYTES:,} bytes")


class BasicAuth:
    def __init__(self, account_sid: str, auth_token: str) -> None:
        self.account_sid = account_sid
        self._token = auth_token.encode("utf-8")

    def accepts(self, header: str | None) -> bool:
        if header is None:
            return False
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            username, separator, secret = base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        if not separator or not (username == self.account_sid or API_KEY_SID.fullmatch(username)):
            return False
        return hmac.compare_digest(secret.encode("utf-8"), self._token)


def error_response(exc: EmulatorError) -> JSONResponse:
    return JSONResponse(exc.body(), exc.status, headers=exc.headers)


def to_response(result: ApiResponse) -> Response:
    if result.body is None:
        return Response(status_code=result.status, headers=result.headers)
    return Response(result.body.encode("utf-8"), result.status, result.headers, media_type=JSONResponse.media_type)


class ControlApi:
    """`/__emulator__/faults` (GET, POST JSON), `/__emulator__/rate-limit` (GET, POST JSON), `/__emulator__/reset` (POST)."""

    def __init__(self, faults: Faults, api: SyncApi) -> None:
        self.faults = faults
        self.api = api

    def _rate_limit_state(self) -> dict[str, Any]:
        limit = self.api.rate_limit
        return {"enabled": limit is not None, **(limit.as_dict() if limit is not None else {})}

    def get_faults(self, body: Any) -> dict[str, Any]:
        return self.faults.as_dict()

    def set_faults(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ValueError("send a JSON object of fault settings")
        self.faults.update(body)
        return self.faults.as_dict()

    def get_rate_limit(self, body: Any) -> dict[str, Any]:
        return self._rate_limit_state()

    def set_rate_limit(self, body: Any) -> dict[str, Any]:
        """`{"enabled": false}` turns it off; `{"per_second": 2, "burst_seconds": 1}` (either optional) turns it on."""
        if not isinstance(body, dict) or set(body) - {"enabled", "per_second", "burst_seconds"}:
            raise ValueError('send {"enabled": false} or {"per_second": N, "burst_seconds": S}')
        enabled = body.get("enabled", True)
        if not isinstance(enabled, bool):
            raise ValueError(f"enabled must be true or false, not {enabled!r}")
        if not enabled:
            self.api.rate_limit = None
        else:
            current = self.api.rate_limit or RateLimit()
            self.api.rate_limit = RateLimit(
                body.get("per_second", current.per_second), body.get("burst_seconds", current.burst_seconds)
            )
        return self._rate_limit_state()

    def reset(self, body: Any) -> dict[str, Any]:
        """No faults, and every rate-limit bucket full again. The data is left alone."""
        self.faults.reset()
        if self.api.rate_limit is not None:
            self.api.rate_limit.reset()
        return {"faults": self.faults.as_dict(), "rate_limit": self._rate_limit_state()}

    ROUTES: dict[str, dict[str, Callable[["ControlApi", Any], dict[str, Any]]]] = {
        "faults": {"GET": get_faults, "POST": set_faults},
        "rate-limit": {"GET": get_rate_limit, "POST": set_rate_limit},
        "reset": {"POST": reset},
    }

    async def handle(self, request: Request, name: str) -> Response:
        handlers = self.ROUTES.get(name)
        if handlers is None:
            return error_response(EmulatorError(TwilioCode.ROUTE_NOT_FOUND, f"No control endpoint {name!r}"))
        handler = handlers.get(request.method)
        if handler is None:
            return error_response(method_not_allowed(request.method, handlers))
        raw = await read_body(request)
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError as exc:  # UnicodeDecodeError included
            return error_response(EmulatorError(TwilioCode.BAD_REQUEST, f"The body is not JSON: {exc}"))
        except RecursionError:
            return error_response(EmulatorError(TwilioCode.BAD_REQUEST, "The body is JSON nested too deeply"))
        try:
            return JSONResponse(handler(self, body))
        except ValueError as exc:
            return error_response(EmulatorError(TwilioCode.BAD_REQUEST, str(exc)))


class EmulatorEndpoint:
    """The single ASGI endpoint behind every path: authenticate, then the control or the Sync API."""

    def __init__(self, api: SyncApi, auth: BasicAuth, control: ControlApi) -> None:
        self.api = api
        self.auth = auth
        self.control = control

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = await self._respond(request)
        await response(scope, receive, send)

    async def _respond(self, request: Request) -> Response:
        # Decision: credentials are checked before routing, so an unknown path with bad
        # credentials is a 401, not a 404.
        if not self.auth.accepts(request.headers.get("authorization")):
            error = EmulatorError(
                TwilioCode.AUTH_FAILED, "Authenticate", headers={"WWW-Authenticate": WWW_AUTHENTICATE}
            )
            return error_response(error)
        try:
            segments = path_segments(request.scope)
            if len(segments) == 2 and segments[0] == CONTROL_PREFIX:
                return await self.control.handle(request, segments[1])
            query = parse_query(request.scope.get("query_string", b""))
            form = parse_pairs(await read_body(request), "surrogateescape") if request.method == "POST" else {}
        except EmulatorError as exc:
            return error_response(exc)
        api_request = ApiRequest(
            method=request.method,
            base_url=str(request.base_url).rstrip("/"),
            query=query,
            form=form,
            if_match=request.headers.get("if-match"),
        )

        def run() -> Response:
            return to_response(self.api.handle(request.method, segments, api_request))

        return await asyncio.to_thread(run)


def _is_api_path(path: str) -> bool:
    return path == f"/{API_PREFIX}" or path.startswith(f"/{API_PREFIX}/")


async def drop_connection(send: Send) -> None:
    """Start a response and stop after two bytes of its body.

    Under uvicorn, an app that returns with its response unfinished gets its connection closed:
    the client sees a truncated body (httpx.RemoteProtocolError). `emulator_transport` turns the
    same unfinished response into that error in-process.
    """
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(DROPPED_RESPONSE_LENGTH).encode("ascii")),
            ],
        }
    )
    await send({"type": "http.response.body", "body": b'{"', "more_body": True})


def injected_failure(status: int) -> JSONResponse:
    code = TwilioCode.SERVICE_UNAVAILABLE if status == 503 else TwilioCode.INTERNAL
    return JSONResponse(error_body(code, f"Injected fault: HTTP {status}", status), status)


class FaultMiddleware:
    """Carries out `Faults.plan(...)` for every /v1 request; the control endpoint is never faulted.

    Faults act before authentication, like a proxy or a network in front of Twilio would.
    """

    def __init__(self, app: ASGIApp, faults: Faults) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _is_api_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        plan = self.faults.plan(scope["method"])
        if plan.is_noop:
            await self.app(scope, receive, send)
            return
        held: list[Message] = []
        if plan.after_commit:  # handle the request for real, hold its response back
            await self.app(scope, receive, _collect_into(held))
        if plan.latency and not await self.faults.hold(plan.latency):
            await drop_connection(send)  # the emulator is stopping (Faults.release_holds)
            return
        if plan.drop:
            await drop_connection(send)
        elif plan.fail_status is not None:
            await injected_failure(plan.fail_status)(scope, receive, send)
        elif plan.after_commit:
            for message in held:
                await send(message)
        else:
            await self.app(scope, receive, send)


def _collect_into(messages: list[Message]) -> Callable[[Message], Awaitable[None]]:
    async def collect(message: Message) -> None:
        messages.append(message)

    return collect


class AnyPathConvertor(Convertor[str]):
    """Starlette's "path" convertor matches ".*", which stops at a newline: a key holding one would
    get Starlette's own plain-text 404. The endpoint parses the raw path itself; this only routes it."""

    regex = "(?s:.*)"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("any_path", AnyPathConvertor())


def create_app(
    store: SyncStore,
    *,
    account_sid: str,
    auth_token: str,
    faults: Faults | None = None,
    rate_limit: RateLimit | None = None,
) -> Starlette:
    """The emulator app. `app.state` holds `store`, `faults` (never None: a test may change it
    while the app runs) and `api` (whose `rate_limit` may be swapped, None meaning off)."""
    faults = faults if faults is not None else Faults()
    api = SyncApi(store, account_sid, rate_limit)
    endpoint = EmulatorEndpoint(api, BasicAuth(account_sid, auth_token), ControlApi(faults, api))
    app = Starlette(
        routes=[Route("/{path:any_path}", endpoint)],
        middleware=[Middleware(FaultMiddleware, faults=faults)],
    )
    app.state.store = store
    app.state.faults = faults
    app.state.api = api
    return app
