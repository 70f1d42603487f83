"""Paging: where a page starts (the opaque PageToken), which rows it holds, and Twilio's list envelope."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence, cast
from urllib.parse import quote, urlencode

from syncmap_tui.emulator.errors import EmulatorError
from syncmap_tui.emulator.params import is_utf8
from syncmap_tui.emulator.store import Bound
from syncmap_tui.emulator.wire import ApiRequest, ApiResponse, json_string, to_json
from syncmap_tui.sync.errors import TwilioCode

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
"""Decision (sync-api-notes.md): a larger PageSize is clamped to this, not refused."""

MAX_ROW_ID = 2**63 - 1
"""SQLite's largest INTEGER: the largest id a service or map can have, so the largest position a
page token of theirs can hold."""


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
        if isinstance(position, str) and not is_utf8(position):  # an escaped lone surrogate ("\ud800") parses
            raise EmulatorError(TwilioCode.INVALID_PAGE_TOKEN, f"PageToken {token!r} is invalid")
        if isinstance(position, int) and not 0 <= position <= MAX_ROW_ID:  # SQLite would raise OverflowError
            raise EmulatorError(TwilioCode.INVALID_PAGE_TOKEN, f"PageToken {token!r} is invalid")
        return cls(bool(backward), cast("int | str", position), bool(inclusive))


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


def list_response(
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
    return ApiResponse(200, f'{{{json_string(list_key)}:[{rendered}],"meta":{to_json(meta)}}}')

