"""The item window's paging rules (syncmap_tui/sync/paging.py) against a reference list of keys.

A fake server lists a sorted list of keys as Twilio does (From, Bounds, Order, a page size, and
whether more follow). Random scrolls, jumps, refreshes, creates and deletes, with answers that
arrive late or never: the window is always in key order with no duplicate, no gap, and flags
that never hide a key that exists.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from syncmap_tui.sync.models import MapItem
from syncmap_tui.sync.paging import ItemWindow, PageRequest

WHEN = datetime(2026, 1, 15, tzinfo=timezone.utc)


def item(key: str, revision: str = "0") -> MapItem:
    return MapItem(key, "AC", "IS", "MP", f"https://x/{key}", revision, {}, None, WHEN, WHEN, "system")


class FakeServer:
    def __init__(self, keys: list[str], page_size: int) -> None:
        self.keys = sorted(set(keys))
        self.page_size = page_size

    def answer(self, request: PageRequest) -> tuple[list[MapItem], bool]:
        """The page's records (in the order the server sends them) and whether more follow."""
        start = request.from_key
        if request.descending:
            keys = [k for k in reversed(self.keys) if start is None or k < start]
        elif request.bounds == "inclusive":
            keys = [k for k in self.keys if start is None or k >= start]
        else:
            keys = [k for k in self.keys if start is None or k > start]
        page = keys[: self.page_size]
        return [item(k) for k in page], len(keys) > self.page_size


def answer(window: ItemWindow, server: FakeServer, request: PageRequest):
    records, more = server.answer(request)
    return window.apply(request, records, more)


def load_all_after(window: ItemWindow, server: FakeServer) -> None:
    while (request := window.request_after()) is not None:
        answer(window, server, request)


def test_a_page_after_a_jump_from_the_old_listing_is_dropped():
    server = FakeServer([f"sku-{i:05d}" for i in range(10_000)], page_size=100)
    window = ItemWindow()
    answer(window, server, window.restart())
    late = window.request_after()  # the user scrolled: the page after sku-00099 is on its way
    jump = window.restart("sku-05000")
    answer(window, server, jump)
    assert answer(window, server, late) is None, "the old listing's page is dropped"
    assert window.first_key == "sku-05000" and "sku-00100" not in window.items


def test_a_created_key_takes_its_place_and_the_next_page_still_starts_after_the_last_row():
    server = FakeServer([f"sku-{i:05d}" for i in range(0, 3000, 2)], page_size=100)
    window = ItemWindow(max_rows=300, keep_rows=200)
    answer(window, server, window.restart())
    for _ in range(7):  # far enough that the first rows were dropped
        answer(window, server, window.request_after())
    assert window.has_earlier
    last = window.last_key
    server.keys = sorted(server.keys + ["sku-01201", "aaa-new"])
    window.insert(item("sku-01201"))  # inside the window: shown in key order
    window.insert(item("aaa-new"))  # before the window (rows were dropped there): left to that page
    assert "sku-01201" in window.items and "aaa-new" not in window.items
    assert list(window.items) == sorted(window.items)
    request = window.request_after()
    assert request.from_key == last and request.bounds == "exclusive"


def test_a_jump_past_the_last_key_can_page_back_to_the_end():
    server = FakeServer(["a", "b", "c"], page_size=2)
    window = ItemWindow()
    answer(window, server, window.restart("zzz"))
    assert not window.items and window.has_earlier and not window.has_more
    answer(window, server, window.request_before())
    assert list(window.items) == ["b", "c"] and window.has_earlier
    answer(window, server, window.request_before())
    assert list(window.items) == ["a", "b", "c"] and not window.has_earlier


def test_a_failed_first_page_leaves_the_window_as_it_was():
    server = FakeServer(["a", "b"], page_size=10)
    window = ItemWindow()
    answer(window, server, window.restart())
    request = window.restart("b")
    window.failed(request)
    assert list(window.items) == ["a", "b"] and window.pending is None


def test_keep_rows_must_fit_in_max_rows():
    with pytest.raises(ValueError):
        ItemWindow(max_rows=10, keep_rows=11)


key_strategy = st.text(alphabet="abcde", min_size=1, max_size=3)


