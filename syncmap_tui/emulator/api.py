"""The Sync v1 REST surface: the routes of every resource, and the dispatch of a request to its handler.

Each resource is one module with its rendering, parameters, handlers and routes: `services`,
`maps`, `items`. What they share is in `wire` (request, response, JSON text, paths), `params`
(parameters more than one reads) and `paging` (page tokens and the list envelope). Adding Sync
Documents or Lists is one module like them, one base class more for `SyncApi` and its routes
in `ROUTES`, beside one store module and one migration (see `store`).

Everything here is synchronous and free of ASGI: the app (`app.py`) authenticates, reads the
request, and runs `SyncApi.handle` in a worker thread so the store never blocks the event loop.
"""

from __future__ import annotations

from typing import Sequence

from syncmap_tui.emulator import items, maps, services
from syncmap_tui.emulator.errors import EmulatorError, method_not_allowed
from syncmap_tui.emulator.items import ItemHandlers
from syncmap_tui.emulator.maps import MapHandlers
from syncmap_tui.emulator.services import ServiceHandlers
from syncmap_tui.emulator.wire import PARAM, ApiRequest, ApiResponse, Handler, Route
from syncmap_tui.sync.errors import TwilioCode
from syncmap_tui.sync.validation import ValidationError

ROUTES: tuple[Route, ...] = (*services.ROUTES, *maps.ROUTES, *items.ROUTES)


class SyncApi(ServiceHandlers, MapHandlers, ItemHandlers):
    """The operations, each taking the path's parameters after the request, returning a response."""

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


def match_route(segments: Sequence[str]) -> tuple[dict[str, Handler], list[str]] | None:
    """The handlers for a path given as decoded segments, and the path's parameters."""
    for pattern, handlers in ROUTES:
        if len(pattern) != len(segments):
            continue
        params = []
        for expected, segment in zip(pattern, segments):
            if expected is PARAM and segment:
                params.append(segment)
            elif expected != segment:
                break
        else:
            return handlers, params
    return None
