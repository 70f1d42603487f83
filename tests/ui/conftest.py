"""The app against an in-process emulator seeded with the demo data, at a pinned clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Iterator

import pytest
from textual.css.model import RuleSet
from textual.css.stylesheet import Stylesheet

from syncmap_tui.config import Target
from syncmap_tui.emulator import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
from syncmap_tui.emulator.app import create_app
from syncmap_tui.emulator.faults import Faults, RateLimit
from syncmap_tui.emulator.inprocess import emulator_transport
from syncmap_tui.emulator.seed import seed_demo
from syncmap_tui.emulator.store import SyncStore
from syncmap_tui.sync.auth import Credentials
from syncmap_tui.sync.client import DEFAULT_TIMEOUT_SECONDS, NO_RETRY, RetryPolicy, SyncClient
from syncmap_tui.ui import formatting
from syncmap_tui.ui.app import DeepLink, SyncMapApp, make_app

PINNED_NOW = datetime(2026, 1, 15, 12, 0, 0, tzinfo=timezone.utc)
EMULATOR_URL = "http://emulator.test"
EMBEDDED = Target(
    label="local emulator", base_url=None, credentials=None, is_embedded_emulator=True, source="default",
    watch=False,  # no poll behind a test's back; tests/ui/test_watch.py turns it on
)


UNLIMITED_WRITES_PER_SECOND = 1e6
"""The emulator's rate limit is in place but out of the way until a test lowers it."""


@dataclass
class Emulator:
    store: SyncStore
    faults: Faults
    rate_limit: RateLimit
    app: object

    def client(
        self, *, timeout: float = DEFAULT_TIMEOUT_SECONDS, retry: RetryPolicy = NO_RETRY, read_only: bool = False
    ) -> SyncClient:
        """A client of its own: another writer, or the app's."""
        credentials = Credentials.auth_token(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN)
        return SyncClient(
            credentials,
            base_url=EMULATOR_URL,
            transport=emulator_transport(self.app),
            retry=retry,
            timeout=timeout,
            read_only=read_only,
        )

    def limit_writes(self, per_second: float, burst_seconds: float) -> None:
        self.rate_limit.per_second = per_second
        self.rate_limit.burst_seconds = burst_seconds
        self.rate_limit.reset()


@pytest.fixture(scope="session", autouse=True)
def css_parsed_once_per_process() -> Iterator[None]:
    """Each app parses the same CSS again: Textual keeps what it parsed in the app's own Stylesheet,
    ~22 ms of CPU per app start of ~240 ms (measured), for some 300 app starts in this tier. Parsed
    rules are kept here for the whole process, by source and by the theme's variables, which the
    parse reads. Only the test process is changed: a real process starts one app."""
    parse_rules = Stylesheet._parse_rules
    parsed: dict[tuple, list[RuleSet]] = {}

    def parse_rules_once(
        stylesheet: Stylesheet, css: str, read_from, is_default_rules: bool = False, tie_breaker: int = 0,
        scope: str = "",
    ) -> list[RuleSet]:
        source = (css, read_from, is_default_rules, tie_breaker, scope)
        if source in stylesheet._parse_cache:  # the app's own, which Textual asks first too
            return stylesheet._parse_cache[source]
        key = (*source, frozenset(stylesheet._variables.items()))
        if key in parsed:
            stylesheet._parse_cache[source] = parsed[key]
        else:
            parsed[key] = parse_rules(stylesheet, css, read_from, is_default_rules, tie_breaker, scope)
        return parsed[key]

    parse_rules_once.__wrapped__ = parse_rules  # type: ignore[attr-defined]
    Stylesheet._parse_rules = parse_rules_once  # type: ignore[method-assign]
    yield
    Stylesheet._parse_rules = parse_rules  # type: ignore[method-assign]


@pytest.fixture
def pinned_clock(monkeypatch) -> datetime:
    monkeypatch.setattr(formatting, "now_utc", lambda: PINNED_NOW)
    return PINNED_NOW


@pytest.fixture(scope="session")
def seeded_demo() -> Iterator[SyncStore]:
    """The demo data, seeded once per worker: seeding takes ~63 ms of CPU (10,000 catalog items),
    a copy of the database ~1.5 ms (measured), for each of some 200 tests. Never handed to a test."""
    with SyncStore(":memory:", clock=lambda: PINNED_NOW) as store:
        seed_demo(store, DEFAULT_ACCOUNT_SID)
        yield store


@pytest.fixture
def emulator(pinned_clock, seeded_demo) -> Iterator[Emulator]:
    with SyncStore(":memory:", clock=lambda: PINNED_NOW) as store:
        seeded_demo._db.backup(store._db)  # the seeded demo, as seed_demo would leave it
        faults = Faults(seed=7)
        rate_limit = RateLimit(per_second=UNLIMITED_WRITES_PER_SECOND)
        app = create_app(
            store, account_sid=DEFAULT_ACCOUNT_SID, auth_token=DEFAULT_AUTH_TOKEN, faults=faults, rate_limit=rate_limit
        )
        yield Emulator(store, faults, rate_limit, app)


@pytest.fixture
def build_app(emulator) -> Callable[..., SyncMapApp]:
    def build(
        *link: str, target: Target = EMBEDDED, dialog_guard_seconds: float = 0.0, manage_gc: bool = False,
        **client_options,
    ) -> SyncMapApp:
        """`dialog_guard_seconds`: 0 (keys count once a dialog is on the screen) unless a test of
        the type-ahead guard passes the real one (TYPE_AHEAD_GUARD_SECONDS). `manage_gc`: as the
        real process (see SyncMapApp.manage_gc)."""

        def client_factory(chosen: Target) -> SyncClient:
            return emulator.client(read_only=chosen.read_only, **client_options)

        app = make_app(target, deep_link=DeepLink(*link), client_factory=client_factory, manage_gc=manage_gc)
        app.dialog_guard_seconds = dialog_guard_seconds
        return app

    return build


@pytest.fixture
async def other_writer(emulator) -> SyncClient:
    """Someone else writing to the same map: the live app the user is debugging."""
    async with emulator.client() as client:
        yield client
