"""Twilio's error codes, the HTTP status each travels with, and the typed errors the client raises.

The code → status table is the one place where this project decides the statuses that Twilio
does not publish (see shared/sync-api-notes.md); the emulator answers from it (every code it
sends is here, paging and protocol codes included) and the client reads responses through it.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any, Mapping


class TwilioCode(IntEnum):
    AUTH_FAILED = 20003
    ROUTE_NOT_FOUND = 20404
    SERVICE_NOT_FOUND = 54050
    MAP_NOT_FOUND = 54200
    ITEM_NOT_FOUND = 54201
    KEY_EXISTS = 54208
    UNIQUE_NAME_EXISTS = 54301
    UNIQUE_NAME_INVALID = 54302
    REVISION_MISMATCH = 54205
    DATA_TOO_LARGE = 54006
    DATA_INVALID = 54008
    DATA_MISSING = 54206
    KEY_INVALID = 54209
    TTL_INVALID = 54011
    NOTHING_TO_UPDATE = 54010
    RATE_LIMITED = 54009
    INVALID_ORDER = 54451
    INVALID_BOUNDS = 54452
    INVALID_PAGE_TOKEN = 54453
    INVALID_PAGE_SIZE = 54454
    METHOD_NOT_ALLOWED = 20004
    SERVICE_UNAVAILABLE = 20503
    # Twilio's generic "Bad Request", for parameters Sync has no code of its own for.
    BAD_REQUEST = 400
    # Not a Twilio code: the emulator's injected server faults need a body too.
    INTERNAL = 20500


HTTP_STATUS: dict[TwilioCode, int] = {
    TwilioCode.AUTH_FAILED: 401,
    TwilioCode.ROUTE_NOT_FOUND: 404,
    TwilioCode.SERVICE_NOT_FOUND: 404,
    TwilioCode.MAP_NOT_FOUND: 404,  # decision: unpublished
    TwilioCode.ITEM_NOT_FOUND: 404,
    TwilioCode.KEY_EXISTS: 409,
    TwilioCode.UNIQUE_NAME_EXISTS: 409,
    TwilioCode.UNIQUE_NAME_INVALID: 400,
    TwilioCode.REVISION_MISMATCH: 412,
    TwilioCode.DATA_TOO_LARGE: 413,  # decision: unpublished
    TwilioCode.DATA_INVALID: 400,  # decision: unpublished
    TwilioCode.DATA_MISSING: 400,
    TwilioCode.KEY_INVALID: 400,  # decision: unpublished
    TwilioCode.TTL_INVALID: 400,  # decision: unpublished
    TwilioCode.NOTHING_TO_UPDATE: 400,  # decision: unpublished
    TwilioCode.RATE_LIMITED: 429,
    TwilioCode.INVALID_ORDER: 400,  # decision: unpublished
    TwilioCode.INVALID_BOUNDS: 400,  # decision: unpublished
    TwilioCode.INVALID_PAGE_TOKEN: 400,  # decision: unpublished
    TwilioCode.INVALID_PAGE_SIZE: 400,  # decision: unpublished
    TwilioCode.METHOD_NOT_ALLOWED: 405,
    TwilioCode.SERVICE_UNAVAILABLE: 503,
    TwilioCode.BAD_REQUEST: 400,
    TwilioCode.INTERNAL: 500,
}


def more_info_url(code: int) -> str:
    return f"https://www.twilio.com/docs/errors/{code}"


def error_body(code: TwilioCode, message: str, status: int | None = None) -> dict[str, Any]:
    """The exact error body Twilio sends. No `type` or `title`: twilio-python changes class on them."""
    return {
        "code": int(code),
        "message": message,
        "more_info": more_info_url(code),
        "status": status if status is not None else HTTP_STATUS[code],
    }


class SyncError(Exception):
    """Anything the Sync client reports. `code` and `status` are Twilio's when the server sent them.
    `may_have_been_applied`: a write that went out and got no usable answer (the server may have
    committed it); False when it never left, or for a read."""

    def __init__(
        self, message: str, *, code: int | None = None, status: int | None = None, may_have_been_applied: bool = False
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.may_have_been_applied = may_have_been_applied

    def __str__(self) -> str:
        if self.code is not None and self.status is not None:
            return f"{self.message} (HTTP {self.status}, Twilio error {self.code})"
        if self.status is not None:
            return f"{self.message} (HTTP {self.status})"
        return self.message


class AuthFailed(SyncError):
    """401/20003: the credentials were refused."""


class NotFound(SyncError):
    """404: a route, service, map or item does not exist."""


class ServiceNotFound(NotFound):
    pass


class MapNotFound(NotFound):
    pass


class ItemNotFound(NotFound):
    pass


class RevisionConflict(SyncError):
    """412/54205: the If-Match revision is no longer the current one."""


class AlreadyExists(SyncError):
    """409: an item key or unique name is taken."""


class KeyExists(AlreadyExists):
    pass


class UniqueNameExists(AlreadyExists):
    pass


class InvalidRequest(SyncError):
    """400-class refusals of the request's content."""


