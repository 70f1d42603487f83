"""Remote text in the dialogs that a unit test can build without an app: every string from the
server is shown with its non-printing characters escaped."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from rich.cells import cell_len

from syncmap_tui.sync.conflict import ThreeWay
from syncmap_tui.sync.models import MapItem
from syncmap_tui.ui.dialogs.conflict import ConflictDialog

LOADED_AT = datetime(2026, 1, 15, 12, 0, 0, tzinfo=timezone.utc)
HOSTILE_REVISION = "7\x1b[2J\x9b31m\u202e"
"""A revision as a hostile server or proxy could send it: Twilio's revisions are opaque strings."""


def item(data: dict[str, Any], revision: str) -> MapItem:
    return MapItem(
        key="order-1", account_sid="AC1", service_sid="IS1", map_sid="MP1", url="https://x/order-1",
        revision=revision, data=data, date_expires=None, date_created=LOADED_AT, date_updated=LOADED_AT,
        created_by="system",
    )


def test_the_conflict_summary_escapes_the_revisions():
    view = ThreeWay(
        base=item({"a": 1}, HOSTILE_REVISION),
        theirs=item({"a": 2}, HOSTILE_REVISION + "8"),
        mine_data={"a": 3},
        mine_item_ttl=None,
        mine_collection_ttl=None,
    )
    summary = ConflictDialog(view)._summary().plain
    assert "\x1b" not in summary and "\x9b" not in summary and "\u202e" not in summary, repr(summary)
    assert "revision 7\\x1b[2J\\x9b31m\\u202e;" in summary, summary


def test_conflict_rows_line_up_when_a_path_holds_wide_characters():
    """The path column was cut and padded by characters: a path of CJK characters took twice
    the columns, pushed its values right and cut them off at 80 columns."""
    wide_key = "配送先住所の郵便番号と電話番号" * 2  # 30 characters, 60 cells
    base = {"status": "new", wide_key: "1", "短い": "a"}
    view = ThreeWay(
        base=item(base, "1"),
        theirs=item({**base, "status": "theirs", wide_key: "2", "短い": "b"}, "2"),
        mine_data=base,
        mine_item_ttl=None,
        mine_collection_ttl=None,
    )
    dialog = ConflictDialog(view)
    lines = [dialog._row_prompt(row, marked=False).plain for row in dialog.rows]
    value_columns = {cell_len(line[: line.rindex(' "', 0, line.index(" → "))]) for line in lines}
    assert len(value_columns) == 1, lines
    assert all("…" in line for line in lines if wide_key[:3] in line), lines
