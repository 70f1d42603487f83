"""Production profiles: the header says so in a warning style, and deleting needs the key typed exactly."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from textual.color import Color
from textual.widgets import Input, Static

from syncmap_tui.config import Target
from syncmap_tui.sync.auth import Credentials
from syncmap_tui.sync.errors import ItemNotFound
from syncmap_tui.ui.dialogs.confirm import ConfirmDialog

from .helpers import SERVICE, main_screen, notifications, settle, wait_for_screen

SIZE = (100, 30)
PRODUCTION = Target(
    label="acme-prod",
    base_url="https://sync.twilio.com",
    credentials=Credentials.auth_token("AC" + "0" * 32, "unused: the test's client factory answers"),
    production=True,
    source="profile",
)
STAGING = Target(
    label="acme-staging",
    base_url="https://sync.twilio.com",
    credentials=Credentials.auth_token("AC" + "0" * 32, "unused"),
    source="profile",
)


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    if_match: str | None


class RequestLog:
    """ASGI middleware in front of the emulator: every request the app sends, with its If-Match."""

    def __init__(self, app) -> None:
        self.app = app
        self.seen: list[Seen] = []

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            if_match = headers.get(b"if-match")
            self.seen.append(Seen(scope["method"], scope["path"], if_match.decode() if if_match is not None else None))
        await self.app(scope, receive, send)

    def deletes(self) -> list[Seen]:
        return [s for s in self.seen if s.method == "DELETE"]


@pytest.fixture
def request_log(emulator) -> RequestLog:
    log = RequestLog(emulator.app)
    emulator.app = log  # the app's client is made at connect time, from emulator.app
    return log


async def test_the_header_shows_production_in_the_warning_style(build_app):
    app = build_app(SERVICE, "orders", target=PRODUCTION)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        target = main_screen(pilot).header.query_one("#target")
        assert target.has_class("-production")
        assert target.render().plain.startswith("PRODUCTION acme-prod")
        assert target.styles.background == Color.parse(app.theme_variables["error"])
        assert target.styles.text_style.bold


async def test_other_profiles_are_not_marked_production(build_app):
    app = build_app(SERVICE, "orders", target=STAGING)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        target = main_screen(pilot).header.query_one("#target")
        assert not target.has_class("-production")
        assert "PRODUCTION" not in target.render().plain
        assert target.styles.background != Color.parse(app.theme_variables["error"])


async def open_delete_dialog(pilot, key: str) -> ConfirmDialog:
    main = main_screen(pilot)
    main.item_table.focus()
    assert main.item_table.select_key(key)
    await pilot.press("delete")
    return await wait_for_screen(pilot, ConfirmDialog)


async def test_deleting_needs_the_key_typed_exactly(build_app, other_writer, request_log):
    key = "order-0032"
    app = build_app(SERVICE, "orders", target=PRODUCTION)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(pilot)
        sid = (await other_writer.fetch_map(SERVICE, "orders")).sid
        revision = (await other_writer.fetch_item(SERVICE, sid, key)).revision

        dialog = await open_delete_dialog(pilot, key)
        typed = dialog.query_one("#type-to-confirm", Input)
        assert app.focused is typed
        # Near misses: a prefix, another case, a trailing space, the other item's key.
        for wrong in ("order-003", "ORDER-0032", f"{key} ", "order-0033", ""):
            typed.value = wrong
            await pilot.press("enter")
            await pilot.pause()
            assert app.screen is dialog, f"{wrong!r} closed the dialog"
            await pilot.click("#confirm")
            await pilot.pause()
            assert app.screen is dialog, f"{wrong!r} confirmed with the button"
        assert any("The typed key does not match" in n for n in notifications(pilot))
        prompt = " ".join(str(static.render()) for static in dialog.query(Static))
        assert "Type the key exactly" in prompt, prompt  # issue #15: it said "the name" for a key
        assert request_log.deletes() == []
        assert (await other_writer.fetch_item(SERVICE, sid, key)).revision == revision

        typed.value = ""
        typed.focus()  # the clicks above moved it to the button
        await pilot.press(*key)
        assert typed.value == key
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmDialog)
        with pytest.raises(ItemNotFound):
            await other_writer.fetch_item(SERVICE, sid, key)
        (delete,) = request_log.deletes()
        assert delete.path.endswith(f"/Items/{key}") and delete.if_match == revision
        assert key not in main.item_table.items
        assert any(f"Deleted '{key}'" in n for n in notifications(pilot))


async def test_cancelling_the_typed_confirmation_deletes_nothing(build_app, other_writer, request_log):
    key = "order-0034"
    app = build_app(SERVICE, "orders", target=PRODUCTION)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        dialog = await open_delete_dialog(pilot, key)
        dialog.query_one("#type-to-confirm", Input).value = key
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmDialog)
        assert request_log.deletes() == []
        sid = (await other_writer.fetch_map(SERVICE, "orders")).sid
        assert (await other_writer.fetch_item(SERVICE, sid, key)).revision == "0"


async def test_a_typed_delete_of_an_item_changed_meanwhile_is_refused_by_if_match(build_app, other_writer, request_log):
    key = "order-0035"
    app = build_app(SERVICE, "orders", target=PRODUCTION)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        sid = (await other_writer.fetch_map(SERVICE, "orders")).sid
        dialog = await open_delete_dialog(pilot, key)
        await other_writer.update_item(SERVICE, sid, key, data={"changed": "meanwhile"}, if_match=None)
        dialog.query_one("#type-to-confirm", Input).value = key
        await pilot.press("enter")
        await settle(pilot)
        assert (await other_writer.fetch_item(SERVICE, sid, key)).data == {"changed": "meanwhile"}
        (delete,) = request_log.deletes()
        assert delete.if_match == "0"
        assert any("Not deleted" in n for n in notifications(pilot))


async def test_non_production_deletes_need_no_typing(build_app, other_writer):
    app = build_app(SERVICE, "orders", target=STAGING)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        dialog = await open_delete_dialog(pilot, "order-0036")
        assert not dialog.query("#type-to-confirm")
        await pilot.click("#confirm")
        await settle(pilot)
        sid = (await other_writer.fetch_map(SERVICE, "orders")).sid
        with pytest.raises(ItemNotFound):
            await other_writer.fetch_item(SERVICE, sid, "order-0036")
