"""Sync Maps: rendering, handlers and routes of /v1/Services/{service}/Maps."""

from __future__ import annotations

from functools import partial

from syncmap_tui.emulator.errors import EmulatorError
from syncmap_tui.emulator.paging import PageParams, list_response
from syncmap_tui.emulator.params import ttl, unique_name
from syncmap_tui.emulator.store import MapRecord
from syncmap_tui.emulator.wire import (
    CREATED_BY,
    PARAM,
    ApiRequest,
    ApiResponse,
    Resource,
    Route,
    map_path,
    service_path,
    to_json,
    when,
)
from syncmap_tui.sync.errors import TwilioCode


def render_map(sync_map: MapRecord, base_url: str) -> str:
    url = base_url + map_path(sync_map.service_sid, sync_map.sid)
    return to_json({
        "sid": sync_map.sid,
        "unique_name": sync_map.unique_name,
        "account_sid": sync_map.account_sid,
        "service_sid": sync_map.service_sid,
        "url": url,
        "links": {"items": f"{url}/Items", "permissions": f"{url}/Permissions"},
        "revision": str(sync_map.revision),
        "date_expires": when(sync_map.date_expires),
        "date_created": when(sync_map.date_created),
        "date_updated": when(sync_map.date_updated),
        "created_by": CREATED_BY,
    })


class MapHandlers(Resource):
    """GET and POST .../Maps, and GET, POST and DELETE .../Maps/{map}."""

    def list_maps(self, request: ApiRequest, service: str) -> ApiResponse:
        params = PageParams.parse(request.query, int)
        found = self.store.get_service(self.account_sid, service)
        return list_response(
            request,
            "maps",
            f"{service_path(found.sid)}/Maps",
            params,
            partial(self.store.list_maps, found),
            render_map,
            position=lambda sync_map: sync_map.id,
        )

    def create_map(self, request: ApiRequest, service: str) -> ApiResponse:
        collection_ttl = ttl(request.form, "CollectionTtl", alias="Ttl")
        name = unique_name(request.form)
        created = self.store.create_map(self.account_sid, service, unique_name=name, ttl=collection_ttl or 0)
        return ApiResponse(201, render_map(created, request.base_url))

    def fetch_map(self, request: ApiRequest, service: str, sync_map: str) -> ApiResponse:
        found = self.store.get_map(self.account_sid, service, sync_map)
        return ApiResponse(200, render_map(found, request.base_url))

    def update_map(self, request: ApiRequest, service: str, sync_map: str) -> ApiResponse:
        collection_ttl = ttl(request.form, "CollectionTtl", alias="Ttl")
        if collection_ttl is None:
            raise EmulatorError(TwilioCode.NOTHING_TO_UPDATE, "Nothing to update: give Ttl or CollectionTtl")
        self.check_rate(service, sync_map)
        updated = self.store.update_map(self.account_sid, service, sync_map, ttl=collection_ttl)
        return ApiResponse(200, render_map(updated, request.base_url))

    def delete_map(self, request: ApiRequest, service: str, sync_map: str) -> ApiResponse:
        self.store.delete_map(self.account_sid, service, sync_map)
        return ApiResponse(204)


ROUTES: tuple[Route, ...] = (
    (("v1", "Services", PARAM, "Maps"), {"GET": MapHandlers.list_maps, "POST": MapHandlers.create_map}),
    (
        ("v1", "Services", PARAM, "Maps", PARAM),
        {"GET": MapHandlers.fetch_map, "POST": MapHandlers.update_map, "DELETE": MapHandlers.delete_map},
    ),
)
