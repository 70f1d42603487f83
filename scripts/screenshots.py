"""Make the SVG screenshots in screenshots/ from the real app against the seeded in-process emulator.

    .venv/bin/python scripts/screenshots.py

writes screenshots/main.svg (a map open, an item in the editor), screenshots/editor.svg (live
validation while editing) and screenshots/conflict.svg (the conflict dialog). The output is
deterministic: a pinned clock, seeded data with derived SIDs, a fixed terminal size and no cursor
blink, so an unchanged UI gives byte-identical files. HOME and the XDG dirs point at a temporary
folder while it runs: the user's config and drafts neither change the pictures nor get the
script's unsaved edits. Look at the files before committing them.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import AsyncIterator, Awaitable, Callable

from textual.pilot import Pilot
from textual.screen import Screen

from syncmap_tui.config import Target
from syncmap_tui.emulator import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
from syncmap_tui.emulator.app import create_app
from syncmap_tui.emulator.inprocess import emulator_transport
from syncmap_tui.emulator.seed import DEMO_SERVICE, seed_demo
from syncmap_tui.emulator.store import SyncStore
from syncmap_tui.sync.auth import Credentials
from syncmap_tui.sync.client import NO_RETRY, SyncClient
from syncmap_tui.sync.validation import format_data
from syncmap_tui.ui import formatting
from syncmap_tui.ui.app import DeepLink, make_app
from syncmap_tui.ui.dialogs import ConflictDialog
from syncmap_tui.ui.main_screen import MainScreen
from syncmap_tui.ui.widgets.editor import ItemEditor

PINNED_NOW = datetime(2026, 1, 15, 12, 0, 0, tzinfo=timezone.utc)
SIZE = (120, 36)
OUT_DIR = Path(__file__).resolve().parent.parent / "screenshots"
EMULATOR_URL = "http://emulator.test"
EMBEDDED = Target(label="local emulator", base_url=None, credentials=None, is_embedded_emulator=True, source="default")

ClientFactory = Callable[[], SyncClient]
Step = Callable[[Pilot, ClientFactory], Awaitable[None]]
"""What to do once the deep link has loaded, given the pilot and a maker of other writers' clients."""


@asynccontextmanager
async def seeded_app_running(link: tuple[str, ...]) -> AsyncIterator[tuple[Pilot, ClientFactory]]:
    """The app on a fresh seeded emulator, opened at the item `link` names, with every load finished."""
    with SyncStore(":memory:", clock=lambda: PINNED_NOW) as store:
        seed_demo(store, DEFAULT_ACCOUNT_SID)
        emulator = create_app(store, account_sid=DEFAULT_ACCOUNT_SID, auth_token=DEFAULT_AUTH_TOKEN)

        def client() -> SyncClient:
            credentials = Credentials.auth_token(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN)
            return SyncClient(credentials, base_url=EMULATOR_URL, transport=emulator_transport(emulator), retry=NO_RETRY)

        app = make_app(EMBEDDED, deep_link=DeepLink(*link), client_factory=lambda _target: client())
        app.dialog_guard_seconds = 0.0  # dialogs as they look once they take keys, not dimmed
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            open_item = editor(pilot).open_item
            if open_item is None or open_item.key != link[-1]:
                raise RuntimeError(f"the deep link {link} did not open its item")
            yield pilot, client


async def settle(pilot: Pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def wait_for_screen(pilot: Pilot, screen_type: type[Screen], *, rounds: int = 300) -> None:
    """For a screen that a worker awaits: waiting for the workers would never return."""
    for _ in range(rounds):
        if isinstance(pilot.app.screen, screen_type):
            await pilot.pause()
            return
        await pilot.pause(0.01)
    raise RuntimeError(f"{screen_type.__name__} never showed; the screen is {pilot.app.screen!r}")


def editor(pilot: Pilot) -> ItemEditor:
    return next(s for s in pilot.app.screen_stack if isinstance(s, MainScreen)).editor


async def break_the_json_and_set_a_ttl(pilot: Pilot, _other_client: ClientFactory) -> None:
    """An edit in progress: a dropped comma (line:column, in red) and an ItemTtl with its expiry."""
    json_editor = editor(pilot)
    json_editor.replace_text(json_editor.text.replace('"shipped",', '"shipped"', 1))
    json_editor.item_ttl.value = "2h"
    await pilot.pause()


async def save_after_someone_else(pilot: Pilot, other_client: ClientFactory) -> None:
    """Another writer saves first: values that differ, a path only theirs has, one only mine has."""
    json_editor = editor(pilot)
    loaded = json.loads(json_editor.text)
    theirs = {**loaded, "status": "delivered", "customer": {**loaded["customer"], "name": "C. Three"}, "carrier": "DHL"}
    async with other_client() as other_writer:
        sync_map = await other_writer.fetch_map(DEMO_SERVICE, "orders")
        await other_writer.update_item(DEMO_SERVICE, sync_map.sid, "order-0003", data=theirs, if_match=None)
    json_editor.replace_text(format_data({**loaded, "status": "refunded", "note": "refund approved by support"}))
    await pilot.pause()
    await pilot.press("ctrl+s")
    await wait_for_screen(pilot, ConflictDialog)


SHOTS: list[tuple[str, tuple[str, ...], Step | None]] = [
    ("main", (DEMO_SERVICE, "orders", "order-0001"), None),
    ("editor", (DEMO_SERVICE, "orders", "order-0002"), break_the_json_and_set_a_ttl),
    ("conflict", (DEMO_SERVICE, "orders", "order-0003"), save_after_someone_else),
]
"""Deep links stay within the first rows of a map: where the table scrolls to a later row depends on timing."""


async def take(name: str, link: tuple[str, ...], step: Step | None) -> Path:
    async with seeded_app_running(link) as (pilot, other_client):
        if step is not None:
            await step(pilot, other_client)
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()
        svg = pilot.app.export_screenshot()
    path = OUT_DIR / f"{name}.svg"
    path.write_text(svg, encoding="utf-8", newline="\n")
    return path


def isolate_home(home: Path) -> None:
    """Point HOME and the XDG dirs (which platformdirs reads on every call) at `home`."""
    os.environ["HOME"] = str(home)
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        folder = home / name.lower()
        folder.mkdir()
        os.environ[name] = str(folder)


async def main() -> None:
    formatting.now_utc = lambda: PINNED_NOW  # the one clock the UI reads; the store has its own
    OUT_DIR.mkdir(exist_ok=True)
    for name, link, step in SHOTS:
        print(await take(name, link, step))


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="syncmap-screenshots-") as home:
        isolate_home(Path(home))
        asyncio.run(main())
