"""Which page of a map's items to ask for next, and what an answer changes: the item table's rules,
headless, so that a property test can drive them against a reference list.

The table shows a *window* of a map's items: consecutive keys, in the server's order (by key, as
code points, which is the order of their UTF-8 bytes), at most `MAX_ROWS` of them. The rules:

* **Generations.** `restart` (open a map, jump to a key, refresh) begins a new listing generation
  and every request belongs to the generation it was made in. An answer that arrives for an older
  request is dropped: a page still loading when the user jumped must not land in the new list.
* **One request at a time.** While a page is on its way, no other is asked for; a restart takes
  its place (the old answer is then stale).
* **Pages by key, not by link.** The page after the window is `From=<last key>`,
  `Bounds=exclusive`; the page before it is the same in descending order from the first key. The
  server's `next_page_url` only says whether more exist. A link is a snapshot of where the list
  stood when the page was made; the window changes under it (trims drop rows, the user creates
  and deletes items), and a key is always the right place to go on from.
* **Read-ahead.** The next page is asked for while the rows loaded beyond the view would still
  last `READ_AHEAD_PAGE_DOWNS` page-downs (`request_near`), so that paging at a steady pace never
  reaches the end of the loaded rows while the server has more.
* **Trims.** Past `MAX_ROWS`, the rows farthest from where the user is going are dropped, down to
  `KEEP_ROWS` (so trims, a rebuild of the table, come every other page, not every page). Dropped
  rows are loaded again when the user comes back: the window then knows there is more that way.
* **The user's own creates and deletes** change the window at once, in key order, and never move
  where the next page starts. A created key outside the loaded range is left to the page that
  will bring it.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from syncmap_tui.sync.models import MapItem

if TYPE_CHECKING:
    from syncmap_tui.sync.client import Page, SyncClient

PAGE_SIZE = 100
"""Twilio's largest page: fewest round trips while scrolling a big map."""
MAX_ROWS = 1_000
"""The most rows the table keeps. A row costs ~8 KB (the item, its cells, the table's own records):
without a limit, paging through 10,000 items of a 100,000-item map grew the process by ~80 MB."""
KEEP_ROWS = 800
"""What is left after a trim: trims (a rebuild of the table, ~30 ms) come every other page, not every page."""
READ_AHEAD_PAGE_DOWNS = 3
"""The next page is asked for while the loaded rows beyond the view would still last this many
page-downs: at one page-down per 0.3 s, a page then has ~0.9 s to arrive, three round trips of a
far server (bench/bench_latency.py). A fixed 20 rows was under half a page-down of a 60-row
terminal: paging showed the end of the loaded rows four times in 1,000 items at 150 ms."""
MIN_READ_AHEAD_ROWS = PAGE_SIZE // 2
"""However short the view, the next page is asked for half a page ahead."""


def read_ahead_rows(view_height: int) -> int:
    """How many loaded rows beyond the view call for the next page."""
    return max(MIN_READ_AHEAD_ROWS, READ_AHEAD_PAGE_DOWNS * view_height)

Direction = Literal["first", "after", "before"]


@dataclass(frozen=True, eq=False)
class PageRequest:
    """One page to ask the server for. Compared by identity: each request is answered once."""

    generation: int
    direction: Direction
    """"first": the window's first page (from `from_key`, inclusive, or from the start);
    "after"/"before": the page that follows the window's last key / precedes its first key."""
    from_key: str | None

    @property
    def descending(self) -> bool:
        return self.direction == "before"

    @property
    def bounds(self) -> Literal["inclusive", "exclusive"]:
        return "inclusive" if self.direction == "first" else "exclusive"


@dataclass(frozen=True)
class WindowChange:
    """What an answer or an edit did to the window, for the table to mirror.

    `appended` lists rows that went on after the last row, with nothing else changed: the table
    adds them. Otherwise `rebuilt` is True and the table shows `ItemWindow.items` anew."""

    appended: tuple[MapItem, ...] = ()
    rebuilt: bool = False


NO_CHANGE = WindowChange()


