"""Fault injection and Twilio's write rate limit, both changeable while the app runs.

`Faults` decides, per request, whether to add latency, answer a 5xx, or drop the connection;
the app's `FaultMiddleware` carries the decision out. `RateLimit` is a token bucket per map.
Both are plain objects shared with the app: a test may change their fields at any time, from
any thread, and the HTTP control endpoint (`/__emulator__/…`) changes them for a separate process.
"""

from __future__ import annotations

import asyncio
import math
import random
import re
import threading
import time
from dataclasses import dataclass, field, fields
from typing import Any, Callable, Mapping

DEFAULT_FAIL_STATUS = 503

WRITE_METHODS = frozenset({"POST", "DELETE"})
"""For `Faults(methods=WRITE_METHODS)`: Sync writes are POST (create, update) and DELETE."""


@dataclass(frozen=True)
class FaultPlan:
    """What to do to one request."""

    latency: float = 0.0
    fail_status: int | None = None
    drop: bool = False
    after_commit: bool = False

    @property
    def is_noop(self) -> bool:
        return self.latency == 0 and self.fail_status is None and not self.drop


NO_FAULT = FaultPlan()


MAX_LATENCY_SECONDS = 3600.0
"""Decision: the longest injected latency. Longer holds no test any better, and an unbounded one
(`Infinity` is valid in Python's JSON) would hold a request for ever."""

HTTP_METHOD = re.compile(r"[A-Z]+")


def _number(value: Any, name: str) -> float:
    """A finite JSON number (bool excluded, though Python counts it as an int)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, not {value!r}")
    return value


def _seconds(value: Any, name: str = "latency") -> float:
    seconds = _number(value, name)
    if not 0 <= seconds <= MAX_LATENCY_SECONDS:
        raise ValueError(f"{name} must be 0 to {MAX_LATENCY_SECONDS:g} seconds, not {value!r}")
    return seconds


def _latency(value: Any) -> float | tuple[float, float]:
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise ValueError(f"latency must be seconds or a [low, high] range, not {value!r}")
        low, high = _seconds(value[0]), _seconds(value[1])
        if low > high:
            raise ValueError(f"latency range must have low <= high, not {value!r}")
        return (low, high)
    return _seconds(value)


def _probability(value: Any, name: str) -> float:
    probability = _number(value, name)
    if not 0.0 <= probability <= 1.0:
        raise ValueError(f"{name} must be a probability between 0 and 1, not {value!r}")
    return probability


def _count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a whole number >= 0, not {value!r}")
    return value


def _fail_status(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 500 <= value <= 599:
        raise ValueError(f"{name} must be a 5xx status (an integer from 500 to 599), not {value!r}")
    return value


def _methods(value: Any, name: str) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, str):  # "POST,DELETE", as a flag or a JSON string gives it
        value = value.split(",")
    if not isinstance(value, (list, tuple, set, frozenset)) or not all(isinstance(method, str) for method in value):
        raise ValueError(f"{name} must be a list of HTTP methods or null, not {value!r}")
    methods = frozenset(method.strip().upper() for method in value)
    for method in methods:
        if not HTTP_METHOD.fullmatch(method):
            raise ValueError(f"{name} must be HTTP methods such as GET or POST, not {method!r}")
    return methods


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false, not {value!r}")
    return value


def _seed(value: Any, name: str) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise ValueError(f"{name} must be an integer or null, not {value!r}")
    return value


_SETTINGS: dict[str, Callable[[Any, str], Any]] = {
    "latency": lambda value, name: _latency(value),
    "fail_rate": _probability,
    "fail_next": _count,
    "fail_status": _fail_status,
    "drop_rate": _probability,
    "drop_next": _count,
    "methods": _methods,
    "after_commit": _flag,
    "seed": _seed,
}
"""Every fault setting and its check, which also normalises (a list latency becomes a tuple, methods
a set of upper-case names). Settings come from code, flags and the control endpoint's JSON alike:
whatever is set is checked, so that no setting can make a later request fail in the app itself."""


@dataclass
class Faults:
    """Mutable fault settings. Counts (`*_next`) are used up first, then the rates are drawn.

    Set fields directly, or several at once, all or none, with `update()`; each is checked as set.

    `latency` is seconds, or a (low, high) range drawn uniformly. A drop wins over a failure.
    `methods` limits every fault to those HTTP methods (None: all). With `after_commit`, the
    request is handled (a write is committed) before the latency, failure or drop is applied:
    "the write happened but the response was lost". `seed` makes the draws reproducible.
    """

    latency: float | tuple[float, float] = 0.0
    fail_rate: float = 0.0
    fail_next: int = 0
    fail_status: int = DEFAULT_FAIL_STATUS
    drop_rate: float = 0.0
    drop_next: int = 0
    methods: frozenset[str] | None = None
    after_commit: bool = False
    seed: int | None = None
    _rng: random.Random = field(init=False, repr=False, compare=False)
    _lock: threading.Lock = field(init=False, repr=False, compare=False, default_factory=threading.Lock)
    _holds: set[asyncio.Future[bool]] = field(init=False, repr=False, compare=False, default_factory=set)
    """The requests waiting out their latency now, each woken by its timer or by `release_holds()`."""

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def __setattr__(self, name: str, value: Any) -> None:
        check = _SETTINGS.get(name)
        if check is not None:
            value = check(value, name)
        super().__setattr__(name, value)
        if name == "seed" and hasattr(self, "_rng"):
            self._rng = random.Random(value)

    def plan(self, method: str) -> FaultPlan:
        """Decide the faults for one request, using up counts and drawing from the seeded RNG."""
        with self._lock:
            if self.methods is not None and method.upper() not in self.methods:
                return NO_FAULT
            latency = self.latency
            if isinstance(latency, tuple):
                latency = self._rng.uniform(*latency) if latency[1] > latency[0] else latency[0]
            drop = self._take("drop")
            fail_status = None if drop or not self._take("fail") else self.fail_status
            return FaultPlan(float(latency), fail_status, drop, self.after_commit)

    async def hold(self, seconds: float) -> bool:
        """Wait out a request's injected latency. False when `release_holds()` cut it short."""
        loop = asyncio.get_running_loop()
        woken: asyncio.Future[bool] = loop.create_future()
        timer = loop.call_later(seconds, _wake, woken, True)
        with self._lock:
            self._holds.add(woken)
        try:
            return await woken
        finally:
            timer.cancel()
            with self._lock:
                self._holds.discard(woken)

    def release_holds(self) -> None:
        """Decision: a stopping emulator drops the requests still waiting out an injected latency,
        at once, as a server going away would. Before, a stop (SIGINT, SIGTERM) waited each one out:
        `--latency 60` held it for a minute. Any thread may call this."""
        with self._lock:
            holds = list(self._holds)
        for woken in holds:
            woken.get_loop().call_soon_threadsafe(_wake, woken, False)

    def _take(self, kind: str) -> bool:
        remaining = getattr(self, f"{kind}_next")
        if remaining > 0:
            setattr(self, f"{kind}_next", remaining - 1)
            return True
        rate: float = getattr(self, f"{kind}_rate")
        # Draw only when the rate is set, so that enabling one fault does not shift another's draws.
        return rate > 0 and self._rng.random() < rate

    def update(self, changes: Mapping[str, Any]) -> None:
        """Change some settings at once, all or none (the control endpoint's POST body)."""
        unknown = set(changes) - set(_SETTINGS)
        if unknown:
            raise ValueError(f"unknown fault settings: {', '.join(map(repr, sorted(unknown)))}")
        with self._lock:
            before = self.as_dict()
            try:
                for name, value in changes.items():
                    setattr(self, name, value)
            except ValueError:
                for name, value in before.items():
                    setattr(self, name, value)
                raise

    def reset(self) -> None:
        """Back to no faults, with the RNG restarted from the seed."""
        self.update({f.name: f.default for f in fields(self) if not f.name.startswith("_") and f.name != "seed"})
        self.seed = self.seed

    def as_dict(self) -> dict[str, Any]:
        result = {f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("_")}
        if result["methods"] is not None:
            result["methods"] = sorted(result["methods"])
        if isinstance(result["latency"], tuple):
            result["latency"] = list(result["latency"])
        return result