class WindowMachine(RuleBasedStateMachine):
    """The window against the server's list. The user's own creates and deletes reach both; pages
    may be answered late, after a newer request took their place, or never."""

    @initialize(keys=st.lists(key_strategy, max_size=60), page_size=st.integers(1, 7), max_rows=st.integers(4, 20))
    def setup(self, keys, page_size, max_rows):
        self.server = FakeServer(keys, page_size)
        self.window = ItemWindow(max_rows=max_rows, keep_rows=max(1, max_rows * 2 // 3))
        self.late: list[PageRequest] = []
        answer(self.window, self.server, self.window.restart())

    @rule(from_key=st.none() | key_strategy)
    def jump_or_refresh(self, from_key):
        if self.window.pending is not None:
            self.late.append(self.window.pending)
        answer(self.window, self.server, self.window.restart(from_key))

    @rule()
    def scroll_down(self):
        request = self.window.request_after()
        if request is not None:
            answer(self.window, self.server, request)

    @rule()
    def scroll_up(self):
        request = self.window.request_before()
        if request is not None:
            answer(self.window, self.server, request)

    @rule(down=st.booleans())
    def ask_and_leave_it_on_its_way(self, down):
        request = self.window.request_after() if down else self.window.request_before()
        if request is not None:
            self.late.append(request)

    @precondition(lambda self: self.late)
    @rule(data=st.data())
    def a_late_answer_arrives(self, data):
        request = self.late.pop(data.draw(st.integers(0, len(self.late) - 1)))
        current = self.window.pending is request
        change = answer(self.window, self.server, request)
        assert (change is not None) == current, "only the answer to the request in flight is taken"

    @precondition(lambda self: self.window.pending is not None)
    @rule()
    def the_request_in_flight_fails(self):
        self.window.failed(self.window.pending)

    @rule(key=key_strategy)
    def create(self, key):
        if key in self.server.keys:
            return  # 409: nothing is created
        self.server.keys = sorted(self.server.keys + [key])
        self.window.insert(item(key))

    @precondition(lambda self: self.window.items)
    @rule(data=st.data())
    def delete(self, data):
        key = data.draw(st.sampled_from(sorted(self.window.items)))
        self.server.keys.remove(key)
        self.window.remove(key)

    @invariant()
    def in_key_order_without_duplicates(self):
        keys = list(self.window.items)
        assert keys == sorted(set(keys))
        assert len(keys) <= self.window.max_rows

    @invariant()
    def no_gap_and_no_hidden_key(self):
        keys = list(self.window.items)
        if self.window.pending is not None and self.window.pending.direction == "first":
            return  # the old rows stay until the new listing's first page comes
        if keys:
            between = [k for k in self.server.keys if keys[0] <= k <= keys[-1]]
            assert keys == between, "every key between the first and the last loaded one is loaded"
            if not self.window.has_more:
                assert not [k for k in self.server.keys if k > keys[-1]]
            if not self.window.has_earlier:
                assert not [k for k in self.server.keys if k < keys[0]]

    @invariant()
    def scrolling_down_reaches_the_end(self):
        if self.window.pending is not None:
            return
        probe = ItemWindow(max_rows=10_000, keep_rows=10_000)
        probe.items = dict(self.window.items)
        probe.low, probe.high = self.window.low, self.window.high
        load_all_after(probe, self.server)
        if probe.items:
            last = self.server.keys[-1] if self.server.keys else None
            assert probe.last_key == last or (
                not self.window.items and self.window.has_earlier
            ), "paging down ends at the map's last key"


def window_runs(examples: int) -> type:
    """The machine's TestCase with `examples` runs of up to 40 steps, derandomized (the same runs
    every time)."""
    return type(
        "WindowRuns",
        (WindowMachine.TestCase,),
        {"settings": settings(max_examples=examples, stateful_step_count=40, deadline=None, derandomize=True)},
    )


# The default suite runs 75 (~0.7 s of CPU; 150 took ~1.2 s); `pytest -m fuzz` runs 600 (~6 s).
test_window_against_the_server = window_runs(75)
test_window_against_the_server_long = pytest.mark.fuzz(window_runs(600))
