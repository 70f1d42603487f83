"""Creating and deleting items and maps. Nothing typed is lost: a new item whose create is cancelled
or still open at quit is kept (in memory for `n`, and as a draft)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from syncmap_tui.sync.errors import AlreadyExists, ItemNotFound, RevisionConflict
from syncmap_tui.sync.failures import may_have_landed
from syncmap_tui.sync.merge import json_equal
from syncmap_tui.sync.models import MapItem
from syncmap_tui.sync.session import STORAGE_ERRORS, Mine, describe, same_item
from syncmap_tui.ui import formatting

# Dialogs are imported where they are first shown, off the first frame (see ui/dialogs/__init__.py).
if TYPE_CHECKING:
    from syncmap_tui.drafts import Draft
    from syncmap_tui.ui.dialogs.create import NewItemRequest
    from syncmap_tui.ui.main_screen import MainScreen


class ItemFlows:
    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen
        self.unfinished_new_item: NewItemRequest | None = None
        """A new item whose create was cancelled: `n` reopens it."""
        self.creating: NewItemRequest | None = None
        """The new item whose create is on its way."""
        self._new_item_discarded: NewItemRequest | None = None
        self._new_item_draft_id: str | None = None

    # -- items ----------------------------------------------------------------------------------

    async def new_item(self) -> None:
        screen = self.screen
        if screen.current_map is None or screen.client is None:
            screen.notify("Choose a map first.")
            return
        if not await screen.editing.confirm_leave("create an item"):
            return
        unfinished, self.unfinished_new_item = self.unfinished_new_item, None
        message = None
        if unfinished is not None:
            message = "Your unfinished new item (its create was cancelled: it may have arrived, a 409 says so)."
        await self.create_item(unfinished, error=message)

    async def create_item(self, previous: NewItemRequest | None = None, error: str | None = None) -> bool:
        """Ask for key, data and TTL until the item is created (True) or the user cancels; nothing
        typed is lost: escape during a slow create keeps the request (n reopens it, a draft holds it)."""
        from syncmap_tui.ui.dialogs.create import NewItemDialog

        screen = self.screen
        entry = screen.current_map
        assert entry is not None and screen.client is not None
        request = await screen.app.push_screen_wait(NewItemDialog(previous, error=error))
        if request is None and previous is not None:
            self._drop_new_item_draft(previous)
        while request is not None:
            self.creating = request
            try:
                created = await screen.client.create_item(
                    entry.service.sid, entry.sync_map.sid, request.key, request.data, item_ttl=request.item_ttl
                )
            except STORAGE_ERRORS as failure:
                ours = None
                if isinstance(failure, AlreadyExists) or may_have_landed(failure):
                    # Our own create may be there: its answer was lost, or this is a second try.
                    ours = await self._own_create_on_the_server(request)
                if ours is None:
                    message = (
                        f"An item with the key {request.key!r} already exists."
                        if isinstance(failure, AlreadyExists)
                        else describe(failure)
                    )
                    self.creating = None
                    request = await screen.app.push_screen_wait(NewItemDialog(request, error=message))
                    continue
                created = ours
                screen.notify(
                    f"The server has {request.key!r} with exactly your data: your create arrived, though "
                    "its answer was lost (or someone created the same item).",
                    markup=False,
                )
            except BaseException:
                # Cancelled (escape) while the create travelled: keep what was typed.
                self.creating = None
                self.unfinished_new_item = request
                self.keep_new_item_draft(request)
                screen.notify(
                    f"Create of {request.key!r} cancelled; it may still have arrived. Your key and data are "
                    "kept: n reopens them.",
                    severity="warning", markup=False,
                )
                raise
            self.creating = None
            self._drop_new_item_draft(request)
            screen.item_table.insert_item(created)
            screen.show_items_status()
            screen.item_table.select_key(created.key)
            if screen.current_map is entry and await screen.editing.confirm_leave_again("open the new item"):
                screen.editing.show_item(created)
            screen.notify(f"Created {created.key!r}.", markup=False)
            return True
        return False

    async def _own_create_on_the_server(self, request: NewItemRequest) -> MapItem | None:
        """The item under the new key if it holds exactly the data this create sent (ours, or the
        same as ours: nothing of anyone's is hidden by calling it created); else None."""
        screen = self.screen
        entry = screen.current_map
        assert entry is not None and screen.client is not None
        try:
            item = await screen.client.fetch_item(entry.service.sid, entry.sync_map.sid, request.key)
        except STORAGE_ERRORS:
            return None
        return item if json_equal(item.data, request.data) else None

    def _new_item_draft(self, request: NewItemRequest) -> Draft | None:
        return self.screen.draft_keeper.draft(request.key, None, Mine(request.text, request.ttl_text))

    def _typed_new_item(self) -> NewItemRequest | None:
        """The new item typed but not created: in its open dialog, cancelled, or on its way."""
        from syncmap_tui.ui.dialogs.create import NewItemDialog

        dialog = next((s for s in self.screen.app.screen_stack if isinstance(s, NewItemDialog)), None)
        return dialog.typed() if dialog is not None else self.unfinished_new_item or self.creating

    def keep_new_item_draft(self, request: NewItemRequest | None = None) -> None:
        """A new item not yet created (its dialog open, or its create cancelled) is kept as a draft."""
        if request is None:
            request = self._typed_new_item()
        if request is None or request.is_blank or request == self._new_item_discarded:
            return
        draft = self._new_item_draft(request)
        if draft is not None:
            checkpointer = self.screen.draft_keeper.checkpointer
            earlier = self._new_item_draft_id
            checkpointer.changed(draft)
            self._new_item_draft_id = draft.draft_id
            if earlier is not None and earlier != draft.draft_id:
                # The key was typed over since a draft was kept: the draft under the first key is
                # this same new item, and would be offered at the next start. It goes once the new
                # one is on disk (flush raises if it is not), so that a kill between leaves one.
                checkpointer.flush()
                checkpointer.discard(earlier)

    def _drop_new_item_draft(self, request: NewItemRequest) -> None:
        if self._new_item_draft_id is not None:
            self.screen.draft_keeper.checkpointer.discard(self._new_item_draft_id)
            self._new_item_draft_id = None

    async def new_item_kept_on(self, doing: str) -> bool | None:
        """Quitting with a new item typed but not created (dialog open, or create cancelled): keep it
        as a draft and ask. None when there is no such new item."""
        from syncmap_tui.ui.dialogs.confirm import UnsavedChangesDialog

        if doing != "quit":
            return None
        request = self._typed_new_item()
        if request is None or request.is_blank:
            return None
        self.keep_new_item_draft(request)
        self.screen.draft_keeper.checkpointer.flush()
        choice = await self.screen.app.push_screen_wait(
            UnsavedChangesDialog(request.key or "(new item)", "quit", can_save=False, can_keep=True, new_item=True)
        )
        if choice == "discard":
            self._drop_new_item_draft(request)
            self._new_item_discarded = request  # the quit's last flush must not write it again
            return True
        return choice == "keep"

    async def delete_item(self) -> None:
        from syncmap_tui.ui.dialogs.confirm import ConfirmDialog

        screen = self.screen
        entry = screen.current_map
        item = screen.item_table.current_item
        if entry is None or item is None or screen.client is None:
            screen.notify("Select an item in the table first.")
            return
        session = screen.session
        is_open = session is not None and session.key == item.key
        if is_open and session is not None and session.in_flight is not None:
            screen.notify(f"A save of {item.key!r} is on its way; wait for its answer.", markup=False)
            return
        # A row whose expiry has passed is gone, and its key may hold a new item at revision 0 again:
        # an If-Match on the row's revision could delete that one. Look first, then only then.
        expires = item.date_expires
        if expires is not None and expires <= formatting.now_utc():
            try:
                current = await screen.client.fetch_item(entry.service.sid, entry.sync_map.sid, item.key)
            except ItemNotFound:
                screen.item_table.remove_item(item.key)
                screen.notify(f"{item.key!r} is gone already: it expired.", markup=False)
                return
            except STORAGE_ERRORS as error:
                screen.fail("Deleting", error)
                return
            screen.item_table.update_item(current)
            screen.editing.learn([current])
            screen.notify(
                f"{item.key!r} expired; the key now holds "
                + ("the same item, renewed" if same_item(item, current) else "another item, created since")
                + f" (revision {current.revision}). Look at it, then delete again.",
                severity="warning", markup=False,
            )
            return
        if is_open and not await self._ask_drop_edit("delete it"):
            return
        confirmed = await screen.app.push_screen_wait(
            ConfirmDialog(
                "Delete item",
                [("key", item.key), ("revision", item.revision), ("map", entry.sync_map.display_name)],
                confirm_label="Delete",
                type_to_confirm=item.key if screen.target.production else None,
                typed_what="key",
            )
        )
        if not confirmed:
            return
        done = f"Deleted {item.key!r} (u brings it back)."
        # What the user agreed to drop with the item; keys typed while the delete travels are not.
        agreed = screen.editor.mine() if is_open else None
        request = asyncio.ensure_future(
            screen.client.delete_item(entry.service.sid, entry.sync_map.sid, item.key, if_match=item.revision)
        )

        def landed(sent: asyncio.Future[None]) -> None:
            """The deleted version goes to the history for undo delete whenever the delete lands, even
            after this flow was cut short (escape; getting around waits for it): an item only listed,
            never opened, is nowhere else."""
            if sent.cancelled() or sent.exception() is not None:
                return
            screen.history.record_deleted(entry.service.sid, entry.sync_map.sid, item)
            if screen.current_map is entry:
                screen.item_table.remove_item(item.key)

        request.add_done_callback(landed)
        try:
            await asyncio.shield(request)
        except RevisionConflict:
            screen.notify(
                f"Not deleted: {item.key!r} changed since revision {item.revision}. Refresh and look again.",
                severity="warning",
                markup=False,
            )
            return
        except ItemNotFound:
            # Deleted by someone else, or expired (or our own earlier delete whose answer was lost):
            # what the user asked for holds, and the row goes as after a delete.
            done = f"{item.key!r} was deleted already (by someone else, or it expired)."
        except STORAGE_ERRORS as error:
            screen.fail("Deleting", error)
            return
        screen.item_table.remove_item(item.key)
        if is_open and session is not None and screen.session is session:
            if screen.editor.mine() != agreed:
                session.learn_gone()
                screen.watching.show_server_state()
                done += " What you typed meanwhile stays in the editor: ctrl+s offers to recreate it."
            else:
                screen.draft_keeper.discard()
                screen.editor.clear_item()
                screen.show_location()
        screen.show_items_status()
        screen.notify(done, markup=False)

    async def _ask_drop_edit(self, doing: str) -> bool:
        """Before a delete would take the open item's unsaved edit with it: ask. The drafts go only
        once the delete is done. False while a save travels."""
        screen = self.screen
        session = screen.session
        if session is None:
            return True
        if session.in_flight is not None:
            screen.notify(f"A save of {session.key!r} is on its way; wait for its answer.", markup=False)
            return False
        if not (screen.editor.modified or session.kept is not None):
            return True
        from syncmap_tui.ui.dialogs.confirm import UnsavedChangesDialog

        choice = await screen.app.push_screen_wait(UnsavedChangesDialog(session.key, doing, can_save=False))
        return choice == "discard"

    # -- maps -----------------------------------------------------------------------------------

    async def new_map(self) -> None:
        from syncmap_tui.ui.dialogs.create import NewMapDialog

        screen = self.screen
        service = screen.navigator.current_service
        if service is None or screen.client is None:
            screen.notify("Choose a service in the tree first.")
            return
        request = await screen.app.push_screen_wait(NewMapDialog(service.display_name))
        if request is None:
            return
        try:
            created = await screen.client.create_map(
                service.sid, unique_name=request.unique_name, collection_ttl=request.collection_ttl
            )
        except STORAGE_ERRORS as error:
            screen.fail("Creating the map", error)
            return
        await screen.navigation.load_maps(service)
        screen.navigator.select_map(service.sid, created.sid)
        screen.notify(f"Created map {created.display_name!r}.", markup=False)

    async def delete_map(self) -> None:
        from syncmap_tui.ui.dialogs.confirm import ConfirmDialog

        screen = self.screen
        entry = screen.navigator.current_map
        if entry is None or screen.client is None:
            screen.notify("Select a map in the tree first.")
            return
        is_open = screen.current_map is not None and screen.current_map.sync_map.sid == entry.sync_map.sid
        if is_open and not await self._ask_drop_edit("delete its map"):
            return
        name = entry.sync_map.display_name
        confirmed = await screen.app.push_screen_wait(
            ConfirmDialog(
                "Delete map and all its items",
                [("map", name), ("sid", entry.sync_map.sid), ("service", entry.service.display_name)],
                confirm_label="Delete map",
                type_to_confirm=name if screen.target.production else None,
                typed_what="map name",
            )
        )
        if not confirmed:
            return
        # What the user agreed to drop with the map; keys typed while the delete travels are not.
        agreed = screen.editor.mine() if is_open and screen.editor.open_item is not None else None
        done = f"Deleted map {name!r}."
        try:
            await screen.client.delete_map(entry.service.sid, entry.sync_map.sid)
        except STORAGE_ERRORS as error:
            screen.fail("Deleting the map", error)
            return
        if screen.current_map is not None and screen.current_map.sync_map.sid == entry.sync_map.sid:
            if agreed is not None and screen.editor.open_item is not None and screen.editor.mine() != agreed:
                screen.draft_keeper.flush()
                done += " What you typed in its item meanwhile is kept in a draft: the next start offers it."
            else:
                screen.draft_keeper.discard()
            screen.current_map = None
            screen.item_table.reset()
            screen.editor.clear_item()
            screen.show_location()
            screen.header.show_webhook_notice(None)
            screen.show_items_status()
        await screen.navigation.load_maps(entry.service)
        screen.notify(done, markup=False)
