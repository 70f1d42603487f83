"""The app against an in-process emulator seeded with the demo data, at a pinned clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Iterator

import pytest

from syncmap_tui.config import Target
from syncmap_tui.emulator import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
from syncmap_tui.emulator.app import create_app
from syncmap_tui.emulator.faults import Faults
from syncmap_tui.emulator.inprocess import emulator_transport
from syncmap_tui.emulator.seed import seed_demo
from syncmap_tui.emulator.store import SyncStore
from syncmap_tui.sync.auth import Credentials
from syncmap_tui.sync.client import NO_RETRY, SyncClient
from syncmap_tui.ui import formatting
from syncmap_tui.ui.app import DeepLink, SyncMapApp, make_app

PINNED_NOW = datetime(2026, 1, 15, 12, 0, 0, tzinfo=timezone.utc)
EMULATOR_URL = "http://emulator.test"
EMBEDDED = Target(label="local emulator", base_url=None, credentials=None, is_embedded_emulator=True, source="default")


@dataclass
class Emulator:
    store: SyncStore
    faults: Faults
    app: object

    def client(self) -> SyncClient:
        """A client of its own: another writer, or the app's."""
        credentials = Credentials.auth_token(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN)
        return SyncClient(credentials, base_url=EMULATOR_URL, transport=emulator_transport(self.app), retry=NO_RETRY)


@pytest.fixture
def pinned_clock(monkeypatch) -> datetime:
    monkeypatch.setattr(formatting, "now_utc", lambda: PINNED_NOW)
    return PINNED_NOW


@pytest.fixture
def emulator(pinned_clock) -> Iterator[Emulator]:
    with SyncStore(":memory:", clock=lambda: PINNED_NOW) as store:
        seed_demo(store, DEFAULT_ACCOUNT_SID)
        faults = Faults(seed=7)
        app = create_app(store, account_sid=DEFAULT_ACCOUNT_SID, auth_token=DEFAULT_AUTH_TOKEN, faults=faults)
        yield Emulator(store, faults, app)


@pytest.fixture
def build_app(emulator) -> Callable[..., SyncMapApp]:
    def build(*link: str, target: Target = EMBEDDED) -> SyncMapApp:
        return make_app(target, deep_link=DeepLink(*link), client_factory=lambda _target: emulator.client())

    return build


@pytest.fixture
async def other_writer(emulator) -> SyncClient:
    """Someone else writing to the same map: the live app the user is debugging."""
    async with emulator.client() as client:
        yield client
