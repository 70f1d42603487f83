"""Undo delete: bring back an item you deleted, as the history kept it. Headless.

Undo of a save and restore of a version go through the edit session (`EditSession.write_version`),
which writes only with If-Match on the revision the server has now and otherwise asks. A delete
has no revision to match: the create is refused (409) when the key exists again, and the caller
then shows that item against the deleted one, writing nothing.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING, Any

from syncmap_tui.sync.models import MapItem

if TYPE_CHECKING:
    from syncmap_tui.sync.client import SyncClient


class ExpiredMeanwhile(Exception):
    """The deleted item's expiry has passed: it would be gone by now, so it is not brought back."""


def remaining_ttl(date_expires: datetime | None, now: datetime) -> int | None:
    """The ItemTtl that gives back the deleted item's own expiry (None: it had none). Rounded up: a
    second early would cut its life short. Raises ExpiredMeanwhile when that moment has passed."""
    if date_expires is None:
        return None
    seconds = (date_expires - now).total_seconds()
    if seconds <= 0:
        raise ExpiredMeanwhile(date_expires)
    return math.ceil(seconds)


async def recreate_deleted(
    client: SyncClient, service_sid: str, map_sid: str, key: str, data: dict[str, Any],
    date_expires: datetime | None, now: datetime,
) -> MapItem:
    """Create `key` again with `data` and what was left of its TTL. Raises AlreadyExists (the key holds
    another item now: nothing was written), ExpiredMeanwhile, or what the client raises."""
    return await client.create_item(service_sid, map_sid, key, data, item_ttl=remaining_ttl(date_expires, now))
