"""Services, Maps and Map Items as Twilio's JSON describes them, with the spec's field names."""

from __future__ import annotations

import re
from collections.abc import Mapping  # not typing.Mapping: isinstance() on that is 3× slower, and runs per item read
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from syncmap_tui.sync.errors import BadResponse

_URL_SAFE = re.compile(r"[A-Za-z0-9_.~-]*")
"""The characters quote() never encodes."""
_DOT_SEGMENTS = {".": "%2E", "..": "%2E%2E"}


def url_segment(value: str) -> str:
    """`value` (a key, a SID, a unique name) as one URL path segment, for the client and the emulator.

    Keys may hold "/", "?" and "#": every reserved character is encoded, so the server decodes
    once. quote() leaves "." alone, but URL resolution (httpx's included, RFC 3986) removes "."
    and ".." segments: a key ".." would address the map itself. Percent-encoded dots are not dot
    segments, and still decode to the key. Most keys need no encoding, and checking that is a
    tenth of what quote() costs.
    """
    if value in _DOT_SEGMENTS:
        return _DOT_SEGMENTS[value]
    return value if _URL_SAFE.fullmatch(value) else quote(value, safe="")


DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
"""Twilio's only datetime form: UTC, whole seconds. twilio-python parses nothing else."""

_DATETIME_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-9]{2}:[0-9]{2}Z")
"""DATETIME_FORMAT, zero-padded, ASCII digits only. The hour is bounded here because newer Pythons'
fromisoformat may read 24:00:00 as the next midnight; every other range is checked by datetime."""


def format_datetime(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime(DATETIME_FORMAT)


def parse_datetime(text: str) -> datetime:
    """A Twilio datetime as an aware UTC datetime; ValueError for anything else.

    strptime took 12 µs a date, a quarter of reading a page of items; fromisoformat takes under
    1 µs but reads many other forms (offsets, fractions, no "T"), hence the shape check first.
    """
    if _DATETIME_SHAPE.fullmatch(text) is None:
        raise ValueError(f"not a Twilio datetime ({DATETIME_FORMAT}): {text!r}")
    return datetime.fromisoformat(text)


def _field(payload: Mapping[str, Any], name: str, kind: str) -> Any:
    if name not in payload:
        raise BadResponse(f"the server's {kind} has no {name!r} field")
    return payload[name]


def _text(payload: Mapping[str, Any], name: str, kind: str, *, nullable: bool = False) -> Any:
    value = _field(payload, name, kind)
    if value is None and nullable:
        return None
    if not isinstance(value, str):
        raise BadResponse(f"the server's {kind} has a {name!r} that is not a string")
    return value


def _date(payload: Mapping[str, Any], name: str, kind: str) -> datetime:
    value = _text(payload, name, kind)
    try:
        return parse_datetime(value)
    except ValueError:
        raise BadResponse(f"the server's {kind} has a {name!r} that is not a Twilio datetime") from None


def _optional_date(payload: Mapping[str, Any], name: str, kind: str) -> datetime | None:
    return None if _text(payload, name, kind, nullable=True) is None else _date(payload, name, kind)


def _require_object(payload: Any, kind: str) -> Mapping[str, Any]:
    if not isinstance(payload, Mapping):
        raise BadResponse(f"the server sent something that is not a {kind}")
    return payload


@dataclass(frozen=True)
class Service:
    sid: str
    unique_name: str | None
    friendly_name: str | None
    account_sid: str
    date_created: datetime
    date_updated: datetime
    url: str
    webhook_url: str | None
    webhooks_from_rest_enabled: bool
    acl_enabled: bool

    @classmethod
    def from_api(cls, payload: Any) -> "Service":
        kind = "service"
        payload = _require_object(payload, kind)
        return cls(
            sid=_text(payload, "sid", kind),
            unique_name=_text(payload, "unique_name", kind, nullable=True),
            friendly_name=_text(payload, "friendly_name", kind, nullable=True),
            account_sid=_text(payload, "account_sid", kind),
            date_created=_date(payload, "date_created", kind),
            date_updated=_date(payload, "date_updated", kind),
            url=_text(payload, "url", kind),
            webhook_url=payload.get("webhook_url"),
            webhooks_from_rest_enabled=bool(payload.get("webhooks_from_rest_enabled")),
            acl_enabled=bool(payload.get("acl_enabled")),
        )

    @property
    def display_name(self) -> str:
        return self.friendly_name or self.unique_name or self.sid

    def answers_to(self, name: str) -> bool:
        """Whether a deep link or a command line's SERVICE names this service: SID, unique or friendly name."""
        return name in (self.sid, self.unique_name, self.friendly_name)

    @property
    def saves_call_webhook(self) -> bool:
        """Whether a REST write (every save of this app) makes Twilio call the service's webhook.
        Reachability webhooks fire on client connections, never on a save: they do not count."""
        return bool(self.webhook_url) and self.webhooks_from_rest_enabled


@dataclass(frozen=True)
class SyncMap:
    sid: str
    unique_name: str | None
    account_sid: str
    service_sid: str
    url: str
    revision: str
    date_expires: datetime | None
    date_created: datetime
    date_updated: datetime
    created_by: str

    @classmethod
    def from_api(cls, payload: Any) -> "SyncMap":
        kind = "map"
        payload = _require_object(payload, kind)
        return cls(
            sid=_text(payload, "sid", kind),
            unique_name=_text(payload, "unique_name", kind, nullable=True),
            account_sid=_text(payload, "account_sid", kind),
            service_sid=_text(payload, "service_sid", kind),
            url=_text(payload, "url", kind),
            revision=_text(payload, "revision", kind),
            date_expires=_optional_date(payload, "date_expires", kind),
            date_created=_date(payload, "date_created", kind),
            date_updated=_date(payload, "date_updated", kind),
            created_by=_text(payload, "created_by", kind),
        )

    @property
    def display_name(self) -> str:
        return self.unique_name or self.sid


@dataclass(frozen=True)
class MapItem:
    key: str
    account_sid: str
    service_sid: str
    map_sid: str
    url: str
    revision: str
    data: dict[str, Any]
    date_expires: datetime | None
    date_created: datetime
    date_updated: datetime
    created_by: str

    @classmethod
    def from_api(cls, payload: Any) -> "MapItem":
        kind = "map item"
        payload = _require_object(payload, kind)
        data = _field(payload, "data", kind)
        if not isinstance(data, dict):
            raise BadResponse("the server's map item has data that is not a JSON object")
        return cls(
            key=_text(payload, "key", kind),
            account_sid=_text(payload, "account_sid", kind),
            service_sid=_text(payload, "service_sid", kind),
            map_sid=_text(payload, "map_sid", kind),
            url=_text(payload, "url", kind),
            revision=_text(payload, "revision", kind),
            data=data,
            date_expires=_optional_date(payload, "date_expires", kind),
            date_created=_date(payload, "date_created", kind),
            date_updated=_date(payload, "date_updated", kind),
            created_by=_text(payload, "created_by", kind),
        )
