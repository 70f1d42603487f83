"""Issue #14 part 5: a map whose service calls its webhook on REST writes says so before a save.
The rule (which services' saves call a webhook) is tested case by case in
tests/unit/test_webhook_on_saves.py; here the header follows it as maps of other services open."""

from __future__ import annotations

from textual.widgets import Static

from .helpers import SIZE, SERVICE, main_screen, settle


def notice_text(pilot) -> str:
    return str(main_screen(pilot).header.query_one("#notice", Static).render())


async def open_map(pilot, service_name: str, map_name: str) -> None:
    main = main_screen(pilot)
    service = next(s for s in (n.data.service for n in main.navigator.root.children) if s.unique_name == service_name)
    await main.navigation.load_maps(service)
    entry = next(n.data for n in main.navigator.service_node(service.sid).children if n.data.sync_map.unique_name == map_name)
    main.open_map_from_palette(entry)
    await settle(pilot)


async def test_the_webhook_notice_follows_the_open_maps_service(build_app):
    app = build_app("feature-flags", "flags")  # seeded with webhook_url and webhooks_from_rest_enabled
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        # A map of a service whose saves call its webhook warns in the header.
        assert "saves call a webhook" in notice_text(pilot), "feature-flags' saves call its webhook"
        assert main_screen(pilot).header.query_one("#notice", Static).has_class("-warning"), "the notice is a warning"

        await open_map(pilot, SERVICE, "orders")
        assert "webhook" not in notice_text(pilot), "another service's map clears it"

        # Reachability webhooks alone do not warn: they fire on connections, not saves.
        await open_map(pilot, "chat-presence", "presence")
        assert "webhook" not in notice_text(pilot), "chat-presence's reachability webhooks do not warn"
