"""The item table pages through a map with the headless ItemWindow: one walk across trims, and the
two bugs found by hand that the window's rules fixed. The rules themselves are tested without
Textual in tests/unit/test_item_window_rules.py.
"""

from __future__ import annotations

import asyncio

import pytest

from syncmap_tui.ui.widgets import item_table

from .helpers import SIZE, SERVICE, main_screen, settle, wait_until


def index_of(key: str) -> int:
    return int(key.removeprefix("sku-"))


def assert_contiguous(keys: list[str]) -> None:
    assert keys == sorted(keys), "in key order"
    skus = [index_of(k) for k in keys]
    assert skus == list(range(skus[0], skus[-1] + 1)), "no gap, no repeat"


SMALL_MAX_ROWS = 250
"""With pages of 100, the third page down trims the first 150 rows away; KEEP_ROWS must stay above
a page plus the rows left below the cursor when the next page is asked for, or the trim drops the
cursor's own row."""
TALL = (100, 60)
"""A page up or down moves about the table's height: at 80x24 it is a few rows, here more, so the same
walk takes fewer key presses."""


@pytest.fixture
def small_window(monkeypatch) -> None:
    monkeypatch.setattr(item_table, "MAX_ROWS", SMALL_MAX_ROWS)
    monkeypatch.setattr(item_table, "KEEP_ROWS", 150)


async def test_paging_down_drops_far_rows_and_paging_up_loads_them_again(build_app, small_window):
    app = build_app(SERVICE, "catalog")
    async with app.run_test(size=TALL) as pilot:
        await settle(pilot)
        table = main_screen(pilot).item_table
        table.focus()
        visited = []
        while index_of(table.current_item.key) < 300:
            await pilot.press("pagedown")
            await settle(pilot)
            visited.append(index_of(table.current_item.key))
            assert table.row_count <= SMALL_MAX_ROWS
            assert list(table.items) == [table.get_row_at(row)[0].plain for row in range(table.row_count)]
        assert visited == sorted(visited), "page down never moves the cursor back"
        assert table.window.has_earlier and "sku-00000" not in table.items
        assert_contiguous(list(table.items))

        while table.current_item.key != "sku-00000":
            before = table.current_item.key
            await pilot.press("pageup")
            await settle(pilot)
            assert index_of(table.current_item.key) < index_of(before), "page up always moves up"
            assert table.row_count <= SMALL_MAX_ROWS
        keys = list(table.items)
        assert keys[0] == "sku-00000" and not table.window.has_earlier
        assert_contiguous(keys)
        await pilot.press("up")
        assert table.current_item.key == "sku-00000"


async def test_a_page_still_loading_when_the_user_jumps_is_dropped(build_app):
    """Found by hand: after ctrl+f sku-05000 the table showed sku-05099, then sku-00100…"""
    app = build_app(SERVICE, "catalog")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(pilot)
        table = main.item_table
        held = asyncio.Event()
        list_item_page = main.client.list_item_page

        async def everything_but_the_jump_held(*args, **kwargs):
            if kwargs.get("from_key") != "sku-05000":
                await held.wait()  # the next page of the old listing answers only after the jump
            return await list_item_page(*args, **kwargs)

        main.client.list_item_page = everything_but_the_jump_held
        table.focus()
        await pilot.press("end")
        await wait_until(pilot, lambda: table.page_pending, what="the next page to be asked for")
        main.jump_from_palette("sku-05000")
        await wait_until(pilot, lambda: table.first_key is not None and table.first_key >= "sku-04900", what="the jump")
        held.set()
        await settle(pilot)
        keys = list(table.items)
        assert "sku-00100" not in keys
        assert_contiguous(keys)
        assert table.current_item.key == "sku-05000"


async def test_a_tall_table_reads_ahead_and_a_created_item_takes_its_place_without_a_gap(build_app):
    from syncmap_tui.ui.dialogs.create import NewItemDialog

    app = build_app(SERVICE, "catalog")
    async with app.run_test(size=(200, 60)) as pilot:
        await settle(pilot)
        main = main_screen(pilot)
        table = main.item_table

        # Issue #17: at 200×60 the first page's last row is one page-down away, and a page down
        # every 0.3 s at 150 ms a request reached it before the next page came
        # (bench/bench_latency.py). The next page is asked for as soon as fewer than a few
        # page-downs of rows are left.
        assert table.cursor_row == 0, "read-ahead: the cursor has not moved"
        await wait_until(pilot, lambda: table.row_count >= 200, what="the second page, without scrolling")

        # A created item takes its place and paging goes on without a gap. Found by hand: a new
        # row was added at the bottom, and the next page skipped 300 keys.
        table.focus()
        await pilot.press("n")
        dialog = await wait_until_dialog(pilot, NewItemDialog)
        dialog.query_one("#new-key").value = "sku-00050a"
        await pilot.click("#create")
        await settle(pilot)
        keys = list(table.items)
        assert keys.index("sku-00050a") == keys.index("sku-00050") + 1, "in key order, not at the bottom"
        assert table.get_row_at(keys.index("sku-00050a"))[0].plain == "sku-00050a", "the created item's row"
        table.focus()  # the new item opened in the editor
        for _ in range(3):
            await pilot.press("end")
            await settle(pilot)
        # Whole pages and the created item (the read-ahead may have brought a page more than the presses).
        assert len(table.items) >= 401 and len(table.items) % 100 == 1, f"paging on after the created item: {len(table.items)} rows"
        keys = [k for k in table.items if k != "sku-00050a"]
        assert_contiguous(keys)


async def wait_until_dialog(pilot, dialog_type):
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, dialog_type), what=dialog_type.__name__)
    await pilot.pause()
    return pilot.app.screen


async def test_a_jump_that_lands_leaves_the_focus_with_the_next_prefix_being_typed(build_app):
    """Found by the adversary: the first jump's page landed while the next prefix was being typed,
    took the focus to the table, and the rest of the prefix and enter went to the table (enter
    opened an item instead of jumping)."""
    app = build_app(SERVICE, "catalog")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(pilot)
        typed = asyncio.Event()
        held = []
        list_item_page = main.client.list_item_page

        async def the_first_jump_held_until_the_next_prefix_is_typed(*args, **kwargs):
            if kwargs.get("from_key") == "sku-03":
                held.append(kwargs)
                await typed.wait()
            return await list_item_page(*args, **kwargs)

        main.client.list_item_page = the_first_jump_held_until_the_next_prefix_is_typed
        await pilot.press("ctrl+f", *"sku-03", "enter")
        await pilot.press("ctrl+f", "ctrl+u", *"sku-0")
        assert held, "the first jump's page is on its way"
        typed.set()  # the first jump's page lands now, in the middle of the next prefix
        await wait_until(pilot, lambda: main.item_table.first_key is not None and main.item_table.first_key >= "sku-02", what="the first jump")
        assert app.focused is main.jump_input and main.jump_input.value == "sku-0"
        await pilot.press("9", "enter")
        await settle(pilot)
        assert main.editor.open_item is None, "enter jumped; it opened no item"
        assert main.item_table.current_item.key == "sku-09000" and app.focused is main.item_table
