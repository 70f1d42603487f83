"""History on screen: every version a session sees goes to the history store (syncmap_tui/history.py)
off the event loop, and the commands "Show history", "Restore version…", "Undo last save" and
"Undo delete" read it. Writes go through the open item's session (`EditSession.write_version`):
If-Match on the revision the server has now, or the conflict view, never a blind write.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Callable

from syncmap_tui.history import HistoryStore, ItemRef, Version
from syncmap_tui.sync.errors import AlreadyExists
from syncmap_tui.sync.models import MapItem
from syncmap_tui.sync.session_parts import Seen, SeenHow
from syncmap_tui.sync.undo import ExpiredMeanwhile, recreate_deleted, remaining_ttl
from syncmap_tui.ui import formatting

# Dialogs are imported where they are first shown, off the first frame (see ui/dialogs/__init__.py).
if TYPE_CHECKING:
    from syncmap_tui.ui.main_screen import MainScreen


class HistoryFlow:
    """Owned by MainScreen. Disk writes run on one thread, in order (a version is fsync'ed: a few ms
    that typing must not wait for); reads go through the same thread, so they see every write."""

    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        # The history is shared by every running instance (and every earlier run); the instance id
        # tells this window's saves and deletes from another's, which undo never takes as its own.
        self.store = HistoryStore(instance=screen.draft_keeper.instance)
        self._disk = ThreadPoolExecutor(max_workers=1, thread_name_prefix="history")
        self._failure_told = False

    def close(self) -> None:
        """Finish the writes on their way (the app is leaving)."""
        self._disk.shutdown(wait=True)

    def ref(self, service_sid: str, map_sid: str, key: str) -> ItemRef:
        return ItemRef(self.screen.draft_keeper.base_url, service_sid, map_sid, key)

    # -- recording ----------------------------------------------------------------------------

    def seen_for(self, service_sid: str, map_sid: str) -> Seen:
        """The `seen` hook of a session of this map: each version it sees is kept."""

        def seen(item: MapItem, how: SeenHow, replaced: MapItem | None = None) -> None:
            self._write(
                self.store.record, self.ref(service_sid, map_sid, item.key), item, how,
                by_you=how == "saved", replaced=None if replaced is None else replaced.revision,
            )

        return seen

    def record_deleted(self, service_sid: str, map_sid: str, item: MapItem) -> None:
        """You deleted `item` (as the table showed it, If-Match its revision): undo can bring it back."""
        self._write(self.store.record_deleted, self.ref(service_sid, map_sid, item.key), item)

    def _write(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        loop = asyncio.get_running_loop()
        future = self._disk.submit(method, *args, **kwargs)

        def done(finished: Future[Any]) -> None:
            error = finished.exception()
            if error is not None:
                loop.call_soon_threadsafe(self._failed, error)

        future.add_done_callback(done)

    def _failed(self, error: BaseException) -> None:
        if self._failure_told:  # once a run: a full disk would say it at every version
            return
        self._failure_told = True
        reason = getattr(error, "strerror", None) or type(error).__name__
        self.screen.notify(f"The item history could not be written ({reason}); editing is not affected.",
                           severity="warning", markup=False)

    async def _read(self, method: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._disk, method, *args)

    # -- commands (each runs in a flow of MainScreen) -----------------------------------------

    async def show(self, *, picking: bool = False) -> None:
        """"Show history" (and "Restore version…", `picking`): the open item's versions; the one
        chosen is restored with If-Match on the server's revision now, or through the conflict view."""
        from syncmap_tui.ui.dialogs.history import HistoryDialog

        screen = self.screen
        session = screen.session
        if session is None:
            screen.notify("Open an item first: the history is the open item's.")
            return
        versions = await self._read(self.store.versions, self.ref(session.service_sid, session.map_sid, session.key))
        if picking and not versions:
            screen.notify(f"No earlier version of {session.key!r} is kept yet.", markup=False)
            return
        chosen: Version | None = await screen.app.push_screen_wait(
            HistoryDialog(session.key, session.base, versions, can_restore=not screen.target.read_only, picking=picking,
                          is_mine=self.store.is_mine)
        )
        if chosen is None or screen.session is not session:
            return
        if await session.write_version(chosen.data, session.base, "Restore version") and not session.discarded:
            screen.item_table.update_item(session.base)

    async def undo_last_save(self) -> None:
        screen = self.screen
        session = screen.session
        if session is None:
            screen.notify("Open an item first: undo applies to the open item's last save.")
            return
        ref = self.ref(session.service_sid, session.map_sid, session.key)
        pair = await self._read(self.store.last_save, ref)
        if pair is None:
            screen.notify(f"No save of yours to {session.key!r} is in the history.", markup=False)
            return
        saved, previous = pair
        if screen.session is not session:
            return
        item_ttl = self._expiry_back(saved, previous)
        base = session.base
        # The editor's base when it is that save (its url and author are the server's), else the history's.
        shown = (base.revision, base.date_created) == (saved.revision, saved.date_created)
        mine = self.store.is_mine(saved)
        made_on = base if shown else saved.as_item(ref)
        if shown and not mine:
            # Another window's save (or an earlier run's), which this editor shows because it saw it
            # come in: "yours" in the shared history, but not this window's to undo blind.
            screen.notify(
                f"Undo last save: the last save of {session.key!r} in the history (revision {saved.revision}) "
                f"was made by {self._who(saved)}. Nothing is written unless you choose it in the conflict view.",
                severity="warning", markup=False,
            )
        elif not shown:
            # A save this editor never showed (another running instance's, which the history calls
            # yours as well) is not undone blind, even if nobody wrote since.
            whose = "your last save" if mine else f"the last save (by {self._who(saved)})"
            screen.notify(
                f"Undo last save: {whose} of {session.key!r} is revision {saved.revision}, which this "
                f"editor does not show (it shows revision {base.revision}). Nothing is written unless you "
                "choose it in the conflict view.", severity="warning", markup=False,
            )
        # The session says what was written ("Saved …"), or why nothing was.
        if await session.write_version(
            previous.data, made_on, "Undo last save", item_ttl=item_ttl, ask=not (shown and mine)
        ) and not session.discarded:
            screen.item_table.update_item(session.base)

    def _expiry_back(self, saved: Version, previous: Version) -> int | None:
        """The ItemTtl that gives back the expiry your save changed (0: it had none); None when the
        save left it alone, or when the earlier expiry has passed (said: the expiry stays)."""
        from syncmap_tui.sync.undo import ExpiredMeanwhile, remaining_ttl

        if saved.date_expires == previous.date_expires:
            return None
        try:
            return remaining_ttl(previous.date_expires, formatting.now_utc()) or 0
        except ExpiredMeanwhile:
            self.screen.notify("The expiry it had before has passed: undo puts the data back and leaves the expiry.",
                               severity="warning", markup=False)
            return None

    async def undo_delete(self) -> None:
        """Bring back the item this window deleted last in this map (else, asked first, the one another
        window or an earlier run deleted last), with its data and the TTL it had left.
        If the key holds an item again, nothing is written: that item opens, and the conflict view
        shows it against the deleted version."""
        screen = self.screen
        entry, client = screen.current_map, screen.client
        if entry is None or client is None:
            screen.notify("Open a map first: undo delete brings back an item of the open map.")
            return
        deleted = await self._read(self.store.deleted_items, screen.draft_keeper.base_url, entry.service.sid, entry.sync_map.sid)
        if not deleted:
            screen.notify("No item you deleted from this map is in the history.")
            return
        latest = deleted[0]
        key, version = latest.ref.key, latest.version
        # Another window's delete (or an earlier run's) is asked about, not refused: after a restart
        # the history is the only place the deleted data lives, and u is the way back to it.
        if not self.store.is_mine(version) and not await self._confirm_others_delete(key, version):
            return
        try:
            ttl = remaining_ttl(version.date_expires, formatting.now_utc())
            request = asyncio.ensure_future(recreate_deleted(
                client, entry.service.sid, entry.sync_map.sid, key, version.data, version.date_expires, formatting.now_utc(),
            ))

            def landed(sent: asyncio.Future[MapItem]) -> None:
                """The item is back whenever the create lands, even after this flow was cut short
                (escape; a refresh waits for it): the history says so, or the next u would take it
                for someone else's item under the key."""
                if not sent.cancelled() and sent.exception() is None:
                    self._write(self.store.record, latest.ref, sent.result(), "saved", by_you=True)

            request.add_done_callback(landed)
            created = await asyncio.shield(request)
        except ExpiredMeanwhile:
            screen.notify(f"{key!r} would have expired by now: it is not brought back.", severity="warning", markup=False)
            return
        except AlreadyExists:
            screen.notify(
                f"{key!r} exists again: someone created it after you deleted it. Nothing was written; "
                "the conflict view shows it against your deleted version.", severity="warning", markup=False,
            )
            await self._offer_conflict_view(key, version.data)
            return
        screen.item_table.insert_item(created)
        left = f", expiring in {formatting.format_duration(ttl)} as before" if ttl is not None else ""
        screen.notify(f"Brought back {key!r} with its data{left}.", markup=False)

    def _who(self, version: Version) -> str:
        """Which other instance wrote or deleted `version`, and when (UTC, as the history shows it)."""
        when = formatting.format_short_when(version.seen_at)
        instance = version.instance
        if instance is None:  # kept before instances were: either
            return f"another window or an earlier run of syncmap-tui at {when} UTC"
        if self.screen.draft_keeper.store.is_live(instance):
            return f"another window of syncmap-tui at {when} UTC"
        return f"an earlier run of syncmap-tui at {when} UTC"

    async def _confirm_others_delete(self, key: str, version: Version) -> bool:
        """Undo delete of an item this window did not delete: say whose delete it was, and ask."""
        from syncmap_tui.ui.dialogs.confirm import ConfirmDialog

        screen = self.screen
        entry = screen.current_map
        assert entry is not None
        confirmed: bool = await screen.app.push_screen_wait(ConfirmDialog(
            "Undo delete: not deleted in this window",
            [("key", key), ("deleted by", self._who(version)), ("revision", version.revision),
             ("map", entry.sync_map.display_name)],
            confirm_label="Bring it back",
        ))
        return confirmed

    async def _offer_conflict_view(self, key: str, data: dict[str, Any]) -> None:
        screen = self.screen
        entry, client = screen.current_map, screen.client
        assert entry is not None and client is not None
        if not await screen.confirm_leave("open it"):
            return
        current = await client.fetch_item(entry.service.sid, entry.sync_map.sid, key)
        screen.item_table.update_item(current)
        if screen.current_map is not entry or not await screen.editing.confirm_leave_again("open it"):
            return
        session = screen.editing.show_item(current)
        await session.write_version(data, session.base, "Undo delete", ask=True)
