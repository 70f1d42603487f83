"""Sync Map Items: rendering, the ETag, Data as stored, handlers and routes of .../Maps/{map}/Items."""

from __future__ import annotations

from functools import lru_cache, partial

from syncmap_tui.emulator.errors import EmulatorError
from syncmap_tui.emulator.paging import PageParams, list_response
from syncmap_tui.emulator.params import ttl
from syncmap_tui.emulator.store import ItemRecord
from syncmap_tui.emulator.wire import (
    CREATED_BY,
    PARAM,
    ApiRequest,
    ApiResponse,
    Resource,
    Route,
    items_path,
    json_string,
    when_json,
)
from syncmap_tui.sync.errors import TwilioCode
from syncmap_tui.sync.models import url_segment
from syncmap_tui.sync.validation import check_key, check_size, encode_data, parse_data, wire_size


@lru_cache(maxsize=256)
def _item_fields_json(base_url: str, account_sid: str, service_sid: str, map_sid: str) -> str:
    """What every item of one map has in common: the JSON between its key and the key in its URL."""
    url_prefix = f"{base_url}{items_path(service_sid, map_sid)}/"
    return (
        f',"account_sid":{json_string(account_sid)},"service_sid":{json_string(service_sid)}'
        f',"map_sid":{json_string(map_sid)},"url":{json_string(url_prefix)[:-1]}'
    )


_CREATED_BY_JSON = json_string(CREATED_BY)


def render_item(item: ItemRecord, base_url: str) -> str:
    # Written out rather than dumped: the stored data is already compact JSON (what to_json would
    # write again after a json.loads), and decoding and re-encoding it was most of a page's time.
    # The URL's key is percent-encoded (keys may hold "/", "?", "#", as clients must send them),
    # which leaves nothing to escape in JSON: it continues the string _item_fields_json opens.
    common = _item_fields_json(base_url, item.account_sid, item.service_sid, item.map_sid)
    return (
        f'{{"key":{json_string(item.key)}{common}{url_segment(item.key)}"'
        f',"revision":"{item.revision}","data":{item.data},"date_expires":{when_json(item.date_expires)}'
        f',"date_created":{when_json(item.date_created)},"date_updated":{when_json(item.date_updated)}'
        f',"created_by":{_CREATED_BY_JSON}}}'
    )


def etag(revision: int) -> str:
    """Decision: the ETag is the revision exactly as the body's `revision` and If-Match carry it:
    `ETag: 3`, not the quoted entity tag `"3"` of RFC 9110. Twilio's guide ("Mutation and
    Conflict Resolution") passes the revision back as If-Match, and If-Match is compared exactly
    (no `*`, no `W/`, no quotes stripped: see `SyncStore._check_revision`), so a client that echoes
    the ETag it was given must get a match, not a 412."""
    return str(revision)


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


class ItemHandlers(Resource):
    """GET and POST .../Items, and GET, POST and DELETE .../Items/{key}."""

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
        return list_response(
            request,
            "items",
            items_path(found.service_sid, found.sid),
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
        item_ttl = ttl(form, "ItemTtl", alias="Ttl")
        collection_ttl = ttl(form, "CollectionTtl")
        self.check_rate(service, sync_map)
        item = self.store.create_item(
            self.account_sid, service, sync_map, key, data, ttl=item_ttl or 0, collection_ttl=collection_ttl
        )
        return self._item_response(201, item, request)

    def fetch_item(self, request: ApiRequest, service: str, sync_map: str, key: str) -> ApiResponse:
        return self._item_response(200, self.store.get_item(self.account_sid, service, sync_map, key), request)

    def update_item(self, request: ApiRequest, service: str, sync_map: str, key: str) -> ApiResponse:
        form = request.form
        data = _stored_data(form["Data"]) if "Data" in form else None
        item_ttl = ttl(form, "ItemTtl", alias="Ttl")
        collection_ttl = ttl(form, "CollectionTtl")
        if data is None and item_ttl is None:
            # CollectionTtl counts only beside Data or a TTL (Twilio refuses it alone).
            raise EmulatorError(
                TwilioCode.NOTHING_TO_UPDATE,
                "Nothing to update: give Data or a TTL (CollectionTtl only goes with one of them)",
            )
        self.check_rate(service, sync_map)
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
        self.check_rate(service, sync_map)
        self.store.delete_item(self.account_sid, service, sync_map, key, if_match=request.if_match)
        return ApiResponse(204)


ROUTES: tuple[Route, ...] = (
    (
        ("v1", "Services", PARAM, "Maps", PARAM, "Items"),
        {"GET": ItemHandlers.list_items, "POST": ItemHandlers.create_item},
    ),
    (
        ("v1", "Services", PARAM, "Maps", PARAM, "Items", PARAM),
        {"GET": ItemHandlers.fetch_item, "POST": ItemHandlers.update_item, "DELETE": ItemHandlers.delete_item},
    ),
)
