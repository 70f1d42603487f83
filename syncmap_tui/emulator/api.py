"""The Sync v1 REST surface: routes, parameters in, Twilio's JSON out.

Everything here is synchronous and free of ASGI: the app (`app.py`) authenticates, reads the
request, and runs `SyncApi.handle` in a worker thread so the store never blocks the event loop.
The wire rules (key, unique name, data, TTL) come from `syncmap_tui.sync.validation`; this module
only says which parameter each rule applies to.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache, partial
from typing import Any, Callable, Mapping, Sequence
from urllib.parse import quote, urlencode, urlsplit

from syncmap_tui.emulator.errors import EmulatorError, method_not_allowed
from syncmap_tui.emulator.faults import RateLimit
from syncmap_tui.emulator.store import Bound, ItemRecord, MapRecord, ServiceRecord, SyncStore
from syncmap_tui.sync.errors import TwilioCode
from syncmap_tui.sync.models import format_datetime, url_segment
from syncmap_tui.sync.validation import (
    ValidationError,
    check_key,
    check_size,
    check_unique_name,
    encode_data,
    parse_data,
    parse_wire_ttl,
    wire_size,
)

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
"""Decision (sync-api-notes.md): a larger PageSize is clamped to this, not refused."""

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


# Rendering: field names and order exactly as Twilio sends them, as JSON text.

to_json = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode
"""Compact UTF-8 JSON, the form the store keeps item data in, so that stored data can be spliced in as is."""

_json_string = json.encoder.encode_basestring
"""A str as a JSON string literal, exactly as `to_json` writes it (ensure_ascii=False)."""


@lru_cache(maxsize=4096)
def _when(timestamp: int | None) -> str | None:
    # Cached: a page of items repeats a few timestamps, and strftime was 40 % of rendering one.
    return None if timestamp is None else format_datetime(datetime.fromtimestamp(timestamp, timezone.utc))


@lru_cache(maxsize=4096)
def _when_json(timestamp: int | None) -> str:
    when = _when(timestamp)
    return "null" if when is None else _json_string(when)


def _service_path(sid: str) -> str:
    return f"/v1/Services/{sid}"


def _map_path(service_sid: str, map_sid: str) -> str:
    return f"/v1/Services/{service_sid}/Maps/{map_sid}"


def _items_path(service_sid: str, map_sid: str) -> str:
    return f"{_map_path(service_sid, map_sid)}/Items"


def render_service(service: ServiceRecord, base_url: str) -> str:
    url = base_url + _service_path(service.sid)
    return to_json({
        "sid": service.sid,
        "unique_name": service.unique_name,
        "account_sid": service.account_sid,
        "friendly_name": service.friendly_name,
        "date_created": _when(service.date_created),
        "date_updated": _when(service.date_updated),
        "url": url,
        "webhook_url": service.webhook_url,
        "webhooks_from_rest_enabled": service.webhooks_from_rest_enabled,
        "reachability_webhooks_enabled": service.reachability_webhooks_enabled,
        "acl_enabled": service.acl_enabled,
        "reachability_debouncing_enabled": service.reachability_debouncing_enabled,
        "reachability_debouncing_window": service.reachability_debouncing_window,
        "links": {
            "documents": f"{url}/Documents",
            "lists": f"{url}/Lists",
            "maps": f"{url}/Maps",
            "streams": f"{url}/Streams",
        },
    })


def render_map(sync_map: MapRecord, base_url: str) -> str:
    url = base_url + _map_path(sync_map.service_sid, sync_map.sid)
    return to_json({
        "sid": sync_map.sid,
        "unique_name": sync_map.unique_name,
        "account_sid": sync_map.account_sid,
        "service_sid": sync_map.service_sid,
        "url": url,
        "links": {"items": f"{url}/Items", "permissions": f"{url}/Permissions"},
        "revision": str(sync_map.revision),
        "date_expires": _when(sync_map.date_expires),
        "date_created": _when(sync_map.date_created),
        "date_updated": _when(sync_map.date_updated),
        "created_by": CREATED_BY,
    })


@lru_cache(maxsize=256)
def _item_fields_json(base_url: str, account_sid: str, service_sid: str, map_sid: str) -> str:
    """What every item of one map has in common: the JSON between its key and the key in its URL."""
    url_prefix = f"{base_url}{_items_path(service_sid, map_sid)}/"
    return (
        f',"account_sid":{_json_string(account_sid)},"service_sid":{_json_string(service_sid)}'
        f',"map_sid":{_json_string(map_sid)},"url":{_json_string(url_prefix)[:-1]}'
    )


_CREATED_BY_JSON = _json_string(CREATED_BY)


def render_item(item: ItemRecord, base_url: str) -> str:
    # Written out rather than dumped: the stored data is already compact JSON (what to_json would
    # write again after a json.loads), and decoding and re-encoding it was most of a page's time.
    # The URL's key is percent-encoded (keys may hold "/", "?", "#", as clients must send them),
    # which leaves nothing to escape in JSON: it continues the string _item_fields_json opens.
    common = _item_fields_json(base_url, item.account_sid, item.service_sid, item.map_sid)
    return (
        f'{{"key":{_json_string(item.key)}{common}{url_segment(item.key)}"'
        f',"revision":"{item.revision}","data":{item.data},"date_expires":{_when_json(item.date_expires)}'
        f',"date_created":{_when_json(item.date_created)},"date_updated":{_when_json(item.date_updated)}'
        f',"created_by":{_CREATED_BY_JSON}}}'
    )


def etag(revision: int) -> str:
    """Decision: the ETag is the revision exactly as the body's `revision` and If-Match carry it:
    `ETag: 3`, not the quoted entity tag `"3"` of RFC 9110. Twilio's guide ("Mutation and
    Conflict Resolution") passes the revision back as If-Match, and If-Match is compared exactly
    (no `*`, no `W/`, no quotes stripped: see `SyncStore._check_revision`), so a client that echoes
    the ETag it was given must get a match, not a 412."""
    return str(revision)


# Paging


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: just past `position` (or at it, if `inclusive`), going forward in the
    list's order, or, if `backward`, the page that ends just before it."""

    backward: bool
    position: int | str
    inclusive: bool = False

    def encode(self) -> str:
        raw = json.dumps([int(self.backward), self.position, int(self.inclusive)], ensure_ascii=False, separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode("utf-8")).decode("ascii").rstrip("=")

    @classmethod
    def decode(cls, token: str, position_type: type) -> "Cursor":
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            backward, position, inclusive = json.loads(raw.decode("utf-8"))
        except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
            raise EmulatorError(TwilioCode.INVALID_PAGE_TOKEN, f"PageToken {token!r} is invalid") from None
        if backward not in (0, 1) or inclusive not in (0, 1) or type(position) is not position_type:
            raise EmulatorError(TwilioCode.INVALID_PAGE_TOKEN, f"PageToken {token!r} is invalid")
        if isinstance(position, str) and not _is_utf8(position):  # an escaped lone surrogate ("\ud800") parses
            raise EmulatorError(TwilioCode.INVALID_PAGE_TOKEN, f"PageToken {token!r} is invalid")
        return cls(bool(backward), position, bool(inclusive))


