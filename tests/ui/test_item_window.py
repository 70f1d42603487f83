"""The item table keeps a window of rows (ItemTable.MAX_ROWS) and keyboard paging stays exact across it.

The window is made small here (300 rows, trimmed to 200) so that a few pages cross several trims.
"""

from __future__ import annotations

import pytest

from syncmap_tui.ui.widgets import item_table

from .helpers import SERVICE, main_screen, settle

SIZE = (100, 30)


def index_of(key: str) -> int:
    return int(key.removeprefix("sku-"))


@pytest.fixture
def small_window(monkeypatch) -> None:
    monkeypatch.setattr(item_table, "MAX_ROWS", 300)
    monkeypatch.setattr(item_table, "KEEP_ROWS", 200)


async def test_paging_down_drops_far_rows_and_paging_up_loads_them_again(build_app, small_window):
    app = build_app(SERVICE, "catalog")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = main_screen(pilot).item_table
        table.focus()
        visited = []
        while index_of(table.current_item.key) < 650:
            await pilot.press("pagedown")
            await settle(pilot)
            visited.append(index_of(table.current_item.key))
            assert table.row_count <= 300
            assert list(table.items) == [table.get_row_at(row)[0].plain for row in range(table.row_count)]
        assert visited == sorted(visited), "page down never moves the cursor back"
        assert table.has_earlier and "sku-00000" not in table.items
        keys = list(table.items)
        assert [index_of(k) for k in keys] == list(range(index_of(keys[0]), index_of(keys[-1]) + 1)), "no gap, no repeat"

        while table.current_item.key != "sku-00000":
            before = table.current_item.key
            await pilot.press("pageup")
            await settle(pilot)
            assert index_of(table.current_item.key) < index_of(before), "page up always moves up"
            assert table.row_count <= 300
        keys = list(table.items)
        assert keys[0] == "sku-00000" and not table.has_earlier
        assert [index_of(k) for k in keys] == list(range(len(keys))), "no gap, no repeat"


async def test_the_row_above_a_dropped_page_is_one_arrow_key_away(build_app, small_window):
    app = build_app(SERVICE, "catalog")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = main_screen(pilot).item_table
        table.focus()
        while not table.has_earlier:
            await pilot.press("pagedown")
            await settle(pilot)
        first = table.first_key
        table.move_cursor(row=0)
        await settle(pilot)
        for _ in range(3):
            await pilot.press("up")
            await settle(pilot)
        assert index_of(table.current_item.key) == index_of(first) - 3
        await pilot.press("down")
        await settle(pilot)
        assert index_of(table.current_item.key) == index_of(first) - 2


async def test_paging_down_again_after_dropping_the_bottom_continues_after_the_last_kept_row(build_app, small_window):
    app = build_app(SERVICE, "catalog")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = main_screen(pilot).item_table
        table.focus()
        while index_of(table.current_item.key) < 550:
            await pilot.press("pagedown")
            await settle(pilot)
        while table.resume_after is None:  # far enough up that the bottom rows were dropped
            await pilot.press("pageup")
            await settle(pilot)
        while index_of(table.current_item.key) < 650:
            await pilot.press("pagedown")
            await settle(pilot)
        keys = list(table.items)
        assert [index_of(k) for k in keys] == list(range(index_of(keys[0]), index_of(keys[-1]) + 1)), "no gap, no repeat"
