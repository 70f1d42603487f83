"""Open a SyncClient for a Target: real Twilio, an emulator URL, or the embedded emulator in-process."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from syncmap_tui.config import Target, embedded_db_path
from syncmap_tui.private_files import ensure_private_dir
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
    make_private_database(db_path)
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


def make_private_database(path: Path) -> None:
    """The embedded emulator's database holds item data, like drafts: readable by the user alone.
    Its folder is 0700 and the file 0600 before SQLite opens it (SQLite gives its -wal and -shm
    files the database's mode); a database and folder from an older version are made private too."""
    ensure_private_dir(path.parent)
    os.chmod(path.parent, 0o700)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)
    for companion in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if companion.exists():
            os.chmod(companion, 0o600)
