"""Fixtures for the emulator tests: a store with a movable clock, the app, and clients for it."""

from __future__ import annotations

from typing import Any, Iterator

import pytest
from emulator_support import ACCOUNT_SID, AUTH_TOKEN, FakeClock, SyncPaths, ThreadedServer, make_client

from syncmap_tui.emulator.app import create_app
from syncmap_tui.emulator.faults import Faults
from syncmap_tui.emulator.store import SyncStore


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(clock: FakeClock) -> Iterator[SyncStore]:
    with SyncStore(":memory:", clock=clock) as opened:
        yield opened


@pytest.fixture
def faults() -> Faults:
    return Faults(seed=1234)


@pytest.fixture
def app(store: SyncStore, faults: Faults):
    return create_app(store, account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, faults=faults)


@pytest.fixture
async def client(app) -> Any:
    async with make_client(app) as opened:
        yield opened


@pytest.fixture
def sync(client) -> SyncPaths:
    return SyncPaths(client)


@pytest.fixture
async def sync_map(sync) -> dict[str, Any]:
    """A service "svc" holding an empty map "map"."""
    await sync.service()
    return await sync.map()


@pytest.fixture
def server(app) -> Iterator[ThreadedServer]:
    with ThreadedServer(app) as running:
        yield running
