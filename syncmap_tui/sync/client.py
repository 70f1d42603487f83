"""An async client for the Sync v1 REST API: services, maps and map items, on one httpx.AsyncClient.

Reads retry on 429, 5xx and dropped connections with capped, jittered exponential backoff that
honours Retry-After. Writes are never retried here: whether a write that failed mid-way was
applied is for the caller to settle, by fetching the item and comparing.
"""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import dataclass
from typing import Any, AsyncIterator, Awaitable, Callable, Generic, Literal, TypeVar
from urllib.parse import urlsplit

import httpx

from syncmap_tui.sync.auth import Credentials
from syncmap_tui.sync.errors import (
    BadResponse,
    NetworkError,
    RateLimited,
    ReadOnlyRefused,
    RequestTimedOut,
    ServerError,
    SyncError,
    error_from_response,
)
from syncmap_tui.sync.models import MapItem, Service, SyncMap, url_segment
from syncmap_tui.sync.urls import TWILIO_SYNC_URL, is_loopback_url
from syncmap_tui.sync.validation import check_key, check_size, check_ttl, encode_data

DEFAULT_TIMEOUT_SECONDS = 10.0
MAX_PAGE_SIZE = 100

KEEPALIVE_SECONDS = 50.0
"""Decision: how long an idle connection is kept for the next request. httpx's default, 5 s, made
a save after a pause pay a new TCP and TLS handshake first (two round trips more, 200-600 ms far
from Twilio). A server that closes an idle connection sooner costs nothing: the pool sees the
closed socket before reusing it and opens another (and a GET sent just as it closes goes again:
`SyncClient._request`). No keep-alive request is sent while idle:
each would be an API request counted against the account's limits, to save a handshake only
after 50 s without any."""
MAX_CONNECTIONS = 8
"""Requests that go out together (the deep link's four, a page and the tree's maps) each need a
connection under HTTP/1.1; under HTTP/2 they share one."""

Order = Literal["asc", "desc"]
Bounds = Literal["inclusive", "exclusive"]
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How reads are retried. Twilio asks clients to back off on 429; Retry-After is obeyed as sent."""

    attempts: int = 4
    base_delay: float = 0.25
    max_delay: float = 4.0
    max_retry_after: float = 10.0
    """A longer Retry-After is not waited out silently: the error goes to the user, who can retry."""

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return retry_after
        capped = min(self.max_delay, self.base_delay * 2**attempt)
        return random.uniform(capped / 2, capped)  # "equal jitter": spread retries, keep a floor


NO_RETRY = RetryPolicy(attempts=1)


@dataclass(frozen=True)
class Page(Generic[T]):
    records: list[T]
    next_page_url: str | None

    @property
    def has_more(self) -> bool:
        return self.next_page_url is not None


WRITE_MAY_HAVE_BEEN_APPLIED = " (the write may have been applied)"

CLOSED_BEFORE_ANSWER = "Server disconnected without sending a response"
"""httpcore's words when the connection closed before any byte of the answer came."""
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)
"""Transport failures that happen before a request leaves: a write that met one was not applied."""


def _page_size(value: int) -> int:
    return min(value, MAX_PAGE_SIZE)


def _form_ttl(value: int | None) -> str | None:
    return None if value is None else str(check_ttl(value))


