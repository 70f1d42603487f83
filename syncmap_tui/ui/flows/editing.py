"""The open item: opening it in the editor, leaving it, saving and reviewing. The session decides;
this module routes its outcomes to the screen."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from syncmap_tui.sync.editing import COLLECTION_TTL_RULE, parse_optional_ttl
from syncmap_tui.sync.models import MapItem
from syncmap_tui.sync.session import STORAGE_ERRORS, EditSession, Kept, Mine
from syncmap_tui.sync.validation import ValidationError
from syncmap_tui.ui import formatting
from syncmap_tui.ui.formatting import expiry_after, format_expiry

# Dialogs are imported where they are first shown, off the first frame (see ui/dialogs/__init__.py).
if TYPE_CHECKING:
    from syncmap_tui.ui.main_screen import MainScreen

READ_ONLY_REASON = "read-only: nothing can be saved"


class EditingFlows:
    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self._kept_edits: dict[tuple[str, str], Kept] = {}
        """Edits kept after "take theirs" of items left since, by (map SID, key)."""
        self._left_behind: Mine | None = None
        """What the editor held when the user chose to leave it (Discard, Keep), still shown while
        the next item is fetched: the confirm_leave_again that follows asks only about what is
        typed since."""

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
        screen.body.show_editor()  # a maximised table would hide the item just opened
        # At once, not as `focus()` does (after the messages queued so far): keys typed as soon as
        # the item shows must reach the JSON, and the frame showing it can go out before a
        # deferred focus lands (a pty test lost its first key to the tree, ~1 start in 4).
        screen.set_focus(editor.json_area)
        screen.watching.item_opened()
        return session

    def leave_session(self) -> None:
        """The open item is left (confirm_leave said so): its kept edit waits for it to be opened
        again, and its drafts stay on disk as they are."""
        session = self.screen.session
        if session is not None:
            session.left = True
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
        self._left_behind = None
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
            if session is None or not await self.confirm_map_ttl() or not await self._save(session):
                return False
            if session.discarded:  # the item was deleted, and the user dropped the edit
                keeper.discard()
            return True
        if choice == "discard":
            keeper.discard()
            self._left_behind = editor.mine()
            return True
        if choice == "keep":
            keeper.flush()
            self._left_behind = editor.mine()
            return True
        return False

    async def confirm_leave_again(self, doing: str) -> bool:
        """After a wait since confirm_leave said yes (a request on its way): keys typed into the open
        item meanwhile, or a save started, are asked about like any other edit, never replaced."""
        session = self.screen.session
        editor = self.screen.editor_if_mounted
        # Once: it answers for the confirm_leave just before, never for a later leave.
        left_behind, self._left_behind = self._left_behind, None
        typed_since = editor is not None and editor.modified and editor.mine() != left_behind
        changed = typed_since or (session is not None and session.in_flight is not None)
        return not changed or await self.confirm_leave(doing)

    def saving_now(self) -> bool:
        """A save travels: a flow of its worker group ("save": a review, a restore, an undo) would
        cancel it; say so instead."""
        session = self.screen.session
        if session is None or session.in_flight is None:
            return False
        self.screen.notify(f"A save of {session.key!r} is on its way; wait for its answer.", markup=False)
        return True

    def idle_session(self, *, saving: bool) -> EditSession | None:
        """The open item's session if a save (`saving`) or a review may start now; else None, said why."""
        screen = self.screen
        session = screen.session
        if session is None:
            screen.notify("No item is open.")
            return None
        if saving and not screen.writable("save"):
            return None
        return None if self.saving_now() else session

    async def save(self, session: EditSession) -> None:
        if await self.confirm_map_ttl():
            await self._save(session)
        self.after_session_flow(session)

    async def _save(self, session: EditSession) -> bool:
        screen = self.screen
        editor = screen.editor
        map_ttl_sent = bool(editor.collection_ttl.value.strip())
        saved = await session.save()
        if saved and not session.discarded:
            screen.item_table.update_item(session.base)
            if map_ttl_sent:
                await self._show_new_map_expiry()
        if saved and screen.focused is not None and screen.focused in editor.query_one("#editor-ttls").walk_children():
            editor.json_area.focus()  # a TTL field, emptied by the save, is no place to type on
        return saved

    async def confirm_map_ttl(self) -> bool:
        """A typed map TTL (CollectionTtl) changes when the whole map expires, every item with it:
        ask first, saying what it is now and what it becomes. True when nothing is typed there, or
        a typo that the save itself refuses."""
        screen = self.screen
        editor = screen.editor
        entry = screen.current_map
        try:
            seconds = parse_optional_ttl(editor.collection_ttl.value)
        except ValidationError:
            return True
        if seconds is None or entry is None:
            return True
        from syncmap_tui.ui.dialogs.confirm import ConfirmDialog

        now = formatting.now_utc()
        fields = [
            ("map", entry.sync_map.display_name),
            ("now", format_expiry(entry.sync_map.date_expires, now)),
            ("after the save", format_expiry(expiry_after(seconds, now), now)),
        ]
        if editor.map_ttl_alone:
            fields.append(("note", COLLECTION_TTL_RULE))
        confirmed = await screen.app.push_screen_wait(
            ConfirmDialog("Change when the whole map expires?", fields, confirm_label="Save, map TTL too")
        )
        return confirmed

    async def _show_new_map_expiry(self) -> None:
        screen = self.screen
        entry = screen.current_map
        if entry is None or screen.client is None:
            return
        try:
            sync_map = await screen.client.fetch_map(entry.service.sid, entry.sync_map.sid)
        except STORAGE_ERRORS as error:
            screen.fail("Reading the map's new expiry", error)
            return
        entry.sync_map = sync_map  # the tree's entry too: it is the same object
        screen.editor.show_map_expiry(sync_map.date_expires)

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
