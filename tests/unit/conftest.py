"""The edit-session tests' world (test_session.py, test_undo.py): an in-memory store on a fake
clock holding the test module's KEY, and a client of it."""

from __future__ import annotations

import pytest
from session_support import Clock, World

from syncmap_tui.emulator.store import SyncStore


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def world(clock, request):
    with SyncStore(":memory:", clock=clock) as store:
        world = World(store, clock)
        world.put(request.module.KEY, {"status": "new", "total": 10})
        yield world


@pytest.fixture
async def client(world):
    async with world.client() as client:
        yield client
