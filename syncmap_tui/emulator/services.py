"""Sync Services: rendering, parameters, handlers and routes of /v1/Services."""

from __future__ import annotations

import ipaddress
import re
from functools import partial
from typing import Any, Callable, Mapping

from syncmap_tui.emulator.errors import EmulatorError
from syncmap_tui.emulator.paging import PageParams, list_response
from syncmap_tui.emulator.params import unique_name, utf8_text
from syncmap_tui.emulator.store import ServiceRecord
from syncmap_tui.emulator.wire import PARAM, ApiRequest, ApiResponse, Resource, Route, service_path, to_json, when
from syncmap_tui.sync.errors import TwilioCode


def render_service(service: ServiceRecord, base_url: str) -> str:
    url = base_url + service_path(service.sid)
    return to_json({
        "sid": service.sid,
        "unique_name": service.unique_name,
        "account_sid": service.account_sid,
        "friendly_name": service.friendly_name,
        "date_created": when(service.date_created),
        "date_updated": when(service.date_updated),
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


_UNRESERVED = r"A-Za-z0-9\-._~"
_SUB_DELIMS = r"!$&'()*+,;="
_PCT = r"%[0-9A-Fa-f]{2}"
_PCHAR = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}:@]|{_PCT})"
HTTP_URL = re.compile(
    rf"(?i:https?)://"
    rf"(?:(?:[{_UNRESERVED}{_SUB_DELIMS}:]|{_PCT})*@)?"  # user info
    rf"(?P<host>\[[^\]/]*\]|(?:[{_UNRESERVED}{_SUB_DELIMS}]|{_PCT})+)"
    rf"(?::(?P<port>[0-9]*))?"
    rf"(?:/{_PCHAR}*)*"  # path
    rf"(?:\?(?:{_PCHAR}|[/?])*)?"  # query
    rf"(?:#(?:{_PCHAR}|[/?])*)?"  # fragment
)
"""An absolute http(s) URL with a host, in RFC 3986's grammar: "[" and "]" only around an IP
literal, one "#". (Looser checks let `http://a/[x]` through, which is no URI.)"""
IP_FUTURE = re.compile(rf"v[0-9A-Fa-f]+\.[{_UNRESERVED}{_SUB_DELIMS}:]+")
MAX_PORT = 65_535


def _webhook_url(value: str, name: str) -> str | None:
    """Decision: empty unsets the webhook; anything else must be an absolute http(s) URL
    (`HTTP_URL`), else 400. The spec's `webhook_url` is `format: uri`, and whatever is stored
    is sent back on every page of services."""
    if not value:
        return None
    if not _is_absolute_http_url(value):
        raise EmulatorError(TwilioCode.BAD_REQUEST, f"{name} must be empty or an absolute http(s) URL, not {value!r}")
    return value


def _is_absolute_http_url(value: str) -> bool:
    match = HTTP_URL.fullmatch(value)
    if match is None:
        return False
    host, port = match["host"], match["port"]
    if port and int(port) > MAX_PORT:
        return False
    if host.startswith("["):
        literal = host[1:-1]
        if IP_FUTURE.fullmatch(literal):
            return True
        try:
            ipaddress.IPv6Address(literal)
        except ValueError:
            return False
    return True


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
    "FriendlyName": ("friendly_name", utf8_text),
    "WebhookUrl": ("webhook_url", _webhook_url),
    "WebhooksFromRestEnabled": ("webhooks_from_rest_enabled", _boolean),
    "ReachabilityWebhooksEnabled": ("reachability_webhooks_enabled", _boolean),
    "AclEnabled": ("acl_enabled", _boolean),
    "ReachabilityDebouncingEnabled": ("reachability_debouncing_enabled", _boolean),
    "ReachabilityDebouncingWindow": ("reachability_debouncing_window", _debouncing_window),
}


def _service_settings(form: Mapping[str, str]) -> dict[str, Any]:
    return {column: parse(form[name], name) for name, (column, parse) in _SERVICE_PARAMETERS.items() if name in form}


class ServiceHandlers(Resource):
    """GET and POST /v1/Services, and GET, POST and DELETE /v1/Services/{service}."""

    def list_services(self, request: ApiRequest) -> ApiResponse:
        return list_response(
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
        service = self.store.create_service(self.account_sid, unique_name=unique_name(request.form), **settings)
        return ApiResponse(201, render_service(service, request.base_url))

    def fetch_service(self, request: ApiRequest, service: str) -> ApiResponse:
        return ApiResponse(200, render_service(self.store.get_service(self.account_sid, service), request.base_url))

    def update_service(self, request: ApiRequest, service: str) -> ApiResponse:
        updated = self.store.update_service(self.account_sid, service, **_service_settings(request.form))
        return ApiResponse(200, render_service(updated, request.base_url))

    def delete_service(self, request: ApiRequest, service: str) -> ApiResponse:
        self.store.delete_service(self.account_sid, service)
        return ApiResponse(204)


ROUTES: tuple[Route, ...] = (
    (("v1", "Services"), {"GET": ServiceHandlers.list_services, "POST": ServiceHandlers.create_service}),
    (
        ("v1", "Services", PARAM),
        {
            "GET": ServiceHandlers.fetch_service,
            "POST": ServiceHandlers.update_service,
            "DELETE": ServiceHandlers.delete_service,
        },
    ),
)
