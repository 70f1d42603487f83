"""What every resource shares on the wire: the request and response the API handles, JSON text
as Twilio writes it, its datetimes, and the paths of services, maps and items.

Everything here and in the resource modules is synchronous and free of ASGI: the app (`app.py`)
authenticates, reads the request, and runs `SyncApi.handle` in a worker thread.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from typing import Callable, Mapping

from syncmap_tui.emulator.errors import EmulatorError
from syncmap_tui.emulator.faults import RateLimit
from syncmap_tui.emulator.store import SyncStore
from syncmap_tui.sync.errors import TwilioCode
from syncmap_tui.sync.models import format_datetime

CREATED_BY = "system"
"""`created_by` for anything created through REST."""


@dataclass(frozen=True)
class ApiRequest:
    method: str
    base_url: str
    """Scheme, host and port the client used, no trailing slash: every URL in a response starts here."""
    query: Mapping[str, str] = field(default_factory=dict)
    form: Mapping[str, str] = field(default_factory=dict)
    if_match: str | None = None


@dataclass
class ApiResponse:
    status: int
    body: str | None = None
    """JSON text, or None for an empty body (204)."""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def error(cls, exc: EmulatorError) -> "ApiResponse":
        return cls(exc.status, to_json(exc.body()), exc.headers)


to_json = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode
"""Compact UTF-8 JSON, the form the store keeps item data in, so that stored data can be spliced in as is."""

json_string = json.encoder.encode_basestring
"""A str as a JSON string literal, exactly as `to_json` writes it (ensure_ascii=False)."""


@lru_cache(maxsize=4096)
def when(timestamp: int | None) -> str | None:
    # Cached: a page of items repeats a few timestamps, and strftime was 40 % of rendering one.
    return None if timestamp is None else format_datetime(datetime.fromtimestamp(timestamp, timezone.utc))


@lru_cache(maxsize=4096)
def when_json(timestamp: int | None) -> str:
    moment = when(timestamp)
    return "null" if moment is None else json_string(moment)


def service_path(sid: str) -> str:
    return f"/v1/Services/{sid}"


def map_path(service_sid: str, map_sid: str) -> str:
    return f"/v1/Services/{service_sid}/Maps/{map_sid}"


def items_path(service_sid: str, map_sid: str) -> str:
    return f"{map_path(service_sid, map_sid)}/Items"


Handler = Callable[..., ApiResponse]
"""An operation: called with the API, the request, then the path's parameters."""

PARAM = None
"""A route segment that matches any one non-empty path segment and is passed to the handler."""

Route = tuple[tuple[str | None, ...], dict[str, Handler]]
"""A path pattern and the handler of each method it answers."""


class Resource:
    """What each resource's handlers work with. `SyncApi` (api.py) is every resource at once."""

    def __init__(self, store: SyncStore, account_sid: str, rate_limit: RateLimit | None = None) -> None:
        self.store = store
        self.account_sid = account_sid
        self.rate_limit = rate_limit
        """Off when None. The control endpoint may swap it while the app runs."""

    def check_rate(self, service: str, map_ref: str) -> None:
        """Twilio counts writes on the containing map, whichever way the map is named."""
        limit = self.rate_limit
        if limit is None:
            return
        retry_after = limit.acquire(self.store.get_map(self.account_sid, service, map_ref).sid)
        if retry_after is not None:
            raise EmulatorError(
                TwilioCode.RATE_LIMITED,
                "Too many requests: writes to this map are over the rate limit",
                headers={"Retry-After": str(retry_after)},
            )
