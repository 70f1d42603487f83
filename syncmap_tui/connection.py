"""Open a SyncClient for a Target: real Twilio, an emulator URL, or the embedded emulator in-process."""

from __future__ import annotations

from typing import TYPE_CHECKING

from syncmap_tui.config import Target, embedded_db_path
from syncmap_tui.sync.auth import Credentials

if TYPE_CHECKING:
    from syncmap_tui.sync.client import SyncClient

EMBEDDED_BASE_URL = "http://emulator.local"
"""The in-process emulator answers any host; this one makes URLs in its answers read as local."""


def open_client(target: Target) -> SyncClient:
    """Blocking (the embedded emulator opens and, on first run, seeds its database): call from a worker.

    httpx and, for the embedded emulator, Starlette and SQLite are imported here, in the worker,
    rather than before the first frame."""
    from syncmap_tui.sync.client import SyncClient

    if not target.is_embedded_emulator:
        assert target.credentials is not None and target.base_url is not None
        return SyncClient(target.credentials, base_url=target.base_url, read_only=target.read_only)

    from syncmap_tui.emulator import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
    from syncmap_tui.emulator.app import create_app
    from syncmap_tui.emulator.inprocess import emulator_transport
    from syncmap_tui.emulator.seed import seed_demo
    from syncmap_tui.emulator.store import SyncStore

    db_path = embedded_db_path()
    db_path.parent.mkdir(parents=True, exist_ok=True)
    store = SyncStore(db_path)
    seed_demo(store, DEFAULT_ACCOUNT_SID)
    app = create_app(store, account_sid=DEFAULT_ACCOUNT_SID, auth_token=DEFAULT_AUTH_TOKEN)
    credentials = Credentials.auth_token(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN)
    return SyncClient(
        credentials,
        base_url=EMBEDDED_BASE_URL,
        transport=emulator_transport(app, on_close=store.close),
        read_only=target.read_only,
    )
