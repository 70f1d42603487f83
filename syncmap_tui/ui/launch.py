"""What the app is started with, besides the target: where to go first, and how to connect.

Apart from `ui/app.py` so that the screens below the app can name them without importing it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from syncmap_tui.config import Target

if TYPE_CHECKING:
    from syncmap_tui.sync.client import SyncClient


@dataclass(frozen=True)
class DeepLink:
    """`syncmap-tui [SERVICE [MAP [KEY]]]`: SIDs or unique names; a service may also be a friendly name."""

    service: str | None = None
    map: str | None = None
    key: str | None = None


ClientFactory = Callable[[Target], "SyncClient"]
"""Opens the client for a target, in the connecting worker's thread; `connection.open_client`
unless a test gives its own."""
