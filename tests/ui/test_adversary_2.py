"""Found by trying to break the app (the adversary's second round): a slow network while the user
types on. Each test failed before its fix, or is a strict xfail that names the bug."""

from __future__ import annotations

import asyncio
import json

from .helpers import SERVICE, main_screen, set_editor_json, settle, wait_until

SIZE = (120, 40)


async def test_typing_while_undo_last_save_fetches_is_not_wiped(build_app, other_writer):
    """F9 on a slow network: the undo first fetches the server's revision, and the user types on
    into the editor meanwhile (F9 returns at once). When the answer comes, the undo must not put
    the undone version over what was typed: the typed text stays, and nothing is written."""
    app = build_app(SERVICE, "orders", "order-0001")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = main_screen(pilot)
        before = screen.session.base.data
        set_editor_json(pilot, {**before, "status": "saved"})
        await pilot.press("ctrl+s")
        await settle(pilot)
        session = screen.session
        assert session.base.revision == "1"
        client = screen.client
        real_fetch = client.fetch_item
        slow_answer = asyncio.Event()
        asked: list[str] = []

        async def fetch_item(*args, **kwargs):
            item = await real_fetch(*args, **kwargs)
            asked.append(item.key)
            await slow_answer.wait()
            return item

        client.fetch_item = fetch_item
        await pilot.press("f9")
        await wait_until(pilot, lambda: asked, what="the undo's fetch to be sent")
        screen.editor.json_area.focus()
        set_editor_json(pilot, {**before, "status": "typed while the undo travelled"})
        await pilot.pause()
        slow_answer.set()
        await settle(pilot)
        editor = screen.editor
        assert json.loads(editor.text)["status"] == "typed while the undo travelled", (
            "the undo's version replaced what was typed while it travelled"
        )
    current = await other_writer.fetch_item(SERVICE, session.map_sid, "order-0001")
    assert current.data["status"] == "saved"
