"""Find in a map's values: the query language, and a read-only scan of the whole map, page by page.

Sync has no search on the server (sync-api-notes.md: "no server-side search in values"), so a
find lists every item and tests it here. Two kinds of query:

- **Text** (anything that is not a path test): a substring of the item's data as compact JSON,
  the very text a save sends (`{"status":"failed","n":3}`), so `"status":"failed"` finds an exact
  field and `failed` finds it anywhere. Smart case: case-insensitive unless the query holds a
  capital letter. Inside JSON strings a quote is `\\"` and a backslash `\\\\`.
- **Path test** `path=value`: `status=failed`, `customer.email=a@b.c`, `items.0.sku=X1`. The path
  is dot-separated names (letters, digits, `_`, `-`, `$`); a number indexes an array. The value is
  compared exactly, as JSON:
  - a JSON literal (`3`, `2.5`, `true`, `false`, `null`, `"3"`, `[1,2]`, `{"a":1}`) equals the same
    JSON value (numbers by value: `3` equals `3.0`; `true` is not `1`);
  - text that is not a quoted JSON string also equals the string spelled the same, so
    `code=200` finds `200` and `"200"`, `status=failed` finds `"failed"`, and `note=` finds `""`;
  - a quoted string (`code="200"`) equals that string only.
  An item without the path does not match. Spaces around `=` are ignored.

A query starting with `~` is always text (`~a=b` finds the characters `a=b`).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, AsyncIterator, Awaitable, Callable

from syncmap_tui.sync.errors import RateLimited
from syncmap_tui.sync.merge import json_equal
from syncmap_tui.sync.validation import encode_data

if TYPE_CHECKING:
    from syncmap_tui.sync.client import SyncClient
    from syncmap_tui.sync.models import MapItem

TEXT_PREFIX = "~"
"""Forces a text query, for text that would read as a path test."""

_PATH_TEST = re.compile(r"\s*([A-Za-z0-9_$-]+(?:\.[A-Za-z0-9_$-]+)*)\s*=(.*)", re.DOTALL)

SCAN_PAGE_SIZE = 100
"""Twilio's largest page: the fewest requests for a whole map."""
MIN_SECONDS_BETWEEN_PAGES = 0.1
"""At most 10 pages a second: Twilio allows 20 reads a second per object (the map), and a scan of
a production map must leave half of that to the service's own clients. 10,000 items take 10 s."""
MAX_MATCHES = 1000
"""A find that matches more stops there: a list of thousands is not read, and narrowing the query
is quicker than scrolling it."""
MAX_RATE_LIMIT_WAITS = 5
"""429s in a row (after the client's own retries) before the scan gives up and says so."""
LONGEST_RATE_LIMIT_WAIT_SECONDS = 60.0
"""A Retry-After longer than this is waited out only this long before asking again."""
RATE_LIMIT_WAIT_WITHOUT_RETRY_AFTER = 2.0


def ignores_case(query: str) -> bool:
    """Smart case, as vim and ripgrep: a query with no capital letter ignores case."""
    return query == query.lower()


def smart_case_contains(query: str) -> Callable[[str], bool]:
    """`query in text`, with smart case (`ignores_case`)."""
    if not ignores_case(query):
        return lambda text: query in text
    folded = query.casefold()
    return lambda text: folded in text.casefold()


@dataclass(frozen=True)
class TextQuery:
    text: str
    contains: Callable[[str], bool] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "contains", smart_case_contains(self.text))

    def matches(self, data: dict[str, Any]) -> bool:
        return self.contains(compact_json(data))

    def describe(self) -> str:
        return f"data containing {self.text!r}"


_MISSING = object()


@dataclass(frozen=True)
class PathQuery:
    path: tuple[str, ...]
    value_text: str
    """The value as typed (stripped)."""
    literal: Any = field(default=_MISSING)
    """The value read as JSON, or _MISSING when it is not JSON."""
    also_string: bool = True
    """Unquoted: also equals the string spelled as typed."""

    def matches(self, data: dict[str, Any]) -> bool:
        found = value_at(data, self.path)
        if found is _MISSING:
            return False
        if self.literal is not _MISSING and json_equal(_as_json_number(found), _as_json_number(self.literal)):
            return True
        return self.also_string and found == self.value_text

    def describe(self) -> str:
        return f"{'.'.join(self.path)} = {self.value_text}"


Query = TextQuery | PathQuery


def parse_query(text: str) -> Query | None:
    """The query typed; None for an empty one (nothing to find)."""
    if text.startswith(TEXT_PREFIX):
        text = text[len(TEXT_PREFIX):]
        return TextQuery(text) if text else None
    test = _PATH_TEST.fullmatch(text)
    if test is None:
        return TextQuery(text) if text.strip() else None
    path, value_text = tuple(test.group(1).split(".")), test.group(2).strip()
    try:
        literal = json.loads(value_text)
    except ValueError:  # not JSON: a bare word, compared as a string
        return PathQuery(path, value_text)
    quoted = isinstance(literal, str)
    return PathQuery(path, value_text, literal, also_string=not quoted)