@dataclass(frozen=True)
class PageParams:
    size: int
    page: int
    cursor: Cursor | None

    @classmethod
    def parse(cls, query: Mapping[str, str], position_type: type) -> "PageParams":
        size_text = query.get("PageSize")
        if size_text is None:
            size = DEFAULT_PAGE_SIZE
        elif re.fullmatch(r"[0-9]{1,9}", size_text) and int(size_text) >= 1:
            size = min(int(size_text), MAX_PAGE_SIZE)
        else:
            raise EmulatorError(
                TwilioCode.INVALID_PAGE_SIZE, f"PageSize must be an integer from 1 to {MAX_PAGE_SIZE}, not {size_text!r}"
            )
        page_text = query.get("Page", "0")
        if not re.fullmatch(r"[0-9]{1,9}", page_text):
            raise EmulatorError(TwilioCode.BAD_REQUEST, f"Page must be an integer >= 0, not {page_text!r}")
        token = query.get("PageToken")
        cursor = Cursor.decode(token, position_type) if token else None
        return cls(size, int(page_text), cursor)


Fetch = Callable[..., list[Any]]
"""A store listing, called as fetch(lower=, upper=, descending=, limit=) -> rows in scan order."""


def paginate(
    fetch: Fetch, params: PageParams, *, start: Bound | None, descending: bool, position: Callable[[Any], Any]
) -> tuple[list[Any], Cursor | None, Cursor | None]:
    """One page of rows and the cursors of the pages after and before it.

    `start` bounds the list where it begins (`From`); a forward cursor replaces it, a backward
    cursor bounds the other end and the rows are read in reverse, then turned round. One extra
    row is read going forward, to know whether a next page exists without counting the list.
    """
    cursor = params.cursor
    at_cursor = (cursor.position, cursor.inclusive) if cursor is not None else None
    backward = cursor is not None and cursor.backward
    if at_cursor is not None and not backward:
        start = at_cursor
    end = at_cursor if backward else None
    lower, upper = (end, start) if descending else (start, end)
    if backward:
        rows = fetch(lower=lower, upper=upper, descending=not descending, limit=params.size)
        rows.reverse()
        has_next = True
    else:
        rows = fetch(lower=lower, upper=upper, descending=descending, limit=params.size + 1)
        has_next = len(rows) > params.size
        del rows[params.size :]
    if rows:
        next_cursor = Cursor(False, position(rows[-1])) if has_next else None
        previous_cursor = Cursor(True, position(rows[0])) if params.page > 0 else None
    else:
        # An empty page reached backwards (its rows were deleted): the next page starts at the cursor.
        next_cursor = Cursor(False, cursor.position, True) if backward and cursor is not None else None
        previous_cursor = None
    return rows, next_cursor, previous_cursor


