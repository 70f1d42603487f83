"""The main screen: navigator, item table and editor, and every flow that talks to the server."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Input, Static

from syncmap_tui.config import Target, config_path, embedded_db_path
from syncmap_tui.drafts import Checkpointer, Draft, DraftError, DraftStore, PendingDraft, suggested_export_name
from syncmap_tui.sync.errors import (
    AlreadyExists,
    AuthFailed,
    ItemNotFound,
    NetworkError,
    RequestTimedOut,
    RevisionConflict,
    SyncError,
)
from syncmap_tui.sync.models import MapItem, Service
from syncmap_tui.sync.validation import ValidationError, check_data, format_data
from syncmap_tui.ui.app import UNTIL_DISMISSED_SECONDS, DeepLink
from syncmap_tui.ui.flow_errors import flow
from syncmap_tui.ui.literal import literal, literal_block
from syncmap_tui.ui.widgets import EDITOR_EMPTY_TEXT
from syncmap_tui.ui.widgets.footer import SteadyFooter
from syncmap_tui.ui.widgets.header import HeaderBar
from syncmap_tui.ui.widgets.item_table import ItemTable
from syncmap_tui.ui.widgets.navigator import MapEntry, Navigator

if TYPE_CHECKING:
    from syncmap_tui.sync.client import SyncClient
    from syncmap_tui.sync.editing import SavePlan
    from syncmap_tui.ui.widgets.editor import ItemEditor, OpenItem

CANCELLABLE_GROUPS = {"connect", "open", "save", "items", "maps"}
"""Worker groups that wait on the network; escape cancels them."""
DRAFT_CHECK_SECONDS = 0.25
"""How often pending drafts are looked at; the Checkpointer writes 0.5 s after typing stops."""


class EditorPlaceholder(Vertical):
    """Stands where the ItemEditor goes, looking as it does with no item open, until the first frame
    with the services is out. Importing and composing the editor (a TextArea with tree-sitter JSON,
    two TTL inputs) takes ~0.3 s of CPU on a 2-core machine: a third of the start-up. It says what
    the editor says with no item open, so that the swap does not show."""

    def compose(self) -> ComposeResult:
        yield Static(Text(EDITOR_EMPTY_TEXT), id="editor-empty")


def describe(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return error.message
    return str(error)


class MainScreen(Screen[None]):
    BINDINGS = [
        Binding("ctrl+s", "save_item", "Save", id="save-item", priority=True),
        Binding("ctrl+f", "jump_to_key", "Jump", id="jump-to-key"),
        Binding("ctrl+n", "new_item", "New item", show=False, id="new-item-anywhere"),
        Binding("ctrl+r,f5", "refresh", "Refresh", show=False, id="refresh"),
        Binding("ctrl+b", "toggle_navigator", "Tree", show=False, id="toggle-navigator"),
        Binding("escape", "cancel_or_back", "Back", show=False, id="cancel"),
    ]

    def __init__(self, target: Target, deep_link: DeepLink, client_factory=None) -> None:
        super().__init__()
        self.target = target
        self.deep_link = deep_link
        self.client_factory = client_factory
        self.client: SyncClient | None = None
        self.current_map: MapEntry | None = None
        self.items_note = ""
        """What the item list shows and why, e.g. where a jump landed; kept while more pages load."""
        self.drafts = DraftStore()
        self.checkpointer = Checkpointer(self.drafts)
        self.draft_write_failed = False
        self.draft_writing = False
        """A timer's draft write is on its way in a thread."""
        self._editor: ItemEditor | None = None
        """Mounted after the first frame (see EditorPlaceholder); flows get it from `ensure_editor`."""
        self._editor_mount: asyncio.Task[ItemEditor] | None = None

    # -- layout -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield HeaderBar(self.target)
        with Horizontal(id="body"):
            yield Navigator(id="navigator")
            with Vertical(id="workspace"):
                with Vertical(id="items-pane"):
                    yield Input(placeholder="jump to key or prefix (ctrl+f)", id="jump", compact=True)
                    yield ItemTable(id="items")
                    yield Static("", id="items-status")
                yield EditorPlaceholder(id="editor-placeholder")
        yield SteadyFooter()

    @property
    def header(self) -> HeaderBar:
        return self.query_one(HeaderBar)

    @property
    def navigator(self) -> Navigator:
        return self.query_one(Navigator)

    @property
    def item_table(self) -> ItemTable:
        return self.query_one(ItemTable)

    @property
    def editor(self) -> ItemEditor:
        """The editor, for flows that run once a map is open (`_open_map` mounts it)."""
        assert self._editor is not None, "the editor is mounted by ensure_editor"
        return self._editor

    @property
    def open_item(self) -> OpenItem | None:
        """The item in the editor; None before the editor is mounted, too."""
        return self._editor.open_item if self._editor is not None else None

    async def ensure_editor(self) -> ItemEditor:
        """Mount the editor in place of its placeholder, once; every caller waits for the same mount,
        which a cancelled worker does not interrupt."""
        if self._editor_mount is None:
            self._editor_mount = asyncio.create_task(self._mount_editor())
        return await asyncio.shield(self._editor_mount)

    async def _mount_editor(self) -> ItemEditor:
        from syncmap_tui.ui.widgets.editor import ItemEditor

        placeholder = self.query_one(EditorPlaceholder)
        editor = ItemEditor(id="editor")
        with self.app.batch_update():  # one frame with the editor where the placeholder was
            await placeholder.parent.mount(editor, after=placeholder)
            await placeholder.remove()
        self._editor = editor
        return editor

    async def _frame_shown(self) -> None:
        """Return once the screen has been refreshed with what is on it now."""
        shown = asyncio.Event()
        self.call_after_refresh(shown.set)
        await shown.wait()

    @property
    def jump_input(self) -> Input:
        return self.query_one("#jump", Input)

    def on_mount(self) -> None:
        self.navigator.focus()
        self.set_interval(DRAFT_CHECK_SECONDS, self._checkpoint_drafts)
        self.connect()

    def on_resize(self) -> None:
        # Wide terminals show the table and the editor side by side; narrow ones stack them.
        self.query_one("#workspace").set_class(self.size.width >= 140, "-wide")

    def _set_activity(self, text: str = "") -> None:
        self.header.show_activity(text)

    def _show_location(self) -> None:
        entry = self.current_map
        open_item = self.open_item
        self.header.show_location(
            entry.service.display_name if entry else "",
            entry.sync_map.display_name if entry else "",
            open_item.key if open_item else "",
        )

    def _show_items_status(self, note: str | None = None) -> None:
        if note is not None:
            self.items_note = note
        note = self.items_note
        table = self.item_table
        if self.current_map is None:
            text = "Choose a map in the tree."
        else:
            text = f"{len(table.items):,} loaded" + (" · more on the server (scroll)" if table.has_more else " · all loaded")
        if note:
            text = f"{text} · {note}"
        self.query_one("#items-status", Static).update(Text(text))

    def _fail(self, doing: str, error: Exception) -> None:
        self._set_activity()
        self.notify(f"{doing} failed: {describe(error)}", severity="error", timeout=8, markup=False)

    # -- connecting and the deep link --------------------------------------------------------

    @flow("Connecting", exclusive=True, group="connect")
    async def connect(self) -> None:
        from syncmap_tui.connection import open_client

        self._set_activity("connecting…")
        factory = self.client_factory or open_client
        try:
            self.client = await asyncio.to_thread(factory, self.target)
            services = [service async for service in self.client.list_services()]
        except SyncError as error:
            self._fail("Connecting", error)
            self.query_one("#items-status", Static).update(literal_block(f"Not connected: {self._connection_advice(error)}"))
            services = None
        else:
            self._set_activity()
            self.navigator.show_services(services)
            self._show_items_status()
        # The first frame goes out without the editor; it comes right after, before any map opens.
        await self._frame_shown()
        await self.ensure_editor()
        self.app.started()
        if services is None:
            return
        if self.deep_link.service:
            await self._follow_deep_link(services)
        await self._offer_drafts()

    async def _follow_deep_link(self, services: list[Service]) -> None:
        link = self.deep_link
        assert self.client is not None and link.service is not None
        service = next(
            (s for s in services if link.service in (s.sid, s.unique_name, s.friendly_name)), None
        )
        if service is None:
            self.notify(f"No service {link.service!r} on this account.", severity="error", markup=False)
            return
        await self._load_maps(service)
        node = self.navigator.service_node(service.sid)
        if node is not None:
            self.navigator.move_cursor(node)
        if not link.map:
            return
        try:
            sync_map = await self.client.fetch_map(service.sid, link.map)
        except SyncError as error:
            self._fail(f"Opening map {link.map!r}", error)
            return
        self.navigator.select_map(service.sid, sync_map.sid)
        await self._open_map(MapEntry(service, sync_map))
        if not link.key:
            self.item_table.focus()
            return
        try:
            item = await self.client.fetch_item(service.sid, sync_map.sid, link.key)
        except SyncError as error:
            self._fail(f"Opening item {link.key!r}", error)
            return
        self.item_table.select_key(item.key)
        self._show_item(item)

    def _connection_advice(self, error: SyncError) -> str:
        """What to check, by where the target came from; names the source, never a secret."""
        if not isinstance(error, AuthFailed):
            return f"{describe(error)}. Check the URL and the network, then ctrl+r."
        where = {
            "env": "TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and TWILIO_API_SECRET)",
            "profile": f"the profile in {config_path()}",
            "flag": "the --profile or --base-url you gave",
        }.get(self.target.source, "the credentials")
        return f"the server refused the credentials (HTTP 401). Check {where}."

    async def on_unmount(self) -> None:
        # Closes the connections, and the embedded emulator's database (its WAL is folded back in).
        if self.client is not None:
            await self.client.aclose()

    # -- navigator ----------------------------------------------------------------------------

    async def _load_maps(self, service: Service) -> None:
        assert self.client is not None
        self._set_activity("loading maps…")
        try:
            maps = [m async for m in self.client.list_maps(service.sid)]
        except SyncError as error:
            self._fail("Loading maps", error)
            return
        self._set_activity()
        self.navigator.show_maps(service.sid, maps)

    @on(Navigator.ServiceExpanded)
    @flow("Loading maps", group="maps")
    async def _on_service_expanded(self, event: Navigator.ServiceExpanded) -> None:
        await self._load_maps(event.entry.service)

    @on(Navigator.MapChosen)
    def _on_map_chosen(self, event: Navigator.MapChosen) -> None:
        self._open_map_flow(event.entry)

    def open_map_from_palette(self, entry: MapEntry) -> None:
        self.navigator.select_map(entry.service.sid, entry.sync_map.sid)
        self._open_map_flow(entry)

    @flow("Opening the map", exclusive=True, group="open")
    async def _open_map_flow(self, entry: MapEntry) -> None:
        if not await self.confirm_leave("open another map"):
            return
        await self._open_map(entry)
        self.item_table.focus()

    async def _open_map(self, entry: MapEntry, from_key: str | None = None) -> None:
        editor = await self.ensure_editor()
        self.current_map = entry
        editor.clear_item()
        self._show_location()
        await self._load_first_page(from_key)

    async def _load_first_page(self, from_key: str | None = None) -> bool:
        """Load the map's items from the start, or from `from_key` on. False if it failed or a
        newer listing took its place."""
        entry = self.current_map
        assert self.client is not None and entry is not None
        self._set_activity("loading items…")
        try:
            shown = await self.item_table.open(self.client, entry.service.sid, entry.sync_map.sid, from_key)
        except SyncError as error:
            self._fail("Loading items", error)
            return False
        self.items_note = ""
        self._set_activity()
        self._show_items_status()
        return shown

    @on(ItemTable.PageLoaded)
    def _on_page_loaded(self) -> None:
        self._show_items_status()

    # -- opening items ------------------------------------------------------------------------

    @on(ItemTable.RowSelected)
    def _on_row_selected(self, event: ItemTable.RowSelected) -> None:
        item = self.item_table.current_item
        if item is not None:
            self._open_item_flow(item)

    def open_key_from_palette(self, key: str) -> None:
        if self.item_table.select_key(key):
            self._open_item_flow(self.item_table.items[key])

    @flow("Opening the item", exclusive=True, group="open")
    async def _open_item_flow(self, item: MapItem) -> None:
        if self.current_map is None or self.client is None:
            return
        open_item = self.editor.open_item
        if open_item is not None and open_item.key == item.key and self.editor.is_dirty:
            self.editor.json_area.focus()
            return
        if not await self.confirm_leave("open another item"):
            return
        entry = self.current_map
        try:
            fresh = await self.client.fetch_item(entry.service.sid, entry.sync_map.sid, item.key)
        except ItemNotFound:
            self.item_table.remove_item(item.key)
            self.notify(f"{item.key!r} is gone: it was deleted or expired.", severity="warning", markup=False)
            return
        except SyncError as error:
            self._fail("Opening the item", error)
            return
        self.item_table.update_item(fresh)
        self._show_item(fresh)

    def _show_item(self, item: MapItem) -> None:
        assert self.current_map is not None
        self.editor.load(self.current_map.service.sid, self.current_map.sync_map.sid, item)
        self._show_location()
        self.editor.json_area.focus()

    async def confirm_leave(self, doing: str) -> bool:
        """Ask before unsaved changes would be dropped. Call from a worker."""
        if self._editor is None or not self._editor.is_dirty:
            return True
        from syncmap_tui.ui.dialogs import UnsavedChangesDialog

        choice = await self.app.push_screen_wait(UnsavedChangesDialog(self.editor.open_item.key, doing))
        if choice == "save":
            return await self._save()
        if choice == "discard":
            self._discard_draft()
            return True
        return False

    # -- saving -------------------------------------------------------------------------------

    def action_save_item(self) -> None:
        if self.open_item is None:
            self.notify("No item is open.")
            return
        self._save_flow()

    @flow("Saving", exclusive=True, group="save")
    async def _save_flow(self) -> None:
        await self._save()

    async def _save(self) -> bool:
        """Save the open item with If-Match; True once the server has it. Never drops the text."""
        editor = self.editor
        open_item = editor.open_item
        assert open_item is not None and self.client is not None
        try:
            plan = editor.plan_save()
        except ValidationError as error:
            self.notify(f"Not saved: {error.message}", severity="error", markup=False)
            return False
        return await self._send_update(plan, if_match=open_item.loaded_revision)

    async def _send_update(self, plan: SavePlan, *, if_match: str) -> bool:
        editor = self.editor
        open_item = editor.open_item
        assert open_item is not None and self.client is not None
        self._set_activity("saving…")
        try:
            saved = await self.client.update_item(
                open_item.service_sid,
                open_item.map_sid,
                open_item.key,
                data=plan.data,
                item_ttl=plan.item_ttl,
                collection_ttl=plan.collection_ttl,
                if_match=if_match,
            )
        except RevisionConflict:
            self._set_activity()
            return await self._resolve_conflict(plan)
        except ItemNotFound:
            self._set_activity()
            return await self._resolve_deleted(plan)
        except (RequestTimedOut, NetworkError) as error:
            if error.may_have_been_applied:
                return await self._settle_lost_response(plan, error)
            return self._failed_keeping_edit("Saving", error)  # it never left: nothing to look for on the server
        except SyncError as error:
            return self._failed_keeping_edit("Saving", error)
        self._saved(saved)
        return True

    def _failed_keeping_edit(self, doing: str, error: SyncError) -> bool:
        """Report a step of a save that failed with the edit untouched; False, the save's result."""
        self._fail(doing, error)
        self.notify("Your edit is still in the editor: press ctrl+s to try again.", markup=False)
        return False

    def _saved(self, item: MapItem) -> None:
        from syncmap_tui.sync.merge import json_equal

        self._set_activity()
        self._discard_draft()
        editor = self.editor
        assert editor.open_item is not None
        sent = editor.sent
        sent_data = check_data(sent[0]).value if sent is not None else editor.check.value
        typed_since = sent is not None and editor.text != sent[0]
        if sent_data is not None and json_equal(sent_data, item.data):
            editor.mark_saved(item, sent=sent)
        elif not typed_since:
            # A TTL-only save landed on data that is not the editor's (after Overwrite of theirs):
            # show what the server now holds. The text was the old base, so nothing typed is lost.
            editor.load(editor.open_item.service_sid, editor.open_item.map_sid, item)
        else:
            # ...and the user kept typing meanwhile: keep the old base, so that the next save meets
            # the conflict dialog instead of overwriting their data.
            editor.sent = None
            self.notify("The TTL was saved, but the data changed on the server meanwhile.", markup=False)
        self.item_table.update_item(item)
        self.notify(f"Saved {item.key!r}: now revision {item.revision}.", markup=False)

    async def _settle_lost_response(self, plan: SavePlan, error: SyncError) -> bool:
        """The save timed out or its connection dropped: the server may have applied it. Look before asking."""
        from syncmap_tui.sync.merge import json_equal

        open_item = self.editor.open_item
        assert open_item is not None and self.client is not None
        self._set_activity("checking whether the save arrived…")
        try:
            current = await self.client.fetch_item(open_item.service_sid, open_item.map_sid, open_item.key)
        except ItemNotFound:
            self._set_activity()
            return await self._resolve_deleted(plan)
        except SyncError as check_error:
            self._fail("Saving", error)
            self.notify(
                f"Could not check whether it arrived ({describe(check_error)}). Your edit is still in the "
                "editor: press ctrl+s to try again; a changed revision will open the conflict dialog.",
                severity="warning",
                markup=False,
            )
            return False
        self._set_activity()
        # Only data shows whether the save landed: a TTL-only save cannot be told from another
        # writer's change, so it goes to the conflict dialog rather than being assumed.
        data_arrived = plan.data is not None and json_equal(current.data, plan.data)
        if current.revision != open_item.loaded_revision and data_arrived:
            self._saved(current)
            self.notify("The answer was lost on the way, but the server has your edit.", markup=False)
            return True
        if current.revision == open_item.loaded_revision:
            self._fail("Saving", error)
            self.notify("The server still has the loaded revision. Press ctrl+s to try again.", markup=False)
            return False
        return await self._resolve_conflict(plan)

    async def _resolve_conflict(self, plan: SavePlan) -> bool:
        from syncmap_tui.sync.conflict import ThreeWay
        from syncmap_tui.sync.merge import json_equal
        from syncmap_tui.ui.dialogs import ConflictDialog

        editor = self.editor
        open_item = editor.open_item
        assert open_item is not None
        try:
            theirs = await self._their_version()
        except ItemNotFound:
            return await self._resolve_deleted(plan)
        if theirs is None:
            return False
        mine = editor.check.value if editor.check.value is not None else open_item.item.data
        if plan.item_ttl is None and plan.collection_ttl is None and json_equal(theirs.data, mine):
            # Only the revision moved, to exactly this data: a save of ours whose answer was lost
            # (cancelled, timed out), or someone made the same change. Nothing to resolve.
            self._saved(theirs)
            return True
        # Mine is what Overwrite sends (this save's plan), not the editor's text now: text typed
        # while the save travelled may not even parse, and the view must say what Overwrite does.
        view = ThreeWay(
            base=open_item.item,
            theirs=theirs,
            mine_data=plan.data if plan.data is not None else open_item.item.data,
            mine_item_ttl=plan.item_ttl,
            mine_collection_ttl=plan.collection_ttl,
            recreated=theirs.date_created != open_item.item.date_created,
        )
        choice = await self.app.push_screen_wait(ConflictDialog(view, read_only=self.target.read_only))
        if choice == "overwrite":
            return await self._send_update(plan, if_match=theirs.revision)
        if choice == "theirs":
            editor.stash_and_replace(format_data(theirs.data))
            editor.mark_saved(theirs)
            self.item_table.update_item(theirs)
            self.notify("Their version is loaded. Your edit is kept: F4 brings it back.", markup=False)
            return False
        if choice == "merge":
            return await self._merge_onto_latest(plan)
        return False

    async def _their_version(self) -> MapItem | None:
        """The open item as the server has it now; None once a failure to fetch it is reported.
        ItemNotFound is left to the caller, which offers to recreate the item."""
        open_item = self.editor.open_item
        assert open_item is not None and self.client is not None
        try:
            return await self.client.fetch_item(open_item.service_sid, open_item.map_sid, open_item.key)
        except ItemNotFound:
            raise
        except SyncError as error:
            self._failed_keeping_edit("Fetching their version", error)
            return None

    async def _merge_onto_latest(self, plan: SavePlan) -> bool:
        """Merge onto the item as the server has it now, not as the dialog showed it: the user may
        have read the dialog for a while, and a live writer moves on meanwhile."""
        try:
            latest = await self._their_version()
        except ItemNotFound:
            return await self._resolve_deleted(plan)
        return False if latest is None else await self._merge_onto(latest, plan)

    async def _merge_onto(self, theirs: MapItem, plan: SavePlan) -> bool:
        """Merge the editor's text onto `theirs`, from the version as loaded, and save the result
        with If-Match on their revision, as Overwrite saves at once. The editor is read now, not
        when the conflict dialog opened: keys typed as it closed are part of mine."""
        from syncmap_tui.sync.merge import json_equal, resolve, three_way_merge
        from syncmap_tui.ui.dialogs import MergeDialog

        editor = self.editor
        assert editor.open_item is not None
        mine_text = editor.text
        mine = editor.check.value
        if mine is None:
            self.notify("The editor's JSON is not valid now: fix it, then ctrl+s merges again.", severity="error")
            return False
        result = three_way_merge(editor.open_item.item.data, mine, theirs.data)
        merged: dict[str, Any] | None = result.merged
        if result.conflicts:
            choices = await self.app.push_screen_wait(MergeDialog(result.conflicts))
            if choices is None:
                return False
            merged = resolve(result, choices)
        editor.rebase(theirs)
        typed_meanwhile = editor.text != mine_text
        if typed_meanwhile:
            # Typed as the merge dialog closed: that text was not merged, so it is kept for F4.
            editor.stash_and_replace(format_data(merged))
        else:
            editor.replace_text(format_data(merged))
        self.item_table.update_item(theirs)
        ttl_typed = plan.item_ttl is not None or plan.collection_ttl is not None
        if json_equal(merged, theirs.data) and not ttl_typed and not typed_meanwhile:
            editor.mark_saved(theirs)
            self.notify(f"Their revision {theirs.revision} already holds the merge: nothing to save.", markup=False)
            return False
        if typed_meanwhile:
            self.notify(f"Merged onto their revision {theirs.revision}. Review, then ctrl+s saves it.", markup=False)
            return False
        self.notify(f"Merged onto their revision {theirs.revision}; saving.", markup=False)
        return await self._save()

    async def _resolve_deleted(self, plan: SavePlan) -> bool:
        from syncmap_tui.ui.dialogs import DeletedDialog

        editor = self.editor
        open_item = editor.open_item
        assert open_item is not None and self.client is not None
        choice = await self.app.push_screen_wait(DeletedDialog(open_item.key))
        if choice == "recreate":
            data = editor.check.value
            if data is None:
                self.notify("Fix the JSON first, then save again to recreate.", severity="error")
                return False
            try:
                created = await self.client.create_item(
                    open_item.service_sid, open_item.map_sid, open_item.key, data, item_ttl=plan.item_ttl,
                    collection_ttl=plan.collection_ttl,
                )
            except AlreadyExists:
                self.notify("Someone recreated it meanwhile; opening the conflict dialog.", markup=False)
                return await self._resolve_conflict(plan)
            except SyncError as error:
                self._fail("Recreating", error)
                return False
            self._saved(created)
            return True
        if choice == "discard":
            self._discard_draft()
            self.item_table.remove_item(open_item.key)
            editor.clear_item()
            self._show_location()
            self.notify(f"Discarded the edit of the deleted item {open_item.key!r}.", markup=False)
            return True
        return False

    # -- drafts: the edit survives crashes, kills and dropped SSH sessions ------------------

    @property
    def draft_base_url(self) -> str:
        # The embedded emulator has no URL; its database file names it just as well.
        return self.target.base_url or f"embedded:{embedded_db_path()}"

    def _draft_of_editor(self) -> Draft | None:
        open_item = self.open_item
        if open_item is None or self.client is None:
            return None
        return Draft(
            account_sid=self.client.credentials.account_sid,
            base_url=self.draft_base_url,
            target_label=self.target.label,
            service_sid=open_item.service_sid,
            map_sid=open_item.map_sid,
            key=open_item.key,
            base_revision=open_item.loaded_revision,
            text=self.editor.text,
            item_ttl=self.editor.item_ttl.value,
            collection_ttl=self.editor.collection_ttl.value,
            base_data=open_item.base_data_text,
        )

    def on_item_editor_edited(self) -> None:
        draft = self._draft_of_editor()
        if draft is None:
            return
        if self.editor.is_dirty:
            self.checkpointer.changed(draft)
        else:
            self.checkpointer.discard(draft.draft_id)

    def _discard_draft(self) -> None:
        draft = self._draft_of_editor()
        if draft is not None:
            self.checkpointer.discard(draft.draft_id)

    def _checkpoint_drafts(self) -> None:
        if self.draft_writing:
            return
        due = self.checkpointer.due()
        if due:
            self.draft_writing = True
            self._write_drafts(due)

    @flow("Writing the draft", group="drafts")
    async def _write_drafts(self, due: list[PendingDraft]) -> None:
        # Two fsyncs take milliseconds here and can take far longer on a busy server's disk: keys
        # typed meanwhile must not wait for them. The Checkpointer keeps a late write from
        # replacing a newer draft (written on quitting) or reviving a discarded one.
        try:
            writes = await asyncio.to_thread(self.checkpointer.write, due)
            self.checkpointer.settle(writes)
        except OSError as error:
            if not self.draft_write_failed:
                self.notify(f"Could not write the draft: {error.strerror}. Keep this session open.", severity="error")
            self.draft_write_failed = True
        else:
            self.draft_write_failed = False
        finally:
            self.draft_writing = False

    def flush_drafts(self) -> Path | None:
        """Write every pending draft now (before quitting, and from the crash handler); where the open one is."""
        self.checkpointer.flush()
        draft = self._draft_of_editor()
        if draft is None or not self.editor.is_dirty:
            return None
        return self.drafts.path_for(draft.draft_id)

    async def _offer_drafts(self) -> None:
        from syncmap_tui.ui.dialogs import RecoverDraftDialog

        assert self.client is not None
        drafts, problems = self.drafts.load_all_with_problems()
        for path, problem in problems:
            self.notify(
                f"A draft file could not be read ({path.name}): {problem}", severity="warning", timeout=UNTIL_DISMISSED_SECONDS
            )
        mine = [
            d for d in drafts
            if d.account_sid == self.client.credentials.account_sid and d.base_url == self.draft_base_url
        ]
        for position, draft in enumerate(mine, start=1):
            choice = await self.app.push_screen_wait(RecoverDraftDialog(draft, position, len(mine)))
            if choice == "open":
                await self._open_draft(draft)
                return
            if choice == "export":
                await self._export_draft(draft)
            elif choice == "discard":
                self.drafts.remove(draft.draft_id)
            else:
                return

    async def _export_draft(self, draft: Draft) -> None:
        from syncmap_tui.ui.dialogs import ExportPathDialog

        destination = await self.app.push_screen_wait(ExportPathDialog(suggested_export_name(draft)))
        if destination is None:
            return
        try:
            written = await asyncio.to_thread(self.drafts.export, draft, Path(destination).expanduser(), escape_surrogates=True)
        except (OSError, DraftError) as error:
            self.notify(f"The draft was kept; writing the file failed: {error}", severity="error", markup=False)
            return
        self.drafts.remove(draft.draft_id)
        self.notify(f"Saved the draft's text to {written}.", markup=False)

    async def _open_draft(self, draft: Draft) -> None:
        """Show a recovered draft on top of the revision it was based on; if that moved, resolve it."""
        assert self.client is not None
        try:
            service = await self.client.fetch_service(draft.service_sid)
            sync_map = await self.client.fetch_map(draft.service_sid, draft.map_sid)
        except SyncError as error:
            self._fail("Opening the draft's map", error)
            return
        await self._load_maps(service)
        self.navigator.select_map(service.sid, sync_map.sid)
        await self._open_map(MapEntry(service, sync_map))
        try:
            current = await self.client.fetch_item(service.sid, sync_map.sid, draft.key)
        except ItemNotFound:
            current = None
        except SyncError as error:
            self._fail("Opening the draft's item", error)
            return
        if current is None:
            await self._recreate_from_draft(draft)
            return
        base = current
        if current.revision != draft.base_revision:
            base_data = current.data
            if draft.base_data is not None:
                try:
                    base_data = json.loads(draft.base_data)
                except ValueError:
                    pass
            base = dataclasses.replace(current, revision=draft.base_revision or "", data=base_data)
        self.item_table.select_key(current.key)
        self._show_item(base)
        self.editor.replace_text(draft.text)
        self.editor.item_ttl.value = draft.item_ttl
        self.editor.collection_ttl.value = draft.collection_ttl
        self.notify(f"Recovered your unsaved edit of {draft.key!r}.", markup=False)
        if current.revision != draft.base_revision:
            try:
                plan = self.editor.plan_save()
            except ValidationError as error:
                self.notify(
                    f"The item changed since; fix this first, then ctrl+s opens the conflict dialog: {error.message}",
                    severity="warning",
                    markup=False,
                )
                return
            await self._resolve_conflict(plan)

    async def _recreate_from_draft(self, draft: Draft) -> None:
        from syncmap_tui.ui.dialogs import NewItemRequest

        self.notify(f"{draft.key!r} was deleted since; you can create it again from your draft.", markup=False)
        request = NewItemRequest(draft.key, draft.text, {}, None, draft.item_ttl)
        if await self._create_item_flow(request, error="The item was deleted since your edit. Create it again?"):
            self.drafts.remove(draft.draft_id)

    # -- jump, refresh ----------------------------------------------------------------------

    def action_jump_to_key(self) -> None:
        if self.current_map is None:
            self.notify("Choose a map first.")
            return
        self.jump_input.focus()

    @on(Input.Submitted, "#jump")
    def _on_jump_submitted(self, event: Input.Submitted) -> None:
        self._jump_flow(event.value)

    def jump_from_palette(self, prefix: str) -> None:
        self.jump_input.value = prefix
        self._jump_flow(prefix)

    @flow("Jumping", exclusive=True, group="open")
    async def _jump_flow(self, prefix: str) -> None:
        """Show the map from the first key at or after `prefix`; an empty prefix goes back to the start."""
        if self.current_map is None:
            return
        if not await self.confirm_leave("jump"):
            return
        if not await self._load_first_page(from_key=prefix or None):
            return
        table = self.item_table
        table.focus()
        if not prefix:
            return
        first = table.first_key
        if first is None:
            self._show_items_status(f"no key at or after {prefix!r}")
        elif first.startswith(prefix):
            table.move_cursor(row=0)
            self._show_items_status(f"from {prefix!r}")
        else:
            self._show_items_status(f"no key starts with {prefix!r}; showing the next keys")

    def action_refresh(self) -> None:
        self._refresh_flow()

    @flow("Refreshing", exclusive=True, group="open")
    async def _refresh_flow(self) -> None:
        if self.client is None:
            self.connect()
            return
        if self.current_map is None:
            services = [s async for s in self.client.list_services()]
            self.navigator.show_services(services)
            return
        table = self.item_table
        current = table.current_item
        # From the first loaded key, so that the rows in view stay in view.
        await self._load_first_page(table.first_key if table.window.has_earlier else None)
        if current is not None:
            self.item_table.select_key(current.key)

    # -- creating and deleting ------------------------------------------------------------

    def action_new_item(self) -> None:
        self._new_item_flow()

    @flow("Creating the item", exclusive=True, group="open")
    async def _new_item_flow(self) -> None:
        if self.current_map is None or self.client is None:
            self.notify("Choose a map first.")
            return
        if not await self.confirm_leave("create an item"):
            return
        await self._create_item_flow()

    async def _create_item_flow(self, previous=None, error: str | None = None) -> bool:
        """Ask for key, data and TTL until the item is created (True) or the user cancels; nothing typed is lost."""
        from syncmap_tui.ui.dialogs import NewItemDialog

        entry = self.current_map
        assert entry is not None and self.client is not None
        request = await self.app.push_screen_wait(NewItemDialog(previous, error=error))
        while request is not None:
            try:
                created = await self.client.create_item(
                    entry.service.sid, entry.sync_map.sid, request.key, request.data, item_ttl=request.item_ttl
                )
            except SyncError as failure:
                message = (
                    f"An item with the key {request.key!r} already exists."
                    if isinstance(failure, AlreadyExists)
                    else describe(failure)
                )
                request = await self.app.push_screen_wait(NewItemDialog(request, error=message))
                continue
            self.item_table.insert_item(created)
            self.item_table.select_key(created.key)
            self._show_item(created)
            self.notify(f"Created {created.key!r}.", markup=False)
            return True
        return False

    def action_delete_item(self) -> None:
        self._delete_item_flow()

    @flow("Deleting the item", exclusive=True, group="open")
    async def _delete_item_flow(self) -> None:
        from syncmap_tui.ui.dialogs import ConfirmDialog

        entry = self.current_map
        item = self.item_table.current_item
        if entry is None or item is None or self.client is None:
            self.notify("Select an item in the table first.")
            return
        confirmed = await self.app.push_screen_wait(
            ConfirmDialog(
                "Delete item",
                [("key", item.key), ("revision", item.revision), ("map", entry.sync_map.display_name)],
                confirm_label="Delete",
                type_to_confirm=item.key if self.target.production else None,
            )
        )
        if not confirmed:
            return
        try:
            await self.client.delete_item(entry.service.sid, entry.sync_map.sid, item.key, if_match=item.revision)
        except RevisionConflict:
            self.notify(
                f"Not deleted: {item.key!r} changed since revision {item.revision}. Refresh and look again.",
                severity="warning",
                markup=False,
            )
            return
        except SyncError as error:
            self._fail("Deleting", error)
            return
        self.item_table.remove_item(item.key)
        if self.editor.open_item is not None and self.editor.open_item.key == item.key:
            self.editor.clear_item()
            self._show_location()
        self._show_items_status()
        self.notify(f"Deleted {item.key!r}.", markup=False)

    def action_new_map(self) -> None:
        self._new_map_flow()

    @flow("Creating the map", exclusive=True, group="open")
    async def _new_map_flow(self) -> None:
        from syncmap_tui.ui.dialogs import NewMapDialog

        service = self.navigator.current_service
        if service is None or self.client is None:
            self.notify("Choose a service in the tree first.")
            return
        request = await self.app.push_screen_wait(NewMapDialog(service.display_name))
        if request is None:
            return
        try:
            created = await self.client.create_map(
                service.sid, unique_name=request.unique_name, collection_ttl=request.collection_ttl
            )
        except SyncError as error:
            self._fail("Creating the map", error)
            return
        await self._load_maps(service)
        self.navigator.select_map(service.sid, created.sid)
        self.notify(f"Created map {created.display_name!r}.", markup=False)

    def action_delete_map(self) -> None:
        self._delete_map_flow()

    @flow("Deleting the map", exclusive=True, group="open")
    async def _delete_map_flow(self) -> None:
        from syncmap_tui.ui.dialogs import ConfirmDialog

        entry = self.navigator.current_map
        if entry is None or self.client is None:
            self.notify("Select a map in the tree first.")
            return
        name = entry.sync_map.display_name
        confirmed = await self.app.push_screen_wait(
            ConfirmDialog(
                "Delete map and all its items",
                [("map", name), ("sid", entry.sync_map.sid), ("service", entry.service.display_name)],
                confirm_label="Delete map",
                type_to_confirm=name if self.target.production else None,
            )
        )
        if not confirmed:
            return
        try:
            await self.client.delete_map(entry.service.sid, entry.sync_map.sid)
        except SyncError as error:
            self._fail("Deleting the map", error)
            return
        if self.current_map is not None and self.current_map.sync_map.sid == entry.sync_map.sid:
            self.current_map = None
            self.item_table.reset()
            self.editor.clear_item()
            self._show_location()
            self._show_items_status()
        await self._load_maps(entry.service)
        self.notify(f"Deleted map {name!r}.", markup=False)

    # -- focus -----------------------------------------------------------------------------

    def action_focus_items(self) -> None:
        self.item_table.focus()

    def action_toggle_navigator(self) -> None:
        self.navigator.display = not self.navigator.display

    def action_cancel_or_back(self) -> None:
        """Escape: stop a slow request if one runs, else step back from the editor or the jump field."""
        running = [
            worker
            for worker in self.app.workers
            if worker.node in (self, self.item_table) and worker.group in CANCELLABLE_GROUPS and worker.is_running
        ]
        if running:
            for worker in running:
                worker.cancel()
            self._set_activity()
            self.notify(
                "Cancelled. Your edit is still in the editor; if a save was on its way, the next save "
                "checks the revision first.",
                markup=False,
            )
        elif self.jump_input.has_focus or (self._editor is not None and self._editor.has_focus_within):
            self.item_table.focus()