def _wake(woken: asyncio.Future[bool], waited_out: bool) -> None:
    if not woken.done():
        woken.set_result(waited_out)


DEFAULT_WRITES_PER_SECOND = 20.0
"""Twilio: 20 writes per second per object, counted on the containing map."""
DEFAULT_BURST_SECONDS = 10.0
"""Twilio: "10 s burst", read as a bucket that holds 10 seconds' worth of writes."""


PER_SECOND_RANGE = (0.001, 1_000_000_000.0)
"""Decision: the writes per second a rate limit may be set to. At the low end a refused write is
told to retry after 1,000 s; below it the wait grows without bound (1e-320 overflowed it into a 500)."""
BURST_SECONDS_RANGE = (0.001, 86_400.0)
"""Decision: the burst a rate limit may hold, in seconds of writes (up to a day)."""


def _in_range(value: Any, name: str, bounds: tuple[float, float]) -> float:
    low, high = bounds
    number = _number(value, name)
    if not low <= number <= high:
        raise ValueError(f"{name} must be from {low:g} to {high:g}, not {value!r}")
    return float(number)


class RateLimit:
    """A token bucket per map: `per_second` refill, `per_second * burst_seconds` capacity."""

    def __init__(
        self,
        per_second: float = DEFAULT_WRITES_PER_SECOND,
        burst_seconds: float = DEFAULT_BURST_SECONDS,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_second = _in_range(per_second, "per_second", PER_SECOND_RANGE)
        self.burst_seconds = _in_range(burst_seconds, "burst_seconds", BURST_SECONDS_RANGE)
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # map SID -> (tokens, at)
        self._lock = threading.Lock()

    @property
    def capacity(self) -> float:
        return max(1.0, self.per_second * self.burst_seconds)

    def acquire(self, map_sid: str) -> int | None:
        """Take one write from the map's bucket. None if allowed, else the seconds to wait (>= 1)."""
        with self._lock:
            now = self.clock()
            tokens, at = self._buckets.get(map_sid, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - at) * self.per_second)
            if tokens >= 1:
                self._buckets[map_sid] = (tokens - 1, now)
                return None
            self._buckets[map_sid] = (tokens, now)
            return max(1, math.ceil((1 - tokens) / self.per_second))

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()

    def as_dict(self) -> dict[str, Any]:
        return {"per_second": self.per_second, "burst_seconds": self.burst_seconds}