def _list_response(
    request: ApiRequest,
    list_key: str,
    path: str,
    params: PageParams,
    fetch: Fetch,
    render: Callable[[Any, str], str],
    *,
    position: Callable[[Any], Any],
    start: Bound | None = None,
    descending: bool = False,
    filters: Sequence[tuple[str, str]] = (),
) -> ApiResponse:
    """A page of a list in Twilio's envelope: `{list_key: [...], "meta": {...}}`, URLs on the client's base."""
    rows, next_cursor, previous_cursor = paginate(fetch, params, start=start, descending=descending, position=position)

    def page_url(page: int, cursor: Cursor | None) -> str:
        query = [*filters, ("PageSize", str(params.size)), ("Page", str(page))]
        if cursor is not None:
            query.append(("PageToken", cursor.encode()))
        return f"{request.base_url}{path}?{urlencode(query, quote_via=quote)}"

    meta = {
        "page": params.page,
        "page_size": params.size,
        "first_page_url": page_url(0, None),
        "previous_page_url": page_url(params.page - 1, previous_cursor) if previous_cursor else None,
        "url": page_url(params.page, params.cursor),
        "next_page_url": page_url(params.page + 1, next_cursor) if next_cursor else None,
        "key": list_key,
    }
    rendered = ",".join([render(row, request.base_url) for row in rows])
    return ApiResponse(200, f'{{{_json_string(list_key)}:[{rendered}],"meta":{to_json(meta)}}}')


# Parameters


def _is_utf8(text: str) -> bool:
    """False if `text` holds a lone surrogate: no UTF-8 for the store, the response or the wire."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _text(value: str, name: str) -> str:
    if not _is_utf8(value):
        raise EmulatorError(TwilioCode.BAD_REQUEST, f"{name} is not valid UTF-8")
    return value


WEBHOOK_SCHEMES = ("http", "https")
URI_CHARACTERS = re.compile(r"(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})+")
"""RFC 3986's characters: unreserved, reserved, and percent-escapes."""


def _webhook_url(value: str, name: str) -> str | None:
    """Empty unsets the webhook; anything else must be an absolute http(s) URL. The spec's
    `webhook_url` is `format: uri`: whatever is stored is sent back on every page of services."""
    if not value:
        return None
    if not _is_absolute_http_url(value):
        raise EmulatorError(TwilioCode.BAD_REQUEST, f"{name} must be empty or an absolute http(s) URL, not {value!r}")
    return value


