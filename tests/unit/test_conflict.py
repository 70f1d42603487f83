"""The three-way conflict view: who changed each path and the expiry, and what Overwrite reverts."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import given
from json_changes import apply_changes
from property_runs import short_and_long
from test_merge import LONG, PROPERTY, SHORT, three_docs  # the merge tests' documents and run sizes

from syncmap_tui.sync.conflict import (
    DataRow,
    ExpiryRow,
    MapTtlRow,
    ThreeWay,
    expiry_row,
    overwrite_reverts,
    rows,
    theirs_changed_nothing,
)
from syncmap_tui.sync.merge import ABSENT, Change, json_equal
from syncmap_tui.sync.models import MapItem

LOADED_AT = datetime(2026, 1, 15, 12, 0, 0, tzinfo=timezone.utc)
BASE = {"status": "paid", "customer": {"name": "Ann", "tier": "gold"}, "total": 10, "tags": ["a"]}


def item(
    data: dict[str, Any], *, revision: str = "0", expires: datetime | None = None, created: datetime = LOADED_AT
) -> MapItem:
    return MapItem(
        key="order-1", account_sid="AC1", service_sid="IS1", map_sid="MP1", url="https://x/order-1",
        revision=revision, data=data, date_expires=expires, date_created=created, date_updated=created,
        created_by="system",
    )


def view(theirs: dict[str, Any], mine: dict[str, Any], **kwargs: Any) -> ThreeWay:
    base_expires = kwargs.pop("base_expires", None)
    theirs_expires = kwargs.pop("theirs_expires", base_expires)
    return ThreeWay(
        base=item(BASE, expires=base_expires),
        theirs=item(theirs, revision="1", expires=theirs_expires),
        mine_data=mine,
        mine_item_ttl=kwargs.pop("mine_item_ttl", None),
        mine_collection_ttl=kwargs.pop("mine_collection_ttl", None),
        **kwargs,
    )


def who_by_path(found: list) -> dict:
    return {row.path: row.who for row in found if isinstance(row, DataRow)}


def test_each_path_says_who_changed_it_and_keeps_all_three_values():
    theirs = {**BASE, "customer": {"name": "Bea", "tier": "gold"}, "carrier": "DHL", "total": 12}
    mine = {**BASE, "status": "refunded", "carrier": "DHL", "total": 11}
    found = rows(view(theirs, mine))
    assert who_by_path(found) == {
        ("status",): "mine",
        ("customer", "name"): "theirs",
        ("total",): "both differently",
        ("carrier",): "both alike",
    }
    total = next(row for row in found if row.path == ("total",))
    assert (total.base, total.theirs, total.mine) == (10, 12, 11)
    carrier = next(row for row in found if row.path == ("carrier",))
    assert carrier.base is ABSENT and carrier.theirs == carrier.mine == "DHL"


def test_rows_are_in_document_order_not_grouped_by_who():
    theirs = {**BASE, "customer": {"name": "Bea", "tier": "gold"}}
    mine = {**BASE, "status": "refunded", "total": 11}
    assert [row.path for row in rows(view(theirs, mine))] == [("status",), ("customer", "name"), ("total",)]


def test_a_field_only_they_changed_is_theirs_and_overwrite_reverts_it():
    """The two-way view showed it as if the user had changed it, and Overwrite reverted it unseen."""
    theirs = {**BASE, "customer": {"name": "Bea", "tier": "gold"}}
    mine = {**BASE, "status": "refunded"}
    three_way = view(theirs, mine)
    reverted = overwrite_reverts(three_way)
    assert [(row.path, row.who) for row in reverted] == [(("customer", "name"), "theirs")]
    mine_only = next(row for row in rows(three_way) if row.path == ("status",))
    assert mine_only not in reverted


def test_overwrite_reverts_what_both_changed_differently_but_not_what_both_changed_alike():
    theirs = {**BASE, "total": 12, "status": "shipped"}
    mine = {**BASE, "total": 11, "status": "shipped"}
    assert [row.path for row in overwrite_reverts(view(theirs, mine))] == [("total",)]


def test_a_write_that_changed_nothing_shows_nothing_of_theirs():
    """Their save held the loaded data: no row of theirs, not a line per path the user changed."""
    mine = {**BASE, "status": "refunded", "total": 11, "note": "x"}
    three_way = view(dict(BASE), mine)
    assert theirs_changed_nothing(three_way)
    assert {row.who for row in rows(three_way)} == {"mine"}
    assert overwrite_reverts(three_way) == []
    assert rows(view(dict(BASE), dict(BASE))) == []


def test_a_ttl_only_save_does_not_revert_their_data():
    """Overwrite repeats the same save: with the data unchanged it sends only the TTL."""
    theirs = {**BASE, "status": "shipped"}
    three_way = view(theirs, dict(BASE), mine_item_ttl=60)
    assert not three_way.overwrite_sends_data
    assert who_by_path(rows(three_way)) == {("status",): "theirs"}
    assert overwrite_reverts(three_way) == []


def test_a_collection_ttl_alone_carries_the_loaded_data_and_so_reverts_theirs():
    """Twilio refuses CollectionTtl alone, so the save carries the (loaded) data: it says so."""
    theirs = {**BASE, "status": "shipped"}
    three_way = view(theirs, dict(BASE), mine_collection_ttl=3600)
    assert three_way.overwrite_sends_data
    assert [row.path for row in overwrite_reverts(three_way)] == [("status",)]
    assert rows(three_way)[-1] == MapTtlRow(3600)


# --- expiry (TTLs are part of the view) ---------------------------------------------------------

IN_AN_HOUR = LOADED_AT + timedelta(hours=1)


def test_their_ttl_change_with_equal_data_is_a_row_not_only_the_revision_moved():
    three_way = view(dict(BASE), dict(BASE), theirs_expires=IN_AN_HOUR)
    assert not theirs_changed_nothing(three_way)
    assert rows(three_way) == [ExpiryRow("theirs", None, IN_AN_HOUR, None)]
    assert overwrite_reverts(three_way) == []  # mine typed no TTL: their expiry stays


def test_a_ttl_set_by_them_and_by_me_is_a_conflict_that_overwrite_reverts():
    three_way = view(dict(BASE), dict(BASE), theirs_expires=IN_AN_HOUR, mine_item_ttl=60)
    assert expiry_row(three_way) == ExpiryRow("both differently", None, IN_AN_HOUR, 60)
    assert overwrite_reverts(three_way) == [ExpiryRow("both differently", None, IN_AN_HOUR, 60)]


def test_both_removing_the_expiry_is_alike():
    three_way = view(dict(BASE), dict(BASE), base_expires=IN_AN_HOUR, theirs_expires=None, mine_item_ttl=0)
    assert expiry_row(three_way) == ExpiryRow("both alike", IN_AN_HOUR, None, 0)
    assert overwrite_reverts(three_way) == []


def test_my_ttl_alone_is_mine_and_unchanged_expiry_is_no_row():
    assert expiry_row(view(dict(BASE), dict(BASE), mine_item_ttl=60)) == ExpiryRow("mine", None, None, 60)
    assert expiry_row(view(dict(BASE), dict(BASE), base_expires=IN_AN_HOUR)) is None


def test_the_expiry_row_comes_after_the_data_rows():
    three_way = view({**BASE, "status": "x"}, dict(BASE), theirs_expires=IN_AN_HOUR, mine_item_ttl=5)
    assert [type(row) for row in rows(three_way)] == [DataRow, ExpiryRow]


def test_recreated_is_carried_as_given():
    three_way = dataclasses.replace(view({"other": 1}, dict(BASE)), recreated=True)
    assert three_way.recreated
    assert {row.who for row in rows(three_way)} == {"theirs"}


# --- nothing of theirs is hidden: the rows rebuild both sides --------------------------------------


@short_and_long(PROPERTY, SHORT, LONG, given(three_docs()))
def test_the_rows_hold_every_change_of_both_sides(docs):
    """Put each row's theirs value over base and you get theirs; the same for mine. So no change
    of theirs is missing from the view (none can be overwritten unseen), and none is made up."""
    base, mine, theirs = docs
    found = rows(ThreeWay(item(base), item(theirs, revision="1"), mine, None, None))
    assert all(isinstance(row, DataRow) for row in found)
    theirs_rows = [row for row in found if row.who != "mine"]
    mine_rows = [row for row in found if row.who != "theirs"]
    assert json_equal(apply_changes(base, [Change(r.path, r.base, r.theirs) for r in theirs_rows]), theirs)
    assert json_equal(apply_changes(base, [Change(r.path, r.base, r.mine) for r in mine_rows]), mine)
    for row in found:
        changed = {"theirs": not json_equal(row.base, row.theirs), "mine": not json_equal(row.base, row.mine)}
        if row.who == "theirs":
            assert changed == {"theirs": True, "mine": False}
        elif row.who == "mine":
            assert changed == {"theirs": False, "mine": True}
        else:
            assert changed == {"theirs": True, "mine": True}
            assert json_equal(row.theirs, row.mine) == (row.who == "both alike")


@short_and_long(PROPERTY, SHORT, LONG, given(three_docs()))
def test_what_overwrite_writes_over_theirs_is_the_rows_it_names_and_mine(docs):
    """Overwrite turns theirs into mine: every path where that loses a change of theirs is in
    `overwrite_reverts`, and the rest of the difference is changes only mine made."""
    base, mine, theirs = docs
    three_way = ThreeWay(item(base), item(theirs, revision="1"), mine, None, None)
    reverted = overwrite_reverts(three_way)
    mine_only = [row for row in rows(three_way) if row.who == "mine"]
    if not three_way.overwrite_sends_data:
        assert reverted == [] and json_equal(mine, base)
        return
    assert {row.who for row in reverted} <= {"theirs", "both differently"}
    steps = [Change(r.path, r.theirs, r.mine) for r in reverted + mine_only]
    assert json_equal(apply_changes(theirs, steps), mine)
