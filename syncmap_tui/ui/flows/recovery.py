"""Drafts left by an earlier run: offered after connecting, then opened, exported, recreated or dropped."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from syncmap_tui.drafts import Draft, DraftError, default_exports_dir, suggested_export_name
from syncmap_tui.private_files import ensure_private_dir
from syncmap_tui.sync.errors import ItemNotFound
from syncmap_tui.sync.session import STORAGE_ERRORS, Mine, draft_base, same_item
from syncmap_tui.ui.widgets.navigator import MapEntry

# Dialogs are imported where they are first shown, off the first frame (see ui/dialogs/__init__.py).
if TYPE_CHECKING:
    from syncmap_tui.ui.main_screen import MainScreen

UNTIL_DISMISSED_SECONDS = 24 * 3600.0
"""A notification that must be seen (a draft that could not be read): it stays until clicked,
rather than Textual's 5 s, which pass unseen when the user looks away at start-up."""


class DraftRecovery:
    def __init__(self, screen: MainScreen) -> None:
        self.screen = screen

    async def offer_drafts(self) -> None:
        from syncmap_tui.ui.dialogs.drafts import RecoverDraftDialog

        screen = self.screen
        keeper = screen.draft_keeper
        store = keeper.store
        assert screen.client is not None
        drafts, problems = await asyncio.to_thread(store.load_all_with_problems)
        for path, problem in problems:
            screen.notify(
                f"A draft file could not be read ({path.name}): {problem}", severity="warning", timeout=UNTIL_DISMISSED_SECONDS
            )
        ours = [
            d for d in drafts
            if d.account_sid == screen.client.credentials.account_sid and d.base_url == keeper.base_url
            and d.instance != keeper.instance
        ]
        live = {d.instance for d in ours if store.is_live(d.instance)}
        mine = [d for d in ours if d.instance not in live]
        if len(mine) < len(ours):
            screen.notify(
                f"{len(ours) - len(mine)} unsaved edit(s) belong to another syncmap-tui that is still running.",
                markup=False,
            )
        for position, draft in enumerate(mine, start=1):
            choice = await screen.app.push_screen_wait(
                RecoverDraftDialog(draft, position, len(mine), read_only=screen.target.read_only,
                                   names=await self.names_of(draft))
            )
            if choice == "open":
                await self.open_draft(draft)
                return
            if choice == "export":
                await self.export_draft(draft)
            elif choice == "discard":
                store.remove(draft.draft_id)
            else:
                return

    async def names_of(self, draft: Draft) -> tuple[str, str]:
        """The service's and the map's names for the dialog (their SIDs where none is known): the
        service from the tree, the map from the tree or with one GET."""
        screen = self.screen
        service_node = screen.navigator.service_node(draft.service_sid)
        service_entry = service_node.data if service_node is not None else None
        service_name = service_entry.service.display_name if service_entry is not None else draft.service_sid
        map_node = screen.navigator.map_node(draft.service_sid, draft.map_sid)
        map_entry = map_node.data if map_node is not None else None
        if isinstance(map_entry, MapEntry):
            return service_name, map_entry.sync_map.display_name
        assert screen.client is not None
        try:
            sync_map = await screen.client.fetch_map(draft.service_sid, draft.map_sid)
        except STORAGE_ERRORS:
            return service_name, draft.map_sid
        return service_name, sync_map.display_name

    async def export_draft(self, draft: Draft) -> None:
        from syncmap_tui.ui.dialogs.file_path import FilePathDialog

        screen = self.screen
        store = screen.draft_keeper.store
        folder = default_exports_dir()
        suggested = str(folder / suggested_export_name(draft))
        destination = await screen.app.push_screen_wait(FilePathDialog(suggested))
        if destination is None:
            return
        path = Path(destination).expanduser()
        try:
            if path.parent == folder:
                await asyncio.to_thread(ensure_private_dir, folder)
            written = await asyncio.to_thread(store.export, draft, path, escape_surrogates=True)
        except (OSError, DraftError) as error:
            screen.notify(f"The draft was kept; writing the file failed: {error}", severity="error", markup=False)
            return
        store.remove(draft.draft_id)
        screen.notify(f"Saved the draft's text to {written.resolve()}.", markup=False)

    async def open_draft(self, draft: Draft) -> None:
        """Show a recovered draft on the version it was made on; if the server has another version
        (or another item under the key: compared by date_created, never by revision alone), the
        conflict view opens. The draft becomes this instance's; the dead one's file then goes."""
        screen = self.screen
        navigation = screen.navigation
        assert screen.client is not None
        # An item may be open already (a deep link), with keys typed into it before this was offered.
        if not await screen.editing.confirm_leave("open the draft"):
            screen.notify(f"The draft of {draft.key!r} stays on disk: the next start offers it again.", markup=False)
            return
        try:
            service = await screen.client.fetch_service(draft.service_sid)
            sync_map = await screen.client.fetch_map(draft.service_sid, draft.map_sid)
        except STORAGE_ERRORS as error:
            screen.fail("Opening the draft's map", error)
            return
        if not await screen.editing.confirm_leave_again("open the draft"):
            return
        await navigation.load_maps(service)
        screen.navigator.select_map(service.sid, sync_map.sid)
        await navigation.open_map(MapEntry(service, sync_map))
        try:
            current = await screen.client.fetch_item(service.sid, sync_map.sid, draft.key)
        except ItemNotFound:
            current = None
        except STORAGE_ERRORS as error:
            screen.fail("Opening the draft's item", error)
            return
        if current is None or draft.base_revision is None:
            await self.recreate_from_draft(draft)
            return
        base = draft_base(current, draft.base_revision, draft.base_data, draft.base_created)
        screen.item_table.select_key(current.key)
        session = screen.editing.show_item(base)
        screen.editor.rebased(base, Mine(draft.text, draft.item_ttl, draft.collection_ttl))
        self._take_over(draft)
        screen.notify(f"Recovered your unsaved edit of {draft.key!r}.", markup=False)
        if not (same_item(base, current) and base.revision == current.revision):
            session.learn(current)
            if session.modified():
                await session.reconcile(current)

    def _take_over(self, draft: Draft) -> None:
        """The recovered edit is now this instance's draft: write ours, then remove the dead instance's."""
        screen = self.screen
        keeper = screen.draft_keeper
        keeper.edited()
        try:
            keeper.checkpointer.flush()
        except OSError as error:
            screen.notify(f"Could not write the draft: {error.strerror}; the old one is kept.", severity="error")
            return
        if draft.instance != keeper.instance:
            keeper.store.remove(draft.draft_id)

    async def recreate_from_draft(self, draft: Draft) -> None:
        from syncmap_tui.ui.dialogs.create import NewItemRequest

        screen = self.screen
        if not screen.writable(f"recreate {draft.key!r} from the draft"):
            return
        if draft.base_revision is not None:
            screen.notify(f"{draft.key!r} was deleted since; you can create it again from your draft.", markup=False)
        request = NewItemRequest(draft.key, draft.text, {}, None, draft.item_ttl)
        message = None if draft.base_revision is None else "The item was deleted since your edit. Create it again?"
        if await screen.item_flows.create_item(request, error=message):
            screen.draft_keeper.store.remove(draft.draft_id)