def _is_absolute_http_url(value: str) -> bool:
    if URI_CHARACTERS.fullmatch(value) is None:
        return False
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError unless the port is a number from 0 to 65535
    except ValueError:  # also a malformed IPv6 host ("http://[::1")
        return False
    return parts.scheme in WEBHOOK_SCHEMES and bool(parts.hostname)


def _boolean(value: str, name: str) -> bool:
    lowered = value.lower()
    if lowered not in ("true", "false"):
        raise EmulatorError(TwilioCode.BAD_REQUEST, f"{name} must be true or false, not {value!r}")
    return lowered == "true"


DEBOUNCING_WINDOW_MS = (1_000, 30_000)
"""The spec's range for ReachabilityDebouncingWindow."""


def _debouncing_window(value: str, name: str) -> int:
    low, high = DEBOUNCING_WINDOW_MS
    if not re.fullmatch(r"[0-9]{1,9}", value) or not low <= int(value) <= high:
        raise EmulatorError(TwilioCode.BAD_REQUEST, f"{name} must be {low} to {high} milliseconds, not {value!r}")
    return int(value)


_SERVICE_PARAMETERS: dict[str, tuple[str, Callable[[str, str], Any]]] = {
    "FriendlyName": ("friendly_name", _text),
    "WebhookUrl": ("webhook_url", _webhook_url),
    "WebhooksFromRestEnabled": ("webhooks_from_rest_enabled", _boolean),
    "ReachabilityWebhooksEnabled": ("reachability_webhooks_enabled", _boolean),
    "AclEnabled": ("acl_enabled", _boolean),
    "ReachabilityDebouncingEnabled": ("reachability_debouncing_enabled", _boolean),
    "ReachabilityDebouncingWindow": ("reachability_debouncing_window", _debouncing_window),
}


def _service_settings(form: Mapping[str, str]) -> dict[str, Any]:
    return {column: parse(form[name], name) for name, (column, parse) in _SERVICE_PARAMETERS.items() if name in form}


def _ttl(form: Mapping[str, str], name: str, alias: str | None = None) -> int | None:
    """A TTL parameter, or its alias when the parameter itself is absent (the alias is then ignored)."""
    if name in form:
        return parse_wire_ttl(form[name])
    if alias is not None and alias in form:
        return parse_wire_ttl(form[alias])
    return None


def _unique_name(form: Mapping[str, str]) -> str | None:
    name = form.get("UniqueName")
    return None if name is None else check_unique_name(name)


def _stored_data(text: str) -> str:
    """Check `Data` as received and return the compact JSON the store keeps.

    parse_data refuses NaN, Infinity and overflowing numbers, so that nothing is stored that
    no client could read back.
    """
    check_size(text)
    stored = encode_data(parse_data(text))
    wire_size(stored)  # an escaped lone surrogate ("\ud800") parses, but is not UTF-8 the store can keep
    return stored


ORDERS = ("asc", "desc")
BOUNDS = ("inclusive", "exclusive")


