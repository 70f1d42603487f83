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

from .helpers import SIZE, SERVICE, main_screen, notifications, settle, wait_for_screen

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


async def open_delete_dialog(pilot, key: str) -> ConfirmDialog:
    main = main_screen(pilot)
    main.item_table.focus()
    assert main.item_table.select_key(key)
    await pilot.press("delete")
    return await wait_for_screen(pilot, ConfirmDialog)


async def test_a_production_profile_is_marked_and_its_deletes_need_the_key_typed_exactly_on_the_current_revision(
    build_app, other_writer, request_log
):
    """One start under the production profile (each start costs ~0.27 s of CPU): the header, then
    three deletes, each on an item of its own: cancelled (order-0034), near misses then the key
    typed (order-0032), and one changed meanwhile (order-0035)."""
    app = build_app(SERVICE, "orders", target=PRODUCTION)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(pilot)
        sid = (await other_writer.fetch_map(SERVICE, "orders")).sid

        # The header shows production in the warning style.
        target = main.header.query_one("#target")
        assert target.has_class("-production"), "header: the production class"
        assert target.render().plain.startswith("PRODUCTION acme-prod"), "header: says PRODUCTION and the label"
        assert target.styles.background == Color.parse(app.theme_variables["error"]), "header: the error colour"
        assert target.styles.text_style.bold, "header: bold"

        # Cancelling the typed confirmation deletes nothing.
        key = "order-0034"
        dialog = await open_delete_dialog(pilot, key)
        dialog.query_one("#type-to-confirm", Input).value = key
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmDialog), "cancel: the dialog closed"
        assert request_log.deletes() == [], "cancel: no DELETE sent"
        assert (await other_writer.fetch_item(SERVICE, sid, key)).revision == "0", "cancel: the item untouched"

        # Deleting needs the key typed exactly.
        key = "order-0032"
        revision = (await other_writer.fetch_item(SERVICE, sid, key)).revision
        dialog = await open_delete_dialog(pilot, key)
        typed = dialog.query_one("#type-to-confirm", Input)
        assert app.focused is typed, "the typed confirmation has the focus"
        # Near misses: a prefix, another case, a trailing space, the other item's key.
        for wrong in ("order-003", "ORDER-0032", f"{key} ", "order-0033", ""):
            typed.value = wrong
            await pilot.press("enter")
            await pilot.pause()
            assert app.screen is dialog, f"{wrong!r} closed the dialog"
            await pilot.click("#confirm")
            await pilot.pause()
            assert app.screen is dialog, f"{wrong!r} confirmed with the button"
        assert any("The typed key does not match" in n for n in notifications(pilot)), "near misses: told"
        prompt = " ".join(str(static.render()) for static in dialog.query(Static))
        assert "Type the key exactly" in prompt, prompt  # issue #15: it said "the name" for a key
        assert request_log.deletes() == [], "near misses: no DELETE sent"
        assert (await other_writer.fetch_item(SERVICE, sid, key)).revision == revision, "near misses: item untouched"

        typed.value = ""
        typed.focus()  # the clicks above moved it to the button
        await pilot.press(*key)
        assert typed.value == key, "the key typed"
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmDialog), "typed exactly: the dialog closed"
        with pytest.raises(ItemNotFound):
            await other_writer.fetch_item(SERVICE, sid, key)
        (delete,) = request_log.deletes()
        assert delete.path.endswith(f"/Items/{key}") and delete.if_match == revision, f"the DELETE sent: {delete}"
        assert key not in main.item_table.items, "typed exactly: the row gone"
        assert any(f"Deleted '{key}'" in n for n in notifications(pilot)), "typed exactly: told"

        # A typed delete of an item changed meanwhile is refused by If-Match.
        key = "order-0035"
        dialog = await open_delete_dialog(pilot, key)
        await other_writer.update_item(SERVICE, sid, key, data={"changed": "meanwhile"}, if_match=None)
        dialog.query_one("#type-to-confirm", Input).value = key
        await pilot.press("enter")
        await settle(pilot)
        assert (await other_writer.fetch_item(SERVICE, sid, key)).data == {"changed": "meanwhile"}, \
            "changed meanwhile: their data stays"
        (_, delete) = request_log.deletes()
        assert delete.path.endswith(f"/Items/{key}") and delete.if_match == "0", f"the DELETE sent: {delete}"
        assert any("Not deleted" in n for n in notifications(pilot)), "changed meanwhile: told"


async def test_other_profiles_are_not_marked_production_and_their_deletes_need_no_typing(build_app, other_writer):
    """One start under a staging profile: the header, then a delete."""
    app = build_app(SERVICE, "orders", target=STAGING)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)

        # Other profiles are not marked production.
        target = main_screen(pilot).header.query_one("#target")
        assert not target.has_class("-production"), "header: no production class"
        assert "PRODUCTION" not in target.render().plain, "header: no PRODUCTION"
        assert target.styles.background != Color.parse(app.theme_variables["error"]), "header: not the error colour"

        # Non-production deletes need no typing.
        dialog = await open_delete_dialog(pilot, "order-0036")
        assert not dialog.query("#type-to-confirm"), "staging: no typed confirmation"
        await pilot.click("#confirm")
        await settle(pilot)
        sid = (await other_writer.fetch_map(SERVICE, "orders")).sid
        with pytest.raises(ItemNotFound):
            await other_writer.fetch_item(SERVICE, sid, "order-0036")