class SyncClient:
    """One Sync account. `base_url` may be real Twilio, an emulator URL, or any URL with `transport`."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        base_url: str = TWILIO_SYNC_URL,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        read_only: bool = False,
        retry: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.credentials = credentials
        self.base_url = base_url.rstrip("/")
        self.read_only = read_only
        self.retry = retry
        self._sleep = sleep
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            auth=httpx.BasicAuth(credentials.username, credentials.secret),
            transport=transport,
            timeout=timeout,
            headers={"Accept": "application/json", "User-Agent": "syncmap-tui"},
            # A local emulator must not be reached through HTTP(S)_PROXY, which would see the token.
            trust_env=not is_loopback_url(self.base_url),
            limits=httpx.Limits(
                max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS,
                keepalive_expiry=KEEPALIVE_SECONDS,
            ),
            # Offered over TLS only (ALPN), and HTTP/1.1 if the server declines: requests sent
            # together then share the one warm connection instead of each opening its own.
            http2=self.base_url.startswith("https://"),
        )

    def __repr__(self) -> str:
        return f"SyncClient(base_url={self.base_url!r}, account_sid={self.credentials.account_sid!r})"

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> "SyncClient":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- transport ---------------------------------------------------------------------------

    async def _send(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        form: dict[str, str | None] | None = None,
        if_match: str | None = None,
        retry: RetryPolicy | None = None,
    ) -> httpx.Response:
        """`retry`: this read's own policy instead of the client's (the watch backs off by itself)."""
        is_write = method != "GET"
        retry = retry or self.retry
        if is_write and self.read_only:
            raise ReadOnlyRefused(f"read-only: refused to send {method} {url}")
        headers = {"If-Match": if_match} if if_match is not None else None
        data = {k: v for k, v in form.items() if v is not None} if form is not None else None
        attempts = 1 if is_write else retry.attempts
        for attempt in range(attempts):
            try:
                response = await self._request(method, url, params=params, data=data, headers=headers)
                if response.is_success:
                    return response
                raise error_from_response(response.status_code, _json_or_none(response), response.headers)
            except (RateLimited, ServerError) as exc:
                retry_after = exc.retry_after if isinstance(exc, RateLimited) else None
                if attempt + 1 >= attempts or (retry_after or 0) > retry.max_retry_after:
                    raise
                await self._sleep(retry.delay(attempt, retry_after))
            except httpx.TimeoutException as exc:
                # A read that timed out is safe to repeat; a write's outcome is unknown,
                # unless it never got a connection.
                if attempt + 1 >= attempts:
                    unknown = is_write and not isinstance(exc, _NOT_SENT)
                    raise RequestTimedOut(
                        f"no answer from {self.base_url} in time" + (WRITE_MAY_HAVE_BEEN_APPLIED if unknown else ""),
                        may_have_been_applied=unknown,
                    ) from exc
                await self._sleep(retry.delay(attempt, None))
            except httpx.TransportError as exc:
                # A connection lost after the request went out leaves a write as uncertain as a timeout.
                if attempt + 1 >= attempts:
                    unknown = is_write and not isinstance(exc, _NOT_SENT)
                    raise NetworkError(
                        f"could not reach {self.base_url}: {_describe(exc)}"
                        + (WRITE_MAY_HAVE_BEEN_APPLIED if unknown else ""),
                        may_have_been_applied=unknown,
                    ) from exc
                await self._sleep(retry.delay(attempt, None))
            except httpx.DecodingError as exc:
                # Not a TransportError: a body whose Content-Encoding does not decode (a broken proxy).
                raise BadResponse(
                    f"the server's answer to {method} could not be decoded: {_describe(exc)}"
                    + (WRITE_MAY_HAVE_BEEN_APPLIED if is_write else ""),
                    may_have_been_applied=is_write,
                ) from exc
        raise AssertionError("unreachable: the loop returns or raises")

    async def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One request. Decision: a GET that meets a connection closed before any answer goes again
        at once, on a new connection, whatever the retry policy (RFC 9112 §9.3.1.1 allows it for
        idempotent requests). A server closes an idle kept-alive connection when it chooses; a
        request sent as it does is lost unread. The emulator's keep-alive (uvicorn: 5 s) equals the
        watch's interval (5 s), the worst case for that race, and a watch poll lost so held the next
        one back 10 s. A write is never sent twice: its outcome is unknown (NetworkError says so)."""
        try:
            return await self._http.request(method, url, **kwargs)
        except httpx.RemoteProtocolError as exc:
            if method != "GET" or not str(exc).startswith(CLOSED_BEFORE_ANSWER):
                raise
            return await self._http.request(method, url, **kwargs)

    async def _json(self, method: str, url: str, **kwargs: Any) -> Any:
        response = await self._send(method, url, **kwargs)
        body = _json_or_none(response)
        if body is None:
            raise BadResponse(
                f"the server's answer to {method} was not JSON "
                f"(HTTP {response.status_code}, {response.headers.get('content-type', 'no content type')})"
            )
        return body

    async def _page(
        self, url: str, params: dict[str, Any] | None, list_key: str, parse: Callable[[Any], T],
        retry: RetryPolicy | None = None,
    ) -> Page[T]:
        body = await self._json("GET", url, params=params, retry=retry)
        records = body.get(list_key) if isinstance(body, dict) else None
        meta = body.get("meta") if isinstance(body, dict) else None
        if not isinstance(records, list) or not isinstance(meta, dict):
            raise BadResponse(f"the server's list of {list_key} has no {list_key!r} array or no 'meta'")
        next_url = meta.get("next_page_url")
        if next_url is not None and not isinstance(next_url, str):
            raise BadResponse("the server's next_page_url is not a string")
        if next_url:
            self._check_page_url(next_url)
        return Page([parse(record) for record in records], next_url or None)

    def _check_page_url(self, url: str) -> None:
        """The credentials go with every page request, so a next page must stay on this server.

        Twilio may name another of its own hosts (an edge, or the global one), always over https.
        """
        ours, theirs = urlsplit(self.base_url), urlsplit(url)
        if not theirs.scheme and not theirs.netloc:
            return  # relative: resolved against base_url
        same_origin = (theirs.scheme, theirs.netloc) == (ours.scheme, ours.netloc)
        twilio = (ours.hostname or "").endswith(".twilio.com")
        another_twilio_host = twilio and theirs.scheme == "https" and (theirs.hostname or "").endswith(".twilio.com")
        if not (same_origin or another_twilio_host):
            raise BadResponse(f"the server's next page is on another host ({theirs.hostname}); not following it")

    async def _iterate(self, first: Callable[[], Awaitable[Page[T]]], list_key: str, parse: Callable[[Any], T]) -> AsyncIterator[T]:
        page = await first()
        while True:
            for record in page.records:
                yield record
            if page.next_page_url is None:
                return
            page = await self._page(page.next_page_url, None, list_key, parse)

    # -- services ------------------------------------------------------------------------------

    def list_services(self, *, page_size: int = 50) -> AsyncIterator[Service]:
        return self._iterate(lambda: self.list_service_page(page_size=page_size), "services", Service.from_api)

    async def list_service_page(self, *, page_size: int = 50, page_url: str | None = None) -> Page[Service]:
        if page_url is not None:
            return await self._page(page_url, None, "services", Service.from_api)
        return await self._page("/v1/Services", {"PageSize": _page_size(page_size)}, "services", Service.from_api)

    async def fetch_service(self, sid_or_unique_name: str) -> Service:
        return Service.from_api(await self._json("GET", f"/v1/Services/{url_segment(sid_or_unique_name)}"))

    async def create_service(self, *, friendly_name: str | None = None, unique_name: str | None = None) -> Service:
        form = {"FriendlyName": friendly_name, "UniqueName": unique_name}
        return Service.from_api(await self._json("POST", "/v1/Services", form=form))

    async def delete_service(self, sid: str) -> None:
        await self._send("DELETE", f"/v1/Services/{url_segment(sid)}")

    # -- maps -----------------------------------------------------------------------------------

    def _maps_path(self, service_sid: str) -> str:
        return f"/v1/Services/{url_segment(service_sid)}/Maps"

    def list_maps(self, service_sid: str, *, page_size: int = 50) -> AsyncIterator[SyncMap]:
        return self._iterate(
            lambda: self.list_map_page(service_sid, page_size=page_size), "maps", SyncMap.from_api
        )

    async def list_map_page(
        self, service_sid: str, *, page_size: int = 50, page_url: str | None = None
    ) -> Page[SyncMap]:
        if page_url is not None:
            return await self._page(page_url, None, "maps", SyncMap.from_api)
        params = {"PageSize": _page_size(page_size)}
        return await self._page(self._maps_path(service_sid), params, "maps", SyncMap.from_api)

    async def fetch_map(self, service_sid: str, sid_or_unique_name: str) -> SyncMap:
        url = f"{self._maps_path(service_sid)}/{url_segment(sid_or_unique_name)}"
        return SyncMap.from_api(await self._json("GET", url))

    async def create_map(
        self, service_sid: str, *, unique_name: str | None = None, collection_ttl: int | None = None
    ) -> SyncMap:
        form = {"UniqueName": unique_name, "CollectionTtl": _form_ttl(collection_ttl)}
        return SyncMap.from_api(await self._json("POST", self._maps_path(service_sid), form=form))

    async def update_map(self, service_sid: str, map_sid: str, *, collection_ttl: int) -> SyncMap:
        url = f"{self._maps_path(service_sid)}/{url_segment(map_sid)}"
        return SyncMap.from_api(await self._json("POST", url, form={"CollectionTtl": _form_ttl(collection_ttl)}))

    async def delete_map(self, service_sid: str, map_sid: str) -> None:
        await self._send("DELETE", f"{self._maps_path(service_sid)}/{url_segment(map_sid)}")

    # -- map items ------------------------------------------------------------------------------

    def _items_path(self, service_sid: str, map_sid: str) -> str:
        return f"{self._maps_path(service_sid)}/{url_segment(map_sid)}/Items"

    def _item_path(self, service_sid: str, map_sid: str, key: str) -> str:
        return f"{self._items_path(service_sid, map_sid)}/{url_segment(key)}"

    def list_items(
        self,
        service_sid: str,
        map_sid: str,
        *,
        page_size: int = 50,
        order: Order = "asc",
        from_key: str | None = None,
        bounds: Bounds = "inclusive",
    ) -> AsyncIterator[MapItem]:
        first = lambda: self.list_item_page(  # noqa: E731
            service_sid, map_sid, page_size=page_size, order=order, from_key=from_key, bounds=bounds
        )
        return self._iterate(first, "items", MapItem.from_api)

    async def list_item_page(
        self,
        service_sid: str,
        map_sid: str,
        *,
        page_size: int = 50,
        order: Order = "asc",
        from_key: str | None = None,
        bounds: Bounds = "inclusive",
        page_url: str | None = None,
        retry: RetryPolicy | None = None,
    ) -> Page[MapItem]:
        """One page of items; pass a previous page's `next_page_url` as `page_url` for the next."""
        if page_url is not None:
            return await self._page(page_url, None, "items", MapItem.from_api, retry)
        params: dict[str, Any] = {"PageSize": _page_size(page_size), "Order": order}
        if from_key is not None:
            params["From"] = from_key
            params["Bounds"] = bounds
        return await self._page(self._items_path(service_sid, map_sid), params, "items", MapItem.from_api, retry)

    async def fetch_item(self, service_sid: str, map_sid: str, key: str, *, retry: RetryPolicy | None = None) -> MapItem:
        return MapItem.from_api(await self._json("GET", self._item_path(service_sid, map_sid, key), retry=retry))

    async def create_item(
        self,
        service_sid: str,
        map_sid: str,
        key: str,
        data: dict[str, Any],
        *,
        item_ttl: int | None = None,
        collection_ttl: int | None = None,
    ) -> MapItem:
        wire = encode_data(data)
        check_key(key)
        check_size(wire)
        form = {
            "Key": key,
            "Data": wire,
            "ItemTtl": _form_ttl(item_ttl),
            "CollectionTtl": _form_ttl(collection_ttl),
        }
        return MapItem.from_api(await self._json("POST", self._items_path(service_sid, map_sid), form=form))

    async def update_item(
        self,
        service_sid: str,
        map_sid: str,
        key: str,
        *,
        data: dict[str, Any] | None = None,
        item_ttl: int | None = None,
        collection_ttl: int | None = None,
        if_match: str | None,
    ) -> MapItem:
        """Update an item. `if_match` is required by name: pass None only to overwrite on purpose."""
        wire = None
        if data is not None:
            wire = encode_data(data)
            check_size(wire)
        form = {"Data": wire, "ItemTtl": _form_ttl(item_ttl), "CollectionTtl": _form_ttl(collection_ttl)}
        url = self._item_path(service_sid, map_sid, key)
        return MapItem.from_api(await self._json("POST", url, form=form, if_match=if_match))

    async def delete_item(self, service_sid: str, map_sid: str, key: str, *, if_match: str | None) -> None:
        await self._send("DELETE", self._item_path(service_sid, map_sid, key), if_match=if_match)


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: absurdly deep nesting
        return None


def _describe(exc: httpx.HTTPError) -> str:
    return str(exc) or type(exc).__name__


__all__ = [
    "Bounds",
    "NO_RETRY",
    "Order",
    "Page",
    "RetryPolicy",
    "SyncClient",
    "SyncError",
    "TWILIO_SYNC_URL",
]
