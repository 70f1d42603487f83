"""What a deep link (`syncmap-tui SERVICE MAP KEY`) sends together, and which service it names.
NavigationFlows follows the link: at start, and with the ctrl+r that finishes a failed start."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from syncmap_tui.sync.errors import SyncError
from syncmap_tui.sync.models import MapItem, Service, SyncMap


@dataclass
class LinkFetches:
    """The requests a deep link sends together once its service's SID is known."""

    service_sid: str
    maps: asyncio.Task[list[SyncMap] | SyncError]
    sync_map: asyncio.Task[SyncMap]
    page: asyncio.Task[bool]
    item: asyncio.Task[MapItem] | None

    @property
    def tasks(self) -> list[asyncio.Task[Any]]:
        return [task for task in (self.maps, self.sync_map, self.page, self.item) if task is not None]

    async def wait(self) -> None:
        """Until every answer is in (each task then holds its result or its error). A cancelled
        flow cancels them: the table drops a page it no longer waits for."""
        try:
            await asyncio.wait(self.tasks)
        except asyncio.CancelledError:
            await self.cancel()
            raise
        for task in self.tasks:
            task.exception()  # each error is the caller's to read (or to leave): never logged as lost

    async def cancel(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


def find_service(services: list[Service], ref: str) -> Service | None:
    """The service a deep link names (Service.answers_to)."""
    return next((s for s in services if s.answers_to(ref)), None)
