"""The watch on screen: sync/watch.py's `Watcher` re-reads the open item and the table's visible rows
while the app has focus and the main screen is the one shown; the open item's session learns what
the server has, the header says so at once, and changed rows are marked.

Nothing is drawn unless something changed: a poll that finds what the screen shows already costs
a request and no byte to the terminal (bench/bench_watch.py measures both).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from syncmap_tui.sync.errors import ItemNotFound, NetworkError, RateLimited, RequestTimedOut
from syncmap_tui.sync.models import MapItem
from syncmap_tui.sync.session_parts import is_later_version, same_item
from syncmap_tui.sync.watch import ITEM_INTERVAL, MAX_BACKOFF, PAGE_INTERVAL, Poll, PollPolicy, Watcher
from syncmap_tui.ui.widgets.header import Severity

if TYPE_CHECKING:
    from syncmap_tui.ui.main_screen import MainScreen

BEHIND_NOTICE = "behind-server"
WATCH_NOTICE = "watch"
MAX_VISIBLE_ROWS = 100
"""One page: Twilio's largest PageSize."""


class WatchFlow:
    """Owned by MainScreen: `start()` once connected; `show_server_state()` whenever the open item's
    session changed (it is cheap and draws only a change)."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self.enabled = screen.target.watch
        # The module's names, read now: a test shortens the intervals by patching them.
        self.policy = PollPolicy(
            time.monotonic, item_interval=ITEM_INTERVAL, page_interval=PAGE_INTERVAL, max_backoff=MAX_BACKOFF,
        )
        self.watcher = Watcher(
            self.policy, {Poll.ITEM: self.poll_item, Poll.PAGE: self.poll_page},
            on_failure=self._failed, on_recovered=self._recovered,
        )
        self._shown: dict[str, tuple[str, Severity]] = {}
        """What the header shows, by notice source: a notice is drawn again only when its text changes."""
        self._suspended = False
        self._task: asyncio.Task[None] | None = None
        """The poll loop: a task of its own, not a Textual worker, which waiting for every worker
        to finish (tests, quitting) would wait on for ever."""

    # -- when ---------------------------------------------------------------------------------

    def start(self) -> None:
        """Start polling (once connected), and follow the app's focus and the screen stack. The
        header says "watch on" or "watch off" (the setting; a pause while the app is away is not news)."""
        if self._task is not None:
            return
        self._notice(WATCH_NOTICE, "watch on" if self.enabled else "watch off")
        if not self.enabled:
            return
        app = self.screen.app
        self.screen.watch(app, "app_focus", lambda _focus: self.follow(), init=False)
        app.screen_change_signal.subscribe(self.screen, lambda _screen: self.follow())
        app.app_suspend_signal.subscribe(self.screen, lambda _app: self._suspend(True))
        app.app_resume_signal.subscribe(self.screen, lambda _app: self._suspend(False))
        self._task = asyncio.create_task(self._run())
        self.follow()

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _run(self) -> None:
        try:
            await self.watcher.run()
        except Exception as error:  # noqa: BLE001 - a bug: the app's one policy reports it (flow_errors.py)
            await self.screen.app.flow_failed("Watching the server", error)  # type: ignore[attr-defined]

    def follow(self) -> None:
        """Poll only while the app has focus and shows the main screen (no dialog, no help over it)."""
        if not self.enabled:
            return
        app = self.screen.app
        self.watcher.set_active(app.app_focus and app.screen is self.screen and not self._suspended)

    def _suspend(self, suspended: bool) -> None:
        """ctrl+z in a shell: the app is stopped, and must not poll when it runs again in the background."""
        self._suspended = suspended
        self.follow()

    def item_opened(self) -> None:
        """The open item was just read: its next poll is a full interval away."""
        self.policy.restart(Poll.ITEM)
        self.show_server_state()

    # -- polls --------------------------------------------------------------------------------

    async def poll_item(self) -> bool:
        from syncmap_tui.sync.client import NO_RETRY  # loaded with the client by then; not on the first frame

        screen = self.screen
        session = screen.session
        if session is None or session.in_flight is not None or screen.client is None:
            return False
        # An answer to a read that left before the session wrote (a save, a recreate, an undo) tells
        # nothing of what the server holds now: a 404 from before a recreate is no delete.
        base = session.base
        try:
            item = await screen.client.fetch_item(session.service_sid, session.map_sid, session.key, retry=NO_RETRY)
        except ItemNotFound:
            if screen.session is session and session.base is base:
                session.learn_gone()
                self.show_server_state()
            return True
        if screen.session is session and session.in_flight is None and session.base is base:
            session.learn(item, "watch")
            self.mark_changed([item])
            self.show_server_state()
        return True

    async def poll_page(self) -> bool:
        """Read the rows the table shows, from the first one on; mark those that changed."""
        from syncmap_tui.sync.client import NO_RETRY

        screen = self.screen
        entry, client = screen.current_map, screen.client
        table = screen.item_table
        if entry is None or client is None or table.page_pending:
            return False
        keys = table.shown_keys  # the rows on the table: the jump field's filter may hide some loaded ones
        top = int(table.scroll_y)
        visible = keys[top: top + min(MAX_VISIBLE_ROWS, max(1, table.scrollable_content_region.height))]
        if not visible:
            return False
        read_by, base = screen.session, screen.session.base if screen.session is not None else None
        # Under a key filter the rows on the screen are some of the loaded ones: read all that lie
        # between the first and the last (one page at most), so that each is read.
        loaded = list(table.items)
        span = loaded.index(visible[-1]) - loaded.index(visible[0]) + 1
        page = await client.list_item_page(
            entry.service.sid, entry.sync_map.sid, page_size=min(MAX_VISIBLE_ROWS, span), from_key=visible[0],
            retry=NO_RETRY,
        )
        if screen.current_map is not entry:
            return True
        session = screen.session
        # The open item's row says nothing new when it was opened, saved or recreated since the read
        # left (as in poll_item): the answer could hold the item someone deleted, or lack a recreated one.
        stale_key = session.key if session is not None and (session is not read_by or session.base is not base) else None
        records = [item for item in page.records if item.key != stale_key]
        for item in records:
            if session is not None and item.key == session.key:
                session.learn(item, "watch")
        self.mark_changed(records)
        for key in gone_keys(visible, page.records, page.has_more):
            if key != stale_key:
                table.mark_gone(key)
        self.show_server_state()
        return True

    def mark_changed(self, items: Iterable[MapItem]) -> None:
        """Rows whose item the server changed show it, marked; the others are left alone (no repaint)."""
        table = self.screen.item_table
        for item in items:
            shown = table.items.get(item.key)
            # Not older than the row either: a save may have landed while the poll's answer travelled.
            if shown is None or (same_item(shown, item) and not is_later_version(item, shown)):
                continue
            table.update_item(item)
            table.mark_changed(item.key)

    # -- what the header says -----------------------------------------------------------------

    def show_server_state(self) -> None:
        """The open item's state against the server, in the header: behind (with when it changed),
        another item under the key, or deleted. Drawn only when it changes."""
        session = self.screen.session
        if session is None or (session.newer is None and not session.gone):
            self._clear(BEHIND_NOTICE)
            return
        if session.newer is not None:
            if session.replaced:
                text = f"new item, created {_clock_time(session.newer.date_created)}"
            else:
                text = f"server: rev {session.newer.revision}, changed {_clock_time(session.newer.date_updated)}"
        else:
            text = "gone from the server"  # deleted or expired; the editor heading says what ctrl+s does
        self._notice(BEHIND_NOTICE, text, "warning")

    def _failed(self, error: BaseException, held: float) -> None:
        if isinstance(error, RateLimited):
            reason = "rate limited"
        elif isinstance(error, (NetworkError, RequestTimedOut)):
            reason = "no answer"
        else:
            reason = "failed"  # a 5xx, a 401, a map deleted: the next user action says more
        self._notice(WATCH_NOTICE, f"watch: {reason}, next in {held:.0f}s", "warning")

    def _recovered(self) -> None:
        self._notice(WATCH_NOTICE, "watch on")

    def _notice(self, source: str, text: str, severity: Severity = "information") -> None:
        if self._shown.get(source) == (text, severity):
            return
        self._shown[source] = (text, severity)
        self.screen.header.show_notice(source, text, severity)

    def _clear(self, source: str) -> None:
        if self._shown.pop(source, None) is not None:
            self.screen.header.clear_notice(source)


def _clock_time(moment: datetime) -> str:
    """HH:MM:SS in UTC, as the table's times."""
    return moment.astimezone(timezone.utc).strftime("%H:%M:%S")


def gone_keys(visible: list[str], records: list[MapItem], has_more: bool) -> list[str]:
    """The rows of `visible` that a listing from its first key shows to be gone: missing from the
    answer although the server sent a key that comes after them (the table keeps the server's
    order), or the answer was the map's last page."""
    returned = {item.key for item in records}
    position = {key: index for index, key in enumerate(visible)}
    reached = len(visible) if not has_more else max((position[k] for k in returned if k in position), default=-1)
    return [key for index, key in enumerate(visible) if index < reached and key not in returned]