class SyncApi:
    """The operations, each taking the path's parameters after the request, returning a response."""

    def __init__(self, store: SyncStore, account_sid: str, rate_limit: RateLimit | None = None) -> None:
        self.store = store
        self.account_sid = account_sid
        self.rate_limit = rate_limit
        """Off when None. The control endpoint may swap it while the app runs."""

    def handle(self, method: str, segments: Sequence[str], request: ApiRequest) -> ApiResponse:
        match = match_route(segments)
        if match is None:
            return ApiResponse.error(
                EmulatorError(TwilioCode.ROUTE_NOT_FOUND, f"The requested resource /{'/'.join(segments)} was not found")
            )
        handlers, params = match
        handler = handlers.get(method)
        if handler is None:
            return ApiResponse.error(method_not_allowed(method, handlers))
        try:
            return handler(self, request, *params)
        except ValidationError as exc:
            return ApiResponse.error(EmulatorError(exc.code, exc.message))
        except EmulatorError as exc:
            return ApiResponse.error(exc)

    def _check_rate(self, service: str, map_ref: str) -> None:
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

    # Services

    def list_services(self, request: ApiRequest) -> ApiResponse:
        return _list_response(
            request,
            "services",
            "/v1/Services",
            PageParams.parse(request.query, int),
            partial(self.store.list_services, self.account_sid),
            render_service,
            position=lambda service: service.id,
        )

    def create_service(self, request: ApiRequest) -> ApiResponse:
        # UniqueName is not in Twilio's spec for services (it is read-only there); the emulator
        # accepts it so that seeds and tests can address services by name.
        settings = _service_settings(request.form)
        service = self.store.create_service(self.account_sid, unique_name=_unique_name(request.form), **settings)
        return ApiResponse(201, render_service(service, request.base_url))

    def fetch_service(self, request: ApiRequest, service: str) -> ApiResponse:
        return ApiResponse(200, render_service(self.store.get_service(self.account_sid, service), request.base_url))

    def update_service(self, request: ApiRequest, service: str) -> ApiResponse:
        updated = self.store.update_service(self.account_sid, service, **_service_settings(request.form))
        return ApiResponse(200, render_service(updated, request.base_url))

    def delete_service(self, request: ApiRequest, service: str) -> ApiResponse:
        self.store.delete_service(self.account_sid, service)
        return ApiResponse(204)

    # Maps

    def list_maps(self, request: ApiRequest, service: str) -> ApiResponse:
        params = PageParams.parse(request.query, int)
        found = self.store.get_service(self.account_sid, service)
        return _list_response(
            request,
            "maps",
            f"{_service_path(found.sid)}/Maps",
            params,
            partial(self.store.list_maps, found),
            render_map,
            position=lambda sync_map: sync_map.id,
        )

    def create_map(self, request: ApiRequest, service: str) -> ApiResponse:
        ttl = _ttl(request.form, "CollectionTtl", alias="Ttl")
        created = self.store.create_map(self.account_sid, service, unique_name=_unique_name(request.form), ttl=ttl or 0)
        return ApiResponse(201, render_map(created, request.base_url))

    def fetch_map(self, request: ApiRequest, service: str, sync_map: str) -> ApiResponse:
        found = self.store.get_map(self.account_sid, service, sync_map)
        return ApiResponse(200, render_map(found, request.base_url))

    def update_map(self, request: ApiRequest, service: str, sync_map: str) -> ApiResponse:
        ttl = _ttl(request.form, "CollectionTtl", alias="Ttl")
        if ttl is None:
            raise EmulatorError(TwilioCode.NOTHING_TO_UPDATE, "Nothing to update: give Ttl or CollectionTtl")
        self._check_rate(service, sync_map)
        updated = self.store.update_map(self.account_sid, service, sync_map, ttl=ttl)
        return ApiResponse(200, render_map(updated, request.base_url))

    def delete_map(self, request: ApiRequest, service: str, sync_map: str) -> ApiResponse:
        self.store.delete_map(self.account_sid, service, sync_map)
        return ApiResponse(204)

    # Map items

    def list_items(self, request: ApiRequest, service: str, sync_map: str) -> ApiResponse:
        query = request.query
        order = query.get("Order", "asc")
        if order not in ORDERS:
            raise EmulatorError(TwilioCode.INVALID_ORDER, f"Order must be asc or desc, not {order!r}")
        bounds = query.get("Bounds", "inclusive")
        if bounds not in BOUNDS:
            raise EmulatorError(TwilioCode.INVALID_BOUNDS, f"Bounds must be inclusive or exclusive, not {bounds!r}")
        from_key = query.get("From") or None  # decision: an empty From is no From (no key is empty)
        params = PageParams.parse(query, str)
        found = self.store.get_map(self.account_sid, service, sync_map)
        filters = []
        if from_key is not None:
            filters += [("From", from_key), ("Bounds", bounds)]
        if "Order" in query:
            filters.append(("Order", order))
        return _list_response(
            request,
            "items",
            _items_path(found.service_sid, found.sid),
            params,
            partial(self.store.list_items, found),
            render_item,
            position=lambda item: item.key,
            start=None if from_key is None else (from_key, bounds == "inclusive"),
            descending=order == "desc",
            filters=filters,
        )

    def _item_response(self, status: int, item: ItemRecord, request: ApiRequest) -> ApiResponse:
        return ApiResponse(status, render_item(item, request.base_url), {"ETag": etag(item.revision)})

    def create_item(self, request: ApiRequest, service: str, sync_map: str) -> ApiResponse:
        form = request.form
        key = check_key(form.get("Key", ""))
        if "Data" not in form:
            raise EmulatorError(TwilioCode.DATA_MISSING, "Data is required to create a Map Item")
        data = _stored_data(form["Data"])
        item_ttl = _ttl(form, "ItemTtl", alias="Ttl")
        collection_ttl = _ttl(form, "CollectionTtl")
        self._check_rate(service, sync_map)
        item = self.store.create_item(
            self.account_sid, service, sync_map, key, data, ttl=item_ttl or 0, collection_ttl=collection_ttl
        )
        return self._item_response(201, item, request)

    def fetch_item(self, request: ApiRequest, service: str, sync_map: str, key: str) -> ApiResponse:
        return self._item_response(200, self.store.get_item(self.account_sid, service, sync_map, key), request)

    def update_item(self, request: ApiRequest, service: str, sync_map: str, key: str) -> ApiResponse:
        form = request.form
        data = _stored_data(form["Data"]) if "Data" in form else None
        item_ttl = _ttl(form, "ItemTtl", alias="Ttl")
        collection_ttl = _ttl(form, "CollectionTtl")
        if data is None and item_ttl is None:
            # CollectionTtl counts only beside Data or a TTL (Twilio refuses it alone).
            raise EmulatorError(
                TwilioCode.NOTHING_TO_UPDATE,
                "Nothing to update: give Data or a TTL (CollectionTtl only goes with one of them)",
            )
        self._check_rate(service, sync_map)
        item = self.store.update_item(
            self.account_sid,
            service,
            sync_map,
            key,
            data=data,
            ttl=item_ttl,
            collection_ttl=collection_ttl,
            if_match=request.if_match,
        )
        return self._item_response(200, item, request)

    def delete_item(self, request: ApiRequest, service: str, sync_map: str, key: str) -> ApiResponse:
        self._check_rate(service, sync_map)
        self.store.delete_item(self.account_sid, service, sync_map, key, if_match=request.if_match)
        return ApiResponse(204)