def compact_json(value: Any) -> str:
    """The text a save sends (encode_data); a NaN or Infinity that a server sent (Python's JSON reads
    them) is written as `NaN`, so that one such item does not stop a scan of the map."""
    try:
        return encode_data(value)
    except ValueError:  # ValidationError included
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=True)


def value_at(data: Any, path: tuple[str, ...]) -> Any:
    """The value at `path` (names into objects, numbers into arrays), or _MISSING."""
    node = data
    for step in path:
        if isinstance(node, dict):
            if step not in node:
                return _MISSING
            node = node[step]
        elif isinstance(node, list) and step.isdecimal() and int(step) < len(node):
            node = node[int(step)]
        else:
            return _MISSING
    return node


def _as_json_number(value: Any) -> Any:
    """Numbers compare by value (3 == 3.0, as JSON has one number type); bools stay bools."""
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


# -- the scan --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanStep:
    """What one page of the scan found, and where the scan is."""

    scanned: int
    """Items tested so far, this page included."""
    matches: tuple[MapItem, ...]
    """This page's matches (the scan keeps no list of its own)."""
    waiting_seconds: float | None = None
    """Set when the server said 429: the scan waits this long, then asks for the page again."""
    done: bool = False
    """The last page was scanned, or MAX_MATCHES were found (`capped`)."""
    capped: bool = False


class ScanGaveUp(RateLimited):
    """The server kept answering 429: the scan stopped, with what it had found so far shown."""


async def scan_map(
    client: SyncClient,
    service_sid: str,
    map_sid: str,
    query: Query,
    *,
    page_size: int = SCAN_PAGE_SIZE,
    min_seconds_between_pages: float | None = None,
    max_matches: int | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> AsyncIterator[ScanStep]:
    """Every item of the map, in key order, tested against `query`: one step per page.

    Read-only (GETs only). Cancelling the task that iterates stops it inside the request or the
    wait it is in: no further request goes out. Pages are at least `min_seconds_between_pages`
    apart; a 429 that outlasts the client's own retries is waited out (ScanStep.waiting_seconds)
    up to MAX_RATE_LIMIT_WAITS times in a row. None: MIN_SECONDS_BETWEEN_PAGES and MAX_MATCHES as they
    are when the scan starts.
    """
    pace = MIN_SECONDS_BETWEEN_PAGES if min_seconds_between_pages is None else min_seconds_between_pages
    cap = MAX_MATCHES if max_matches is None else max_matches
    scanned = found = 0
    page_url: str | None = None
    last_request: float | None = None
    waits = 0
    while True:
        if last_request is not None:
            pause = last_request + pace - clock()
            if pause > 0:
                await sleep(pause)
        last_request = clock()
        try:
            page = await client.list_item_page(service_sid, map_sid, page_size=page_size, page_url=page_url)
        except RateLimited as limited:
            waits += 1
            if waits > MAX_RATE_LIMIT_WAITS:
                raise ScanGaveUp(
                    f"the server kept answering 429 (too many requests) after {scanned:,} items", retry_after=limited.retry_after
                ) from limited
            wait = min(limited.retry_after or RATE_LIMIT_WAIT_WITHOUT_RETRY_AFTER, LONGEST_RATE_LIMIT_WAIT_SECONDS)
            yield ScanStep(scanned, (), waiting_seconds=wait)
            await sleep(wait)
            continue
        waits = 0
        matches = []
        for item in page.records:
            scanned += 1
            if query.matches(item.data):
                matches.append(item)
                found += 1
                if found >= cap:
                    yield ScanStep(scanned, tuple(matches), done=True, capped=True)
                    return
        page_url = page.next_page_url
        yield ScanStep(scanned, tuple(matches), done=page_url is None)
        if page_url is None:
            return


def excerpt(data: dict[str, Any], query: Query, width: int = 60) -> str:
    """A short view of why an item matched: the text around a text match, or the path's value."""
    if isinstance(query, PathQuery):
        value = value_at(data, query.path)
        shown = "(absent)" if value is _MISSING else compact_json(value)
        return f"{'.'.join(query.path)}={shown}"[:width]
    text = compact_json(data)
    fold = ignores_case(query.text)
    folded, needle = (text.casefold(), query.text.casefold()) if fold else (text, query.text)
    at = folded.find(needle)
    if at < 0 or len(folded) != len(text):  # casefold changed lengths (ß): show the start
        return text[:width]
    start = max(0, min(at - width // 3, len(text) - width))
    return ("…" if start else "") + text[start : start + width]
