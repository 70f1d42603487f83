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


def test_a_view_taller_than_the_window_can_hold_both_ways_does_not_load_back_and_forth():
    """A tall view with both ends near: the page after trims rows above, which then called for the
    page before, which trimmed rows below... for ever. The read-ahead leaves room in the window."""
    keys = [f"k{n:05d}" for n in range(10_000)]
    window = ItemWindow(max_rows=250, keep_rows=150)
    window.apply(window.restart("k05000"), [item(k) for k in keys[5000:5100]], more=True)
    window.high, window.low = "k05099", "k05000"  # more both ways
    view_top_key, height = "k05060", 40
    requests = 0
    for _ in range(100):
        loaded = list(window.items)
        top = loaded.index(view_top_key) if view_top_key in loaded else 0
        request = window.request_near(top, len(loaded) - (top + height), height)
        if request is None:
            break
        requests += 1
        if request.direction == "after":
            start = keys.index(request.from_key) + 1
            page = keys[start : start + 100]
        else:
            end = keys.index(request.from_key)
            page = list(reversed(keys[max(0, end - 100) : end]))
        window.apply(request, [item(k) for k in page], more=True)
    assert requests < 10, "pages went on loading both ways"
