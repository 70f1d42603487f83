"""Issue #15, the layout at 80×24: the split between the table and the editor follows the task and
moves from the keyboard, F10 maximises the pane in use, an opened item is never hidden, and the tree
is as wide as its names within bounds."""

from __future__ import annotations

from syncmap_tui.ui.widgets.item_table import ItemTable

from .helpers import SERVICE, main_screen, settle

SMALL = (80, 24)


async def test_the_split_follows_the_task_and_each_task_keeps_its_own(build_app):
    app = build_app(SERVICE, "orders", "order-0001")
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        main = main_screen(pilot)
        pane, editor = main.body.items_pane, main.editor
        assert main.editor.json_area.has_focus
        assert editor.size.height > 2 * pane.size.height, "editing: the editor has the room"
        editing_rows = pane.size.height

        main.item_table.focus()
        await pilot.pause()
        assert pane.size.height > editor.size.height, "choosing: the table has the room"
        choosing_rows = pane.size.height

        await pilot.press("alt+down")
        await pilot.pause()
        assert pane.size.height == choosing_rows + 1

        main.editor.json_area.focus()
        await pilot.pause()
        assert pane.size.height == editing_rows, "the editing split is its own"
        await pilot.press("alt+up")
        await pilot.pause()
        assert pane.size.height == editing_rows - 1
        for _ in range(10):
            await pilot.press("alt+up")
        await pilot.pause()
        assert pane.size.height == 5, "the table keeps its jump field, headings, two rows and status"

        main.item_table.focus()
        await pilot.pause()
        assert pane.size.height == choosing_rows + 1


async def test_f10_maximises_the_pane_in_use_and_opening_an_item_shows_the_editor(build_app):
    app = build_app(SERVICE, "orders", "order-0001")
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        main = main_screen(pilot)
        await pilot.press("f10")
        await pilot.pause()
        assert main.maximized is main.editor
        assert main.header.region.y == 0, "the account stays in sight"
        await pilot.press("f10")
        await pilot.pause()
        assert main.maximized is None

        main.item_table.focus()
        await pilot.press("f10")
        await pilot.pause()
        assert main.maximized is main.body.items_pane
        await pilot.press("down", "enter")
        await settle(pilot)
        assert main.editor.open_item.key == "order-0002"
        assert main.maximized is None, "the item opened is in sight, not in a hidden editor"
        assert main.editor.json_area.has_focus and main.editor.region.height > 0


async def test_the_tree_is_as_wide_as_its_names_within_what_the_table_leaves(build_app):
    app = build_app(SERVICE, "orders")
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        tree = main_screen(pilot).navigator
        widest = tree.virtual_size.width
        assert widest >= len("▶ Feature Flags (production)")
        assert tree.scrollable_content_region.width >= widest, "nothing cut at 200 columns"

    app = build_app(SERVICE, "orders")
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        main = main_screen(pilot)
        assert main.navigator.size.width + ItemTable.least_width() <= 80
        width = main.navigator.size.width
        await pilot.press("alt+right")
        await pilot.pause()
        assert main.navigator.size.width == width + 2
        await pilot.press("alt+left", "alt+left")
        await pilot.pause()
        assert main.navigator.size.width == width - 2


async def test_tab_goes_tree_jump_table_json_item_ttl_map_ttl_in_a_fixed_order(build_app):
    app = build_app(SERVICE, "orders")
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        main = main_screen(pilot)

        def where() -> str:
            focused = app.focused
            for name, widget in (("tree", main.navigator), ("jump", main.jump_input), ("table", main.item_table)):
                if focused is widget:
                    return name
            editor = main.editor
            if focused is editor.json_area:
                return "json"
            if focused is editor.item_ttl.input:
                return "item ttl"
            if focused is editor.collection_ttl.input:
                return "map ttl"
            return repr(focused)

        main.navigator.focus()
        seen = []
        for _ in range(3):
            await pilot.press("tab")
            seen.append(where())
        assert seen == ["jump", "table", "tree"], "no item open: the editor's fields are not in the way"

        main.item_table.focus()
        await pilot.press("enter")
        await settle(pilot)
        main.navigator.focus()
        seen = []
        for _ in range(6):
            await pilot.press("tab")
            seen.append(where())
        assert seen == ["jump", "table", "json", "item ttl", "map ttl", "tree"]


async def test_a_terminal_that_narrows_stacks_the_panes_again(build_app):
    app = build_app(SERVICE, "orders", "order-0001")
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        main = main_screen(pilot)
        pane = main.body.items_pane
        assert main.body.wide and pane.region.height > 40, "side by side"
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        await pilot.pause()
        assert not main.body.wide
        assert pane.region.width == main.body.workspace.region.width, "stacked: the table is as wide as the workspace"
        assert main.navigator.size.width + ItemTable.least_width() <= 80
        assert main.editor.region.y > pane.region.y


async def test_the_row_opened_stays_in_sight_when_the_table_gives_the_editor_its_rows(build_app):
    app = build_app(SERVICE, "orders")
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        main = main_screen(pilot)
        table = main.item_table
        table.focus()
        await pilot.press(*["down"] * 9, "enter")
        await settle(pilot)
        assert main.editor.open_item.key == "order-0010"
        top = int(table.scroll_y)
        assert top <= table.cursor_row < top + table.scrollable_content_region.height - table.header_height
