"""What a save sends, decided from the editor's text and TTL fields: headless, so it is tested alone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from syncmap_tui.sync.errors import TwilioCode
from syncmap_tui.sync.merge import json_equal
from syncmap_tui.sync.validation import ValidationError, check_data, parse_ttl

COLLECTION_TTL_RULE = (
    "Twilio takes CollectionTtl only with a data or ItemTtl change, so the data is sent with it, unchanged"
)


@dataclass(frozen=True)
class SavePlan:
    """The fields of one update request; None means "leave as it is on the server"."""

    data: dict[str, Any] | None
    item_ttl: int | None
    collection_ttl: int | None

    @property
    def is_empty(self) -> bool:
        return self.data is None and self.item_ttl is None and self.collection_ttl is None


def sends_data(data_changed: bool, item_ttl: int | None, collection_ttl: int | None) -> bool:
    """Whether an update carries the data: when it changed, or to carry a CollectionTtl alone.
    CollectionTtl alone is refused by Twilio (54010); the unchanged data is harmless under If-Match."""
    return data_changed or (collection_ttl is not None and item_ttl is None)


def parse_optional_ttl(text: str) -> int | None:
    """An empty TTL field means "no change"."""
    return None if not text.strip() else parse_ttl(text)


def plan_update(loaded_data: dict[str, Any], text: str, item_ttl_text: str, collection_ttl_text: str) -> SavePlan:
    """Raises ValidationError, whose message says why the save cannot go."""
    checked = check_data(text)
    if checked.error is not None:
        raise checked.error
    item_ttl = parse_optional_ttl(item_ttl_text)
    collection_ttl = parse_optional_ttl(collection_ttl_text)
    data_changed = not json_equal(checked.value, loaded_data)
    plan = SavePlan(checked.value if sends_data(data_changed, item_ttl, collection_ttl) else None, item_ttl, collection_ttl)
    if plan.is_empty:
        raise ValidationError(TwilioCode.NOTHING_TO_UPDATE, "nothing to save: the data and TTLs are unchanged")
    return plan
