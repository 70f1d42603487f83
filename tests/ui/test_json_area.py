"""JsonArea's highlighting, computed a block of rows at a time, against a stock TextArea's."""

from __future__ import annotations

import json

from textual.app import App, ComposeResult
from textual.widgets import TextArea

from syncmap_tui.ui.widgets.json_area import JsonArea, _RowHighlights

MAX_SPANS = _RowHighlights.MAX_LINE_SPANS


class TwoAreas(App[None]):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        yield JsonArea(id="ours")
        yield TextArea(self.text, language="json", id="stock")

    def on_mount(self) -> None:
        self.query_one(JsonArea).load_text(self.text)


async def spans_of_both(text: str) -> tuple[list[list], list[list]]:
    """Every row's highlight spans in a JsonArea and in a stock JSON TextArea with the same text."""
    app = TwoAreas(text)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        ours = app.query_one(JsonArea)
        stock = app.query_one("#stock", TextArea)
        rows = range(ours.document.line_count)
        return (
            [sorted(spans) for spans in ours._highlights.rows(rows)],
            [sorted(stock._highlights[row]) for row in rows],
        )


async def test_spans_are_the_stock_text_areas_across_blocks_of_rows():
    value = {
        "order": {"id": "o-1", "lines": [{"sku": f"SKU-{n:03d}", "qty": n, "gift": n % 2 == 0} for n in range(40)]},
        "note": None,
        "total": 12.5,
    }
    text = json.dumps(value, indent=2)
    assert text.count("\n") > 2 * _RowHighlights.BLOCK_ROWS  # several blocks, and spans at their edges
    ours, stock = await spans_of_both(text)
    assert any(ours) and ours == stock


async def test_a_line_of_too_many_spans_is_drawn_plain_and_a_long_string_is_not():
    """TextArea styles a whole line for every screen row it wraps to: a line of minified JSON would
    cost seconds per keystroke (21 KB: ~1.5 s a cursor move). A long string is cheap to style."""
    many = '"many": [' + ", ".join(str(n) for n in range(MAX_SPANS)) + "],"
    long_string = '"long": "' + "gift wrap, please. " * 300 + '",'
    text = "\n".join(['{"before": 1,', many, long_string, '"after": true}'])
    json.loads(text)

    ours, stock = await spans_of_both(text)
    assert len(stock[1]) > MAX_SPANS and ours[1] == []
    assert len(long_string) > 5_000 and ours[2] == stock[2] != []
    assert ours[0] == stock[0] != [] and ours[3] == stock[3] != []
