"""The watch's poll policy and loop, on a fake clock: intervals, backoff, Retry-After, pause."""

from __future__ import annotations

import asyncio

import pytest

from syncmap_tui.sync.errors import NetworkError, RateLimited, ServerError
from syncmap_tui.sync.watch import BUDGET_PER_MINUTE, ITEM_INTERVAL, MAX_BACKOFF, PAGE_INTERVAL, Poll, PollPolicy, Watcher


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


def test_budget_is_stated_in_requests_per_minute_and_well_under_twilio_limits() -> None:
    assert BUDGET_PER_MINUTE == 60 / ITEM_INTERVAL + 60 / PAGE_INTERVAL == 14
    assert BUDGET_PER_MINUTE / 60 < 20 * 0.05  # under 5 % of Twilio's 20 reads a second per object


def test_the_item_is_due_every_interval_and_the_page_less_often() -> None:
    clock = FakeClock()
    policy = PollPolicy(clock)
    assert policy.due() == [] and policy.wait() == ITEM_INTERVAL
    clock.now += ITEM_INTERVAL
    assert policy.due() == [Poll.ITEM]
    policy.succeeded(Poll.ITEM)
    assert policy.wait() == ITEM_INTERVAL
    clock.now += PAGE_INTERVAL
    assert set(policy.due()) == {Poll.ITEM, Poll.PAGE}


def test_failures_back_off_every_poll_doubling_up_to_the_cap_and_a_success_ends_it() -> None:
    clock = FakeClock()
    policy = PollPolicy(clock)
    clock.now += ITEM_INTERVAL
    held = [policy.failed(Poll.ITEM, ServerError("503")) for _ in range(8)]
    assert held[:3] == [ITEM_INTERVAL * 2, ITEM_INTERVAL * 4, ITEM_INTERVAL * 8]
    assert held[-1] == MAX_BACKOFF
    clock.now += MAX_BACKOFF - 1
    assert policy.due() == []  # the page too: one account's limits
    clock.now += 1
    assert set(policy.due()) == {Poll.ITEM, Poll.PAGE}
    policy.succeeded(Poll.ITEM)
    assert policy.failures == 0 and policy.wait() == 0  # the page is still due


def test_retry_after_is_honoured_when_longer_than_the_backoff() -> None:
    clock = FakeClock()
    policy = PollPolicy(clock)
    assert policy.failed(Poll.ITEM, RateLimited("slow down", retry_after=42)) == 42
    assert policy.wait() == 42
    assert policy.failed(Poll.ITEM, RateLimited("slow down", retry_after=1)) == ITEM_INTERVAL * 4


def test_restart_moves_a_poll_a_full_interval_away_but_not_inside_a_backoff() -> None:
    clock = FakeClock()
    policy = PollPolicy(clock)
    clock.now += 4
    policy.restart(Poll.ITEM)
    assert policy.wait() == ITEM_INTERVAL
    policy.failed(Poll.ITEM, NetworkError("down"))
    policy.restart(Poll.ITEM)
    assert policy.wait() == ITEM_INTERVAL * 2


async def _run_for(watcher: Watcher, clock: FakeClock, seconds: float) -> None:
    end = clock.now + seconds
    task = asyncio.create_task(watcher.run())
    while clock.now < end:
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_the_loop_keeps_to_the_budget() -> None:
    clock = FakeClock()
    calls: list[Poll] = []

    async def poll_item() -> bool:
        calls.append(Poll.ITEM)
        return True

    async def poll_page() -> bool:
        calls.append(Poll.PAGE)
        return True

    watcher = Watcher(PollPolicy(clock), {Poll.ITEM: poll_item, Poll.PAGE: poll_page}, sleep=clock.sleep)
    watcher.set_active(True)
    await _run_for(watcher, clock, 601)
    assert calls.count(Poll.ITEM) == 120 and calls.count(Poll.PAGE) == 20
    assert watcher.requests == 140 == BUDGET_PER_MINUTE * 10


async def test_a_429_storm_costs_one_request_per_backoff_step() -> None:
    clock = FakeClock()
    failures: list[float] = []

    async def poll_item() -> bool:
        raise RateLimited("slow down", retry_after=None)

    async def nothing_open() -> bool:
        return False

    watcher = Watcher(
        PollPolicy(clock), {Poll.ITEM: poll_item, Poll.PAGE: nothing_open}, sleep=clock.sleep,
        on_failure=lambda error, held: failures.append(held),
    )
    watcher.set_active(True)
    await _run_for(watcher, clock, 3600)
    # 5 s, then held 10, 20, 40, 80, 160 s, then 300 s each: 16 requests in an hour, not 720 (or 4 × 720 with retries).
    assert watcher.requests == len(failures) == 16
    assert failures[-1] == MAX_BACKOFF


async def test_nothing_is_polled_while_inactive_and_due_polls_run_on_return() -> None:
    clock = FakeClock()
    calls: list[float] = []

    async def poll_item() -> bool:
        calls.append(clock.now)
        return True

    async def poll_page() -> bool:
        return False

    watcher = Watcher(PollPolicy(clock), {Poll.ITEM: poll_item, Poll.PAGE: poll_page}, sleep=clock.sleep)
    task = asyncio.create_task(watcher.run())
    for _ in range(50):
        await asyncio.sleep(0)
    assert calls == []
    clock.now += 3600  # away for an hour
    back_at = clock.now
    watcher.set_active(True)
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    watcher.set_active(False)
    assert calls[0] == back_at
    polled = len(calls)
    for _ in range(50):
        await asyncio.sleep(0)
    assert len(calls) == polled
    task.cancel()
