"""A transport that delays every request as a far server would and records when each one ran, so
that a test or a bench can count the round trips a user-visible path waits for in sequence.

Requests that overlap in time went out together over the pool and cost one round trip between
them; requests that follow one another each cost their own. The number of sequential round trips
is the longest chain of requests in which each starts after the previous one ended.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Callable, Iterable

import httpx


@dataclass(frozen=True)
class Exchange:
    """One request and its answer, as the far side of the network saw it."""

    method: str
    path: str
    started: float
    ended: float

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def sequential_round_trips(exchanges: Iterable[Exchange]) -> int:
    """The longest chain of exchanges that did not overlap: each started once the one before ended.

    Greedy by the earliest end finds the most pairwise non-overlapping intervals, and in an
    interval order such a set is a chain."""
    count = 0
    last_end = float("-inf")
    for exchange in sorted(exchanges, key=lambda e: e.ended):
        if exchange.started >= last_end:
            count += 1
            last_end = exchange.ended
    return count


class RoundTripRecorder(httpx.AsyncBaseTransport):
    """Wraps a transport: each request waits `latency` seconds in all (half on the way there, half
    on the way back, as over a network), and is recorded in `exchanges`."""

    def __init__(
        self, inner: httpx.AsyncBaseTransport, *, latency: float = 0.0, clock: Callable[[], float] = time.perf_counter
    ) -> None:
        self.inner = inner
        self.latency = latency
        self.clock = clock
        self.exchanges: list[Exchange] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        started = self.clock()
        try:
            # Even at no latency the request yields once, so that requests sent together overlap.
            await asyncio.sleep(self.latency / 2)
            response = await self.inner.handle_async_request(request)
            await response.aread()  # the body is part of the round trip; the client reads it from memory
            await asyncio.sleep(self.latency / 2)
        finally:
            self.exchanges.append(Exchange(request.method, request.url.path, started, self.clock()))
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()

    def mark(self) -> float:
        """Now, on the recorder's clock: pass it to `since` for what a path sent after it."""
        return self.clock()

    def since(self, mark: float) -> list[Exchange]:
        return [exchange for exchange in self.exchanges if exchange.started >= mark]

    def round_trips_since(self, mark: float) -> int:
        return sequential_round_trips(self.since(mark))

    def round_trips_until(self, mark: float, shown: float) -> int:
        """The round trips a path waited for: those after `mark` that had ended by `shown` (a
        read-ahead still on its way when the screen showed the result is not waited for)."""
        return sequential_round_trips(e for e in self.since(mark) if e.ended <= shown)