class DataTooLarge(InvalidRequest):
    pass


class InvalidData(InvalidRequest):
    pass


class InvalidTtl(InvalidRequest):
    pass


class InvalidKey(InvalidRequest):
    pass


class RateLimited(SyncError):
    """429: slow down. `retry_after` is in seconds when the server said."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(SyncError):
    """5xx from the server or a proxy in front of it."""


class BadResponse(SyncError):
    """The response was not what Twilio sends: HTML from a proxy, cut-off JSON, a missing field."""


class NetworkError(SyncError):
    """The request did not complete: refused, reset or dropped connection, DNS or TLS failure."""


class RequestTimedOut(SyncError):
    """No answer in time. For a write, whether it was applied is unknown."""


class ReadOnlyRefused(SyncError):
    """The client is read-only and was asked to write; nothing was sent."""


_CLASS_BY_CODE: dict[int, type[SyncError]] = {
    TwilioCode.AUTH_FAILED: AuthFailed,
    TwilioCode.ROUTE_NOT_FOUND: NotFound,
    TwilioCode.SERVICE_NOT_FOUND: ServiceNotFound,
    TwilioCode.MAP_NOT_FOUND: MapNotFound,
    TwilioCode.ITEM_NOT_FOUND: ItemNotFound,
    TwilioCode.KEY_EXISTS: KeyExists,
    TwilioCode.UNIQUE_NAME_EXISTS: UniqueNameExists,
    TwilioCode.UNIQUE_NAME_INVALID: InvalidRequest,
    TwilioCode.REVISION_MISMATCH: RevisionConflict,
    TwilioCode.DATA_TOO_LARGE: DataTooLarge,
    TwilioCode.DATA_INVALID: InvalidData,
    TwilioCode.DATA_MISSING: InvalidData,
    TwilioCode.KEY_INVALID: InvalidKey,
    TwilioCode.TTL_INVALID: InvalidTtl,
    TwilioCode.NOTHING_TO_UPDATE: InvalidRequest,
    TwilioCode.RATE_LIMITED: RateLimited,
    TwilioCode.INVALID_ORDER: InvalidRequest,
    TwilioCode.INVALID_BOUNDS: InvalidRequest,
    TwilioCode.INVALID_PAGE_TOKEN: InvalidRequest,
    TwilioCode.INVALID_PAGE_SIZE: InvalidRequest,
    TwilioCode.METHOD_NOT_ALLOWED: InvalidRequest,  # the request was wrong, not the server
    TwilioCode.SERVICE_UNAVAILABLE: ServerError,
    TwilioCode.BAD_REQUEST: InvalidRequest,
}

_CLASS_BY_STATUS: dict[int, type[SyncError]] = {
    401: AuthFailed,
    404: NotFound,
    409: AlreadyExists,
    412: RevisionConflict,
    413: DataTooLarge,
    429: RateLimited,
}


def _retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP-date is allowed by RFC 9110 but Twilio sends seconds


def error_from_response(status: int, body: Any, headers: Mapping[str, str]) -> SyncError:
    """Turn a non-2xx response into a typed error; `body` is the parsed JSON or None."""
    code = message = None
    if isinstance(body, dict):
        raw_code = body.get("code")
        code = raw_code if isinstance(raw_code, int) else None
        raw_message = body.get("message")
        message = raw_message if isinstance(raw_message, str) else None
    cls = _CLASS_BY_CODE.get(code) if code is not None else None
    if cls is None:
        cls = _CLASS_BY_STATUS.get(status)
    if cls is None:
        cls = ServerError if status >= 500 else InvalidRequest if 400 <= status < 500 else BadResponse
    if message is None:
        message = (
            "the server answered with an error page"
            if body is None
            else "the server answered with an error it did not explain"
        )
    if cls is RateLimited:
        return RateLimited(message, code=code, status=status, retry_after=_retry_after_seconds(headers))
    return cls(message, code=code, status=status)
