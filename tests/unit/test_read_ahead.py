"""When the item window asks for the next page: early enough that paging never waits."""

from __future__ import annotations

from datetime import datetime, timezone

from syncmap_tui.sync.models import MapItem
from syncmap_tui.sync.paging import MIN_READ_AHEAD_ROWS, READ_AHEAD_PAGE_DOWNS, ItemWindow, read_ahead_rows

WHEN = datetime(2026, 1, 15, tzinfo=timezone.utc)


def item(key: str) -> MapItem:
    return MapItem(key=key, account_sid="AC", service_sid="IS", map_sid="MP", url="u", revision="0", data={},
                   date_expires=None, date_created=WHEN, date_updated=WHEN, created_by="system")


def window_with_more_both_ways() -> ItemWindow:
    window = ItemWindow()
    first = window.restart("k0100")
    window.apply(first, [item(f"k{n:04d}") for n in range(100, 200)], more=True)
    return window


def test_the_read_ahead_grows_with_the_view():
    assert read_ahead_rows(4) == MIN_READ_AHEAD_ROWS
    assert read_ahead_rows(60) == READ_AHEAD_PAGE_DOWNS * 60


def test_a_tall_view_asks_for_the_next_page_while_several_page_downs_are_left():
    window = window_with_more_both_ways()
    # 60 rows in view, 120 loaded below it: two page-downs left, so the next page is asked for.
    request = window.request_near(rows_above=200, rows_below=120, view_height=60)
    assert request is not None and request.direction == "after" and request.from_key == "k0199"
    assert window.request_near(rows_above=0, rows_below=0, view_height=60) is None  # one at a time


def test_the_page_after_comes_before_the_page_before_and_neither_when_far():
    window = window_with_more_both_ways()
    assert window.request_near(rows_above=500, rows_below=500, view_height=10) is None
    request = window.request_near(rows_above=0, rows_below=500, view_height=10)
    assert request is not None and request.direction == "before" and request.from_key == "k0100"


def test_nothing_is_asked_for_past_the_ends_of_the_map():
    window = ItemWindow()
    first = window.restart()
    window.apply(first, [item("a"), item("b")], more=False)
    assert window.request_near(rows_above=0, rows_below=0, view_height=60) is None
