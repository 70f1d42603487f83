"""Issue #15, the command palette: it finds maps of services not expanded in the tree, opens what
is chosen (a service expands, a map opens), and an item opened from it is in sight."""

from __future__ import annotations

from .helpers import SIZE, SERVICE, main_screen, settle, wait_until


async def choose(pilot, query: str, expected: str) -> None:
    await pilot.press("ctrl+p")
    await pilot.pause()
    await pilot.press(*query)
    app = pilot.app

    def prompts() -> list[str]:
        options = app.screen.query("CommandList")
        if not options:
            return []
        found = options.first()
        return [str(found.get_option_at_index(index).prompt) for index in range(found.option_count)]

    await wait_until(pilot, lambda: any(expected in prompt for prompt in prompts()), what=f"{expected!r} in the palette")
    index = next(index for index, prompt in enumerate(prompts()) if expected in prompt)
    await pilot.press(*["down"] * index, "enter")


async def test_the_palette_opens_items_maps_and_services_not_in_sight(build_app):
    app = build_app(SERVICE, "orders")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(pilot)

        # Opening an item from the palette while the table is maximised shows the editor.
        main.item_table.focus()
        await pilot.press("f10")
        await pilot.pause()
        assert main.maximized is main.body.items_pane, "the table maximised"
        await choose(pilot, "order-0003", "item: order-0003")
        await settle(pilot)
        assert main.editor.open_item.key == "order-0003", "the item from the palette opened"
        assert main.maximized is None and main.editor.json_area.has_focus, "the editor shows, not the maximised table"

        # The palette opens a map of a service never expanded.
        presence = main.navigator.root.children[2]
        assert not presence.is_expanded and not presence.data.maps_loaded, "presence starts unexpanded"
        await choose(pilot, "presence", "map: Chat Presence › presence")
        await settle(pilot)
        assert main.current_map is not None and main.current_map.sync_map.unique_name == "presence", "a map of a service never expanded"
        assert "user:alice" in main.item_table.items, "its items are listed"
        assert presence.is_expanded and main.navigator.current_map is main.current_map, "the tree shows where"

        # Choosing a service in the palette expands it.
        flags = main.navigator.root.children[1]
        await choose(pilot, "service: Feature", "service: Feature Flags (production)")
        await settle(pilot)
        assert flags.is_expanded and [str(child.label) for child in flags.children] == ["flags"], "the service expanded"
        assert main.navigator.has_focus and main.navigator.cursor_node is flags, "the tree has the focus on the service"