Handler = Callable[..., ApiResponse]

_PARAM = None
"""A route segment that matches any one non-empty path segment and is passed to the handler."""

ROUTES: tuple[tuple[tuple[str | None, ...], dict[str, Handler]], ...] = (
    (("v1", "Services"), {"GET": SyncApi.list_services, "POST": SyncApi.create_service}),
    (
        ("v1", "Services", _PARAM),
        {"GET": SyncApi.fetch_service, "POST": SyncApi.update_service, "DELETE": SyncApi.delete_service},
    ),
    (("v1", "Services", _PARAM, "Maps"), {"GET": SyncApi.list_maps, "POST": SyncApi.create_map}),
    (
        ("v1", "Services", _PARAM, "Maps", _PARAM),
        {"GET": SyncApi.fetch_map, "POST": SyncApi.update_map, "DELETE": SyncApi.delete_map},
    ),
    (
        ("v1", "Services", _PARAM, "Maps", _PARAM, "Items"),
        {"GET": SyncApi.list_items, "POST": SyncApi.create_item},
    ),
    (
        ("v1", "Services", _PARAM, "Maps", _PARAM, "Items", _PARAM),
        {"GET": SyncApi.fetch_item, "POST": SyncApi.update_item, "DELETE": SyncApi.delete_item},
    ),
)


def match_route(segments: Sequence[str]) -> tuple[dict[str, Handler], list[str]] | None:
    """The handlers for a path given as decoded segments, and the path's parameters."""
    for pattern, handlers in ROUTES:
        if len(pattern) != len(segments):
            continue
        params = []
        for expected, segment in zip(pattern, segments):
            if expected is _PARAM and segment:
                params.append(segment)
            elif expected != segment:
                break
        else:
            return handlers, params
    return None
