"""An in-process emulator with a clock the test moves, and plain stand-ins for the editor and the dialogs,
to drive `EditSession` without Textual."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from syncmap_tui.emulator import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
from syncmap_tui.emulator.app import create_app
from syncmap_tui.emulator.faults import Faults, RateLimit
from syncmap_tui.emulator.inprocess import emulator_transport
from syncmap_tui.emulator.store import SyncStore
from syncmap_tui.sync.auth import Credentials
from syncmap_tui.sync.client import NO_RETRY, RetryPolicy, SyncClient
from syncmap_tui.sync.conflict import ThreeWay
from syncmap_tui.sync.merge import Conflict, Path, Side
from syncmap_tui.sync.models import MapItem
from syncmap_tui.sync.session import ConflictChoice, DeletedChoice, EditSession, Mine
from syncmap_tui.sync.validation import encode_data, format_data

URL = "http://emulator.test"
T0 = datetime(2026, 1, 15, 12, 0, 0, tzinfo=timezone.utc)


class Clock:
    """The emulator's and the session's clock; moves only when the test says."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def tick(self, seconds: float = 1) -> None:
        self.now += timedelta(seconds=seconds)


class World:
    """One emulator (store, faults, rate limit) with a service and a map, and clients of it."""

    def __init__(self, store: SyncStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self.faults = Faults(seed=11)
        self.rate_limit = RateLimit(per_second=1e6)
        self.app = create_app(
            store, account_sid=DEFAULT_ACCOUNT_SID, auth_token=DEFAULT_AUTH_TOKEN, faults=self.faults,
            rate_limit=self.rate_limit,
        )
        service = store.create_service(DEFAULT_ACCOUNT_SID, unique_name="svc")
        sync_map = store.create_map(DEFAULT_ACCOUNT_SID, service.sid, unique_name="map")
        self.service_sid = service.sid
        self.map_sid = sync_map.sid

    def client(self, *, timeout: float = 5.0, retry: RetryPolicy = NO_RETRY, read_only: bool = False) -> SyncClient:
        return SyncClient(
            Credentials.auth_token(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN),
            base_url=URL, transport=emulator_transport(self.app), retry=retry, timeout=timeout, read_only=read_only,
        )

    def put(self, key: str, data: dict[str, Any], ttl: int = 0) -> None:
        """Create or replace the item directly in the store (another writer), no faults."""
        try:
            self.store.update_item(DEFAULT_ACCOUNT_SID, self.service_sid, self.map_sid, key, data=encode_data(data))
        except Exception:  # noqa: BLE001 - not there: create it
            self.store.create_item(DEFAULT_ACCOUNT_SID, self.service_sid, self.map_sid, key, encode_data(data), ttl=ttl)

    def server_item(self, key: str):
        try:
            return self.store.get_item(DEFAULT_ACCOUNT_SID, self.service_sid, self.map_sid, key)
        except Exception:  # noqa: BLE001 - gone
            return None

    async def fetch(self, key: str) -> MapItem:
        async with self.client() as client:
            return await client.fetch_item(self.service_sid, self.map_sid, key)


@dataclass
class FakeBuffer:
    """The editor: text and TTL fields, with the base it shows."""

    text: str = ""
    item_ttl: str = ""
    collection_ttl: str = ""
    base: MapItem | None = None
    saved_text: str = ""
    changes: int = 0

    def mine(self) -> Mine:
        return Mine(self.text, self.item_ttl, self.collection_ttl)

    def type(self, value: dict[str, Any] | str) -> None:
        self.text = value if isinstance(value, str) else format_data(value)

    def rebased(self, item: MapItem, mine: Mine | None = None) -> None:
        self.base = item
        if mine is not None:
            self.text, self.item_ttl, self.collection_ttl = mine.text, mine.item_ttl, mine.collection_ttl

    def saved(self, item: MapItem, sent: Mine) -> None:
        self.base = item
        self.saved_text = sent.text
        if self.item_ttl == sent.item_ttl:
            self.item_ttl = ""
        if self.collection_ttl == sent.collection_ttl:
            self.collection_ttl = ""

    def changed(self) -> None:
        self.changes += 1


@dataclass
class FakePrompter:
    """Answers dialogs from queues; records what it was asked and told. An unqueued dialog fails the test.
    `during` runs while a dialog is open (the user typing, another writer writing)."""

    conflicts: deque = field(default_factory=deque)
    merges: deque = field(default_factory=deque)
    deleted: deque = field(default_factory=deque)
    asked: list[tuple[str, Any]] = field(default_factory=list)
    told: list[tuple[str, str]] = field(default_factory=list)
    during: Any = None

    async def _open(self, kind: str, subject: Any) -> None:
        self.asked.append((kind, subject))
        if self.during is not None:
            during, self.during = self.during, None
            outcome = during()
            if asyncio.iscoroutine(outcome):
                await outcome
        await asyncio.sleep(0)

    async def ask_conflict(self, view: ThreeWay) -> ConflictChoice:
        await self._open("conflict", view)
        assert self.conflicts, f"unexpected conflict dialog: {view}"
        return self.conflicts.popleft()

    async def ask_merge(self, conflicts: list[Conflict]) -> dict[Path, Side] | None:
        await self._open("merge", conflicts)
        assert self.merges, "unexpected merge dialog"
        answer = self.merges.popleft()
        if isinstance(answer, str):
            return {conflict.path: answer for conflict in conflicts}
        return answer

    async def ask_deleted(self, key: str, expired: bool) -> DeletedChoice:
        await self._open("deleted", (key, expired))
        assert self.deleted, "unexpected deleted dialog"
        return self.deleted.popleft()

    def tell(self, message: str, severity: str = "information") -> None:
        self.told.append((message, severity))

    def said(self, fragment: str) -> bool:
        return any(fragment in message for message, _ in self.told)

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.asked]


def open_session(world: World, client: SyncClient, item: MapItem, *, read_only: bool = False):
    buffer = FakeBuffer(text=format_data(item.data), base=item, saved_text=format_data(item.data))
    prompter = FakePrompter()
    session = EditSession(
        client, world.service_sid, world.map_sid, item, buffer, prompter, now=world.clock, read_only=read_only
    )
    return session, buffer, prompter
