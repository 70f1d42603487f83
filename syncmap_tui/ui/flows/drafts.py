"""Drafts: the open item's edit survives crashes, kills and dropped SSH sessions.

The open item's drafts follow its session (`EditSession.drafts`); the Checkpointer holds them
pending and a timer writes them in a thread."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from syncmap_tui.config import embedded_db_path
from syncmap_tui.checkpoints import Checkpointer, PendingDraft
from syncmap_tui.drafts import EDIT_SLOT, Draft, DraftStore
from syncmap_tui.instances import InstanceLock, new_instance_id
from syncmap_tui.sync.models import MapItem, format_datetime
from syncmap_tui.sync.session import Mine
from syncmap_tui.sync.validation import format_data

if TYPE_CHECKING:
    from syncmap_tui.ui.main_screen import MainScreen


class DraftKeeper:
    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self.store = DraftStore()
        self.checkpointer = Checkpointer(self.store)
        self.instance = new_instance_id()
        """This run's id: its drafts are its own (see instances.InstanceLock)."""
        self.instance_lock = InstanceLock(self.store, self.instance)
        self._draft_ids: set[str] = set()
        """The drafts of the open item (its edit, its kept edit) that this editor made."""
        self._saving_shown = False
        self._base_texts: dict[int, tuple[MapItem, str]] = {}
        self.write_failed = False
        self.writing = False
        """A timer's draft write is on its way in a thread."""

    @property
    def base_url(self) -> str:
        # The embedded emulator has no URL; its database file names it just as well.
        return self.screen.target.base_url or f"embedded:{embedded_db_path()}"

    def draft(self, key: str, base: MapItem | None, mine: Mine, slot: str = EDIT_SLOT) -> Draft | None:
        screen = self.screen
        entry_sids = self._open_sids()
        if entry_sids is None or screen.client is None:
            return None
        service_sid, map_sid = entry_sids
        return Draft(
            account_sid=screen.client.credentials.account_sid,
            base_url=self.base_url,
            target_label=screen.target.label,
            service_sid=service_sid,
            map_sid=map_sid,
            key=key,
            base_revision=base.revision if base is not None else None,
            text=mine.text,
            item_ttl=mine.item_ttl,
            collection_ttl=mine.collection_ttl,
            base_data=self._base_text(base) if base is not None else None,
            base_created=format_datetime(base.date_created) if base is not None else None,
            instance=self.instance,
            slot=slot,
        )

    def _base_text(self, base: MapItem) -> str:
        """The base's data as JSON text, formatted once per base: drafts are built on every keystroke."""
        cached = self._base_texts.get(id(base))
        if cached is None or cached[0] is not base:
            if len(self._base_texts) > 8:
                self._base_texts.clear()
            cached = self._base_texts[id(base)] = (base, format_data(base.data))
        return cached[1]

    def _open_sids(self) -> tuple[str, str] | None:
        screen = self.screen
        open_item = screen.open_item
        if open_item is not None:
            return open_item.service_sid, open_item.map_sid
        if screen.current_map is not None:
            return screen.current_map.service.sid, screen.current_map.sync_map.sid
        return None

    def edited(self) -> None:
        """The open item's drafts follow its session (`EditSession.drafts`): pending whenever they
        differ from what the server holds, discarded once they do not. No file operation here
        unless a draft goes: the timer writes."""
        screen = self.screen
        session = screen.session
        if session is None or screen.open_item is None:
            return
        saving = session.in_flight is not None
        if saving != self._saving_shown:  # the header says so while a request travels, not while a dialog waits
            self._saving_shown = saving
            screen.set_activity("saving…" if saving else "")
        wanted: set[str] = set()
        for slot, mine, base in session.drafts(text_changed=screen.editor.is_dirty):
            draft = self.draft(session.key, base, mine, slot)
            if draft is not None:
                self.checkpointer.changed(draft)
                wanted.add(draft.draft_id)
        gone = self._draft_ids - wanted
        if gone and wanted:
            # One draft takes over from another (take theirs: the edit moves to the kept slot): the new
            # one is written before the old one goes, so a kill in between finds one of them.
            try:
                self.checkpointer.flush()
            except OSError:
                self._draft_ids |= wanted
                return  # the old draft stays; the timer retries the new one
        for draft_id in gone:
            self.checkpointer.discard(draft_id)
        self._draft_ids = wanted

    def forget(self) -> None:
        """The open item is left: its pending drafts stay pending (the Checkpointer keeps them per
        item) and on disk; only their ids are no longer this editor's."""
        self._draft_ids = set()

    def discard(self) -> None:
        """The user dropped the open item's edit (and kept edit): remove their drafts."""
        for draft_id in self._draft_ids:
            self.checkpointer.discard(draft_id)
        self._draft_ids = set()

    def checkpoint(self) -> None:
        """The timer's tick: start a write of the drafts that are due, one write at a time."""
        if self.writing:
            return
        due = self.checkpointer.due()
        if due:
            self.writing = True
            self.screen.write_drafts(due)

    async def write(self, due: list[PendingDraft]) -> None:
        # Two fsyncs take milliseconds here and can take far longer on a busy server's disk: keys
        # typed meanwhile must not wait for them. The Checkpointer keeps a late write from
        # replacing a newer draft (written on quitting) or reviving a discarded one.
        try:
            writes = await asyncio.to_thread(self.checkpointer.write, due)
            self.checkpointer.settle(writes)
        except OSError as error:
            if not self.write_failed:
                self.screen.notify(
                    f"Could not write the draft: {error.strerror}. Keep this session open.", severity="error"
                )
            self.write_failed = True
        else:
            self.write_failed = False
        finally:
            self.writing = False

    def flush(self) -> Path | None:
        """Write every pending draft now (before quitting, and from the crash handler); where the
        open item's edit is, and only if that file is there."""
        screen = self.screen
        screen.item_flows.keep_new_item_draft()
        self.checkpointer.flush()
        session = screen.session
        if session is None or screen.open_item is None:
            return None
        # The edit in the editor first, else the edit kept after "take theirs": the crash screen names one.
        for slot, mine, base in session.drafts(text_changed=screen.editor.is_dirty):
            draft = self.draft(session.key, base, mine, slot)
            path = self.store.path_for(draft.draft_id) if draft is not None else None
            if path is not None and path.exists():
                return path
        return None
