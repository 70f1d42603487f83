"""Issue #14 part 5: a map whose service calls its webhook on REST writes says so before a save."""

from __future__ import annotations

from textual.widgets import Static

from .helpers import SERVICE, main_screen, settle

SIZE = (100, 30)


def notice_text(pilot) -> str:
    return str(main_screen(pilot).header.query_one("#notice", Static).render())


async def test_a_map_of_a_service_whose_saves_call_its_webhook_warns_in_the_header(build_app):
    app = build_app("feature-flags", "flags")  # seeded with webhook_url and webhooks_from_rest_enabled
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "saves call a webhook" in notice_text(pilot)
        assert main_screen(pilot).header.query_one("#notice", Static).has_class("-warning")

        main = main_screen(pilot)
        service = next(s for s in (n.data.service for n in main.navigator.root.children) if s.unique_name == SERVICE)
        await main.navigation.load_maps(service)
        orders = next(n.data for n in main.navigator.service_node(service.sid).children if n.data.sync_map.unique_name == "orders")
        main.open_map_from_palette(orders)
        await settle(pilot)
        assert "webhook" not in notice_text(pilot), "another service's map clears it"


async def test_reachability_webhooks_alone_do_not_warn(build_app):
    app = build_app("chat-presence", "presence")  # reachability webhooks fire on connections, not saves
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "webhook" not in notice_text(pilot)


async def test_a_webhook_url_without_webhooks_from_rest_does_not_warn(build_app, emulator):
    from syncmap_tui.emulator import DEFAULT_ACCOUNT_SID

    emulator.store.update_service(DEFAULT_ACCOUNT_SID, "feature-flags", webhooks_from_rest_enabled=False)
    app = build_app("feature-flags", "flags")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "webhook" not in notice_text(pilot)
