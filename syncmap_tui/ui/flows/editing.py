"""The open item: opening it in the editor, leaving it, saving and reviewing. The session decides;
this module routes its outcomes to the screen."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from syncmap_tui.sync.models import MapItem
from syncmap_tui.sync.session import EditSession, Kept
from syncmap_tui.ui import formatting

# Each dialog module is imported where its dialog is first shown, off the first frame: by
# -X importtime (least of three runs) 1.5 ms for their base, then 1.3-2.5 ms each, ~11 ms for all.
if TYPE_CHECKING:
    from syncmap_tui.ui.main_screen import MainScreen

READ_ONLY_REASON = "read-only: nothing can be saved"


class EditingFlows:
    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self._kept_edits: dict[tuple[str, str], Kept] = {}
        """Edits kept after "take theirs" of items left since, by (map SID, key)."""

    def show_item(self, item: MapItem) -> EditSession:
        """Open `item` in the editor with a new edit session (the previous one is left: see confirm_leave)."""
        screen = self.screen
        entry = screen.current_map
        assert entry is not None and screen.client is not None
        self.leave_session()
        editor = screen.editor
        editor.load(entry.service.sid, entry.sync_map.sid, item)
        session = EditSession(
            screen.client, entry.service.sid, entry.sync_map.sid, item, editor, screen.prompter,
            now=lambda: formatting.now_utc(), read_only=screen.target.read_only,
            seen=screen.history.seen_for(entry.service.sid, entry.sync_map.sid),
        )
        # An item opened again gets back the edit kept after "take theirs" (its draft is still on disk).
        session.kept = self._kept_edits.pop((session.map_sid, session.key), None)
        editor.session = session
        editor.show_read_only(READ_ONLY_REASON if screen.target.read_only else None)
        editor.changed()
        screen.show_location()
        editor.json_area.focus()
        screen.watching.item_opened()
        return session

    def leave_session(self) -> None:
        """The open item is left (confirm_leave said so): its kept edit waits for it to be opened
        again, and its drafts stay on disk as they are."""
        session = self.screen.session
        if session is not None and session.kept is not None:
            self._kept_edits[(session.map_sid, session.key)] = session.kept
        self.screen.draft_keeper.forget()

    def learn(self, items: Iterable[MapItem]) -> None:
        """Tell the open item's session what the server showed of its key (a page, a fetch)."""
        session = self.screen.session
        if session is None:
            return
        for item in items:
            if item.key == session.key:
                session.learn(item)

    async def confirm_leave(self, doing: str, *, can_save: bool = True) -> bool:
        """Ask before unsaved changes would be dropped; refuse while a save travels. Call from a worker."""
        screen = self.screen
        keeper = screen.draft_keeper
        session = screen.session
        if session is not None and session.in_flight is not None:
            screen.notify(
                f"A save of {session.key!r} is on its way: wait for its answer before you {doing} "
                "(escape stops waiting; the edit stays).",
                severity="warning", markup=False,
            )
            return False
        from syncmap_tui.ui.dialogs.confirm import UnsavedChangesDialog

        if await screen.item_flows.new_item_kept_on(doing) is False:
            return False
        editor = screen.editor_if_mounted
        if editor is None or not editor.modified:
            if session is not None and session.kept is not None:
                screen.notify(f"Your kept edit of {session.key!r} stays in a draft: the next start offers it.",
                              markup=False)
                keeper.flush()
            elif session is not None:
                keeper.discard()  # formatting only: nothing a save would send
            return True
        open_item = editor.open_item
        assert open_item is not None  # modified: an item is open
        if screen.target.read_only:
            can_save = False
        choice = await screen.app.push_screen_wait(
            UnsavedChangesDialog(
                open_item.key, doing, can_save=can_save, can_keep=doing == "quit" or screen.target.read_only
            )
        )
        if choice == "save":
            if session is None or not await session.save():
                return False
            if session.discarded:  # the item was deleted, and the user dropped the edit
                keeper.discard()
            return True
        if choice == "discard":
            keeper.discard()
            return True
        if choice == "keep":
            keeper.flush()
            return True
        return False

    async def confirm_leave_again(self, doing: str) -> bool:
        """After a wait since confirm_leave said yes (a request on its way): keys typed into the open
        item meanwhile, or a save started, are asked about like any other edit, never replaced."""
        session = self.screen.session
        editor = self.screen.editor_if_mounted
        changed = (editor is not None and editor.modified) or (session is not None and session.in_flight is not None)
        return not changed or await self.confirm_leave(doing)

    async def save(self, session: EditSession) -> None:
        if await session.save() and not session.discarded:
            self.screen.item_table.update_item(session.base)
        self.after_session_flow(session)

    async def review(self, session: EditSession) -> None:
        await session.review()
        self.after_session_flow(session)

    def after_session_flow(self, session: EditSession) -> None:
        """A session said "discard" on a deleted item: close it, and drop its drafts."""
        screen = self.screen
        if screen.session is not session or not session.discarded:
            return
        if screen.editor.open_item is not None:
            screen.draft_keeper.discard()
            screen.item_table.remove_item(session.key)
            screen.editor.clear_item()
            screen.show_location()
            screen.notify(f"Discarded the edit of the deleted item {session.key!r}.", markup=False)
