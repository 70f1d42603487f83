"""What a save sends, from the editor's text and TTL fields."""

from __future__ import annotations

import pytest

from syncmap_tui.sync.editing import plan_update
from syncmap_tui.sync.errors import TwilioCode
from syncmap_tui.sync.validation import ValidationError

LOADED = {"name": "Ada", "n": 1}


def test_changed_data_is_sent():
    plan = plan_update(LOADED, '{"name": "Bea", "n": 1}', "", "")
    assert plan.data == {"name": "Bea", "n": 1}
    assert plan.item_ttl is None and plan.collection_ttl is None


def test_ttl_only_change_sends_no_data():
    plan = plan_update(LOADED, '{\n "n": 1, "name": "Ada"}', "2h", "")
    assert plan.data is None and plan.item_ttl == 7200


def test_collection_ttl_alone_carries_the_unchanged_data():
    plan = plan_update(LOADED, '{"name": "Ada", "n": 1}', "", "7d")
    assert plan.data == LOADED and plan.collection_ttl == 604800


def test_collection_ttl_with_item_ttl_needs_no_data():
    plan = plan_update(LOADED, '{"name": "Ada", "n": 1}', "0", "7d")
    assert plan.data is None and plan.item_ttl == 0 and plan.collection_ttl == 604800


def test_nothing_changed_is_refused():
    with pytest.raises(ValidationError) as info:
        plan_update(LOADED, '{"n": 1, "name": "Ada"}', "", "  ")
    assert info.value.code == TwilioCode.NOTHING_TO_UPDATE


def test_invalid_json_and_ttl_are_refused():
    with pytest.raises(ValidationError):
        plan_update(LOADED, "{", "", "")
    with pytest.raises(ValidationError) as info:
        plan_update(LOADED, '{"n": 2}', "31536001", "")
    assert info.value.code == TwilioCode.TTL_INVALID