class ItemWindow:
    """The loaded window of one map's items, and the one request in flight. No I/O: the caller
    asks the server what `PageRequest` says and hands the answer to `apply`.

    The window is a *listed range* of keys, `low` to `high` (both inclusive; None: the map's start
    or end), and `items` holds the keys in it as the server listed them, plus the user's own
    creates, less the user's own deletes. Deletes never narrow the range, so a window emptied by
    deletes still knows where it stands."""

    def __init__(self, *, max_rows: int = MAX_ROWS, keep_rows: int = KEEP_ROWS) -> None:
        if not 0 < keep_rows <= max_rows:
            raise ValueError("keep_rows must be from 1 to max_rows")
        self.max_rows = max_rows
        self.keep_rows = keep_rows
        self.items: dict[str, MapItem] = {}
        """The window, in key order."""
        self.low: str | None = None
        """The lowest key of the listed range; None: from the map's first key."""
        self.high: str | None = None
        """The highest key of the listed range; None: to the map's last key."""
        self.generation = 0
        self.pending: PageRequest | None = None

    @property
    def has_more(self) -> bool:
        """Keys after the listed range may exist on the server."""
        return self.high is not None

    @property
    def has_earlier(self) -> bool:
        """Keys before the listed range may exist on the server (dropped by a trim, or jumped past)."""
        return self.low is not None

    @property
    def first_key(self) -> str | None:
        return next(iter(self.items), None)

    @property
    def last_key(self) -> str | None:
        return next(reversed(self.items), None)

    # -- what to ask for ----------------------------------------------------------------------

    def restart(self, from_key: str | None = None) -> PageRequest:
        """Begin a new listing at `from_key` (inclusive) or at the start. The rows stay until its
        answer arrives, so a failed request leaves the table as it was."""
        self.generation += 1
        self.pending = PageRequest(self.generation, "first", from_key)
        return self.pending

    def request_after(self) -> PageRequest | None:
        """The page after the window, if there may be one and nothing is on its way."""
        if self.pending is not None or self.high is None:
            return None
        self.pending = PageRequest(self.generation, "after", self.high)
        return self.pending

    def request_before(self) -> PageRequest | None:
        """The page before the window, if there may be one and nothing is on its way."""
        if self.pending is not None or self.low is None:
            return None
        self.pending = PageRequest(self.generation, "before", self.low)
        return self.pending

    def request_near(self, rows_above: int, rows_below: int, view_height: int) -> PageRequest | None:
        """The page to ask for, if any, when `rows_above` loaded rows lie above the view (or the
        cursor) and `rows_below` below it: the page after the window before the page before it,
        each once fewer than `read_ahead_rows` are left that way."""
        # Capped at a third of what a trim keeps besides the view, so that after a trim the rows on
        # both sides of the view cannot both be within reach: else each page trims the rows the
        # other side then asks for again, back and forth for ever.
        ahead = min(read_ahead_rows(view_height), max(0, (self.keep_rows - view_height) // 3))
        request = self.request_after() if rows_below <= ahead else None
        if request is None and rows_above <= ahead:
            request = self.request_before()
        return request

    # -- answers -------------------------------------------------------------------------------

    def failed(self, request: PageRequest) -> None:
        """The request got no answer: the window stays as it was, and may ask again."""
        if request is self.pending:
            self.pending = None

    def apply(self, request: PageRequest, records: list[MapItem], more: bool) -> WindowChange | None:
        """Take in the answer to `request` (records in the order the server sent them; `more`:
        the server has a next page). None when the answer is stale and was dropped."""
        if request is not self.pending:
            return None
        self.pending = None
        boundary = request.from_key
        if request.direction == "first":
            fresh = [r for r in records if boundary is None or r.key >= boundary]
            self.items = {}
            self._merge(fresh)
            self.low = boundary
            self.high = _last_of(fresh, boundary) if more else None
            if len(self.items) > self.max_rows:  # a page larger than the window
                self._keep_first(self.keep_rows)
            return WindowChange(rebuilt=True)
        if request.direction == "after":
            fresh = [r for r in records if boundary is None or r.key > boundary]
            appended = self._merge(fresh)
            self.high = _last_of(fresh, boundary) if more else None
            if len(self.items) > self.max_rows:
                keys = list(self.items)[-self.keep_rows :]
                self.items = {key: self.items[key] for key in keys}
                self.low = keys[0]
                return WindowChange(rebuilt=True)
            return WindowChange(appended=appended) if appended is not None else WindowChange(rebuilt=True)
        fresh = [r for r in records if boundary is None or r.key < boundary]
        self._merge(fresh)
        self.low = min((r.key for r in fresh), default=boundary) if more else None
        if len(self.items) > self.max_rows:
            self._keep_first(self.keep_rows)
        return WindowChange(rebuilt=True)

    # -- the user's own changes ---------------------------------------------------------------

    def covers(self, key: str) -> bool:
        """Whether `key` falls inside the listed range, where it would show if it existed."""
        if self.pending is not None and self.pending.direction == "first":
            return False  # the listing is being replaced; its first page will bring the key
        return (self.low is None or key >= self.low) and (self.high is None or key <= self.high)

    def insert(self, item: MapItem) -> WindowChange:
        """An item created (or seen) here: shown at its place in key order if the window covers it."""
        if item.key in self.items:
            self.items[item.key] = item
            return WindowChange(rebuilt=True)
        if not self.covers(item.key):
            return NO_CHANGE
        appended = self._merge([item])
        if len(self.items) > self.max_rows:
            self._keep_around(item.key)
            return WindowChange(rebuilt=True)
        return WindowChange(appended=appended) if appended is not None else WindowChange(rebuilt=True)

    def update(self, item: MapItem) -> bool:
        """A newer version of a loaded item; False if it is not in the window."""
        if item.key not in self.items:
            return False
        self.items[item.key] = item
        return True

    def remove(self, key: str) -> bool:
        return self.items.pop(key, None) is not None

    # -- internals -----------------------------------------------------------------------------

    def _keep_first(self, count: int) -> None:
        keys = list(self.items)[:count]
        self.items = {key: self.items[key] for key in keys}
        self.high = keys[-1]

    def _keep_around(self, key: str) -> None:
        """Trim to `keep_rows` rows with `key` among them, the range narrowed where rows went. A
        page on its way was asked for the old range: its answer is dropped, and asked for again."""
        keys = list(self.items)
        start = min(max(keys.index(key) - self.keep_rows // 2, 0), len(keys) - self.keep_rows)
        kept = keys[start : start + self.keep_rows]
        if start > 0:
            self.low = kept[0]
        if start + self.keep_rows < len(keys):
            self.high = kept[-1]
        self.items = {k: self.items[k] for k in kept}
        self.pending = None

    def _merge(self, records: list[MapItem]) -> tuple[MapItem, ...] | None:
        """Add the records not loaded yet. Returns them if they all went after the last row (in
        order), else None (the window was re-sorted)."""
        last = self.last_key
        new = sorted({r.key: r for r in records if r.key not in self.items}.values(), key=_key_of)
        if not new:
            return ()
        if last is None or new[0].key > last:
            for record in new:
                self.items[record.key] = record
            return tuple(new)
        merged = list(self.items.values())
        for record in new:
            bisect.insort(merged, record, key=_key_of)
        self.items = {record.key: record for record in merged}
        return None


def _last_of(records: list[MapItem], default: str | None) -> str | None:
    """The highest key of a page (the server sends it in order), or `default` for an empty page."""
    return max((r.key for r in records), default=default)


def _key_of(item: MapItem) -> str:
    return item.key


async def fetch_page(
    client: SyncClient, service_sid: str, map_sid: str, request: PageRequest, *, page_size: int = PAGE_SIZE
) -> Page[MapItem]:
    """Ask the server for `request`'s page."""
    return await client.list_item_page(
        service_sid,
        map_sid,
        page_size=page_size,
        order="desc" if request.descending else "asc",
        from_key=request.from_key,
        bounds=request.bounds,
    )
