"""Watch: how often the app re-reads what the user is looking at, and how it backs off. Headless.

Request budget, per running app, the one place it is decided (the README repeats it):

* the open item: one GET every `ITEM_INTERVAL` (5 s), 12 requests a minute;
* the visible page of the table: one GET (one page) every `PAGE_INTERVAL` (30 s), 2 a minute;
* so at most `BUDGET_PER_MINUTE` = 14 requests a minute (0.23 a second), typing or not. Twilio
  allows 20 reads a second per object: the watch uses about 1 % of one object's read limit.

Nothing is polled while the app lacks focus or the main screen is not the one shown (a dialog, the
help): `Watcher.set_active(False)`. On the way back the due polls run at once.

Backoff. Any failure (429, 5xx, network, timeout, anything the server said no to) holds every poll
back, since they share one account's limits: the n-th failure in a row waits `interval × 2ⁿ`, at
most `MAX_BACKOFF` (5 min), and never less than the server's Retry-After. Reads made by the watch
go out once (`WATCH_RETRY`): the client's own retries would multiply a 429 storm by four. The
first success ends the backoff.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable, Callable

from syncmap_tui.sync.errors import RateLimited
from syncmap_tui.sync.failures import EXPECTED_FAILURES

ITEM_INTERVAL = 5.0
"""Seconds between two reads of the open item: a change behind the app's back shows within this."""
PAGE_INTERVAL = 30.0
"""Seconds between two reads of the table's visible page: rows move less than the item one reads."""
BUDGET_PER_MINUTE = 60 / ITEM_INTERVAL + 60 / PAGE_INTERVAL
MAX_BACKOFF = 300.0


class Poll(enum.Enum):
    ITEM = "item"
    PAGE = "page"


class PollPolicy:
    """When each poll is due. `now` is a monotonic clock in seconds (a fake one in tests)."""

    def __init__(
        self,
        now: Callable[[], float],
        *,
        item_interval: float = ITEM_INTERVAL,
        page_interval: float = PAGE_INTERVAL,
        max_backoff: float = MAX_BACKOFF,
    ) -> None:
        self.now = now
        self.intervals = {Poll.ITEM: item_interval, Poll.PAGE: page_interval}
        self.max_backoff = max_backoff
        self.failures = 0
        """Failures in a row, of any poll."""
        self.held_until = 0.0
        start = now()
        self._next = {poll: start + interval for poll, interval in self.intervals.items()}

    def due(self) -> list[Poll]:
        now = self.now()
        if now < self.held_until:
            return []
        return [poll for poll, at in self._next.items() if at <= now]

    def wait(self) -> float:
        """Seconds until the next poll is due (0: now)."""
        soonest = max(self.held_until, min(self._next.values()))
        return max(0.0, soonest - self.now())

    def restart(self, poll: Poll) -> None:
        """What `poll` reads was just read otherwise (an item opened, a page loaded): a full interval from now."""
        self._next[poll] = max(self.now() + self.intervals[poll], self.held_until)

    def succeeded(self, poll: Poll) -> None:
        self.failures = 0
        self.held_until = 0.0
        self._next[poll] = self.now() + self.intervals[poll]

    def failed(self, poll: Poll, error: BaseException) -> float:
        """Back off every poll after a failure; returns the seconds held."""
        self.failures += 1
        delay = min(self.max_backoff, self.intervals[poll] * 2.0**self.failures)
        if isinstance(error, RateLimited) and error.retry_after is not None:
            delay = max(delay, float(error.retry_after))
        self.held_until = self.now() + delay
        for each in self._next:
            self._next[each] = max(self._next[each], self.held_until)
        return delay


PollFunction = Callable[[], Awaitable[bool]]
"""Reads what a poll watches and tells the app; False when there was nothing to read (no item open)
and so no request. Raises what the client raises."""


class Watcher:
    """Runs the polls as the policy says, while active. `run()` is the app's worker; headless."""

    def __init__(
        self,
        policy: PollPolicy,
        polls: dict[Poll, PollFunction],
        *,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        on_failure: Callable[[BaseException, float], None] = lambda error, held: None,
        on_recovered: Callable[[], None] = lambda: None,
    ) -> None:
        self.policy = policy
        self.polls = polls
        self.sleep = sleep
        self.on_failure = on_failure
        self.on_recovered = on_recovered
        self.requests = 0
        """Requests the polls made: what the benchmark counts."""
        self._active = asyncio.Event()

    @property
    def active(self) -> bool:
        return self._active.is_set()

    def set_active(self, active: bool) -> None:
        if active:
            self._active.set()
        else:
            self._active.clear()

    async def run(self) -> None:
        while True:
            await self._active.wait()
            wait = self.policy.wait()
            if wait > 0:
                await self.sleep(wait)
                continue
            for poll in self.policy.due():
                if not self.active:
                    break
                await self.run_once(poll)

    async def run_once(self, poll: Poll) -> None:
        try:
            requested = await self.polls[poll]()
        except EXPECTED_FAILURES as error:
            self.requests += 1
            self.on_failure(error, self.policy.failed(poll, error))
            return
        if not requested:
            # Nothing to read is no sign that the server is back: the backoff stays.
            self.policy.restart(poll)
            return
        self.requests += 1
        recovering = self.policy.failures > 0
        self.policy.succeeded(poll)
        if recovering:
            self.on_recovered()
