"""The main screen: navigator, item table and editor, and every flow that talks to the server."""

from __future__ import annotations

import asyncio
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Input, Static

from syncmap_tui.config import Target, config_path, embedded_db_path
from syncmap_tui.drafts import (
    EDIT_SLOT,
    Checkpointer,
    Draft,
    DraftError,
    DraftStore,
    InstanceLock,
    PendingDraft,
    default_exports_dir,
    new_instance_id,
    suggested_export_name,
)
from syncmap_tui.private_files import ensure_private_dir
from syncmap_tui.sync.errors import AlreadyExists, AuthFailed, ItemNotFound, RevisionConflict, SyncError
from syncmap_tui.sync.models import MapItem, Service, format_datetime
from syncmap_tui.sync.failures import may_have_landed
from syncmap_tui.sync.merge import json_equal
from syncmap_tui.sync.session import STORAGE_ERRORS, EditSession, Kept, Mine, describe, draft_base, same_item
from syncmap_tui.sync.validation import format_data
from syncmap_tui.ui import formatting
from syncmap_tui.ui.app import UNTIL_DISMISSED_SECONDS, DeepLink
from syncmap_tui.ui.flow_errors import flow
from syncmap_tui.ui.flows.prompter import ScreenPrompter
from syncmap_tui.ui.literal import literal_block
from syncmap_tui.ui.widgets import EDITOR_EMPTY_TEXT
from syncmap_tui.ui.widgets.footer import SteadyFooter
from syncmap_tui.ui.widgets.header import HeaderBar
from syncmap_tui.ui.widgets.item_table import ItemTable
from syncmap_tui.ui.widgets.navigator import MapEntry, Navigator

if TYPE_CHECKING:
    from syncmap_tui.sync.client import SyncClient
    # The dialogs load when first shown, off the first frame (~18 ms by -X importtime).
    from syncmap_tui.ui.dialogs import NewItemRequest
    from syncmap_tui.ui.widgets.editor import ItemEditor, OpenItem

CANCELLABLE_GROUPS = {"connect", "open", "save", "items", "maps"}
"""Worker groups that wait on the network; escape cancels them."""
DRAFT_CHECK_SECONDS = 0.25
"""How often pending drafts are looked at; the Checkpointer writes 0.5 s after typing stops."""
READ_ONLY_REASON = "read-only: nothing can be saved"


class EditorPlaceholder(Vertical):
    """Stands where the ItemEditor goes, looking as it does with no item open, until the first frame
    with the services is out. Importing and composing the editor (a TextArea with tree-sitter JSON,
    two TTL inputs) takes ~0.3 s of CPU on a 2-core machine: a third of the start-up. It says what
    the editor says with no item open, so that the swap does not show."""

    def compose(self) -> ComposeResult:
        yield Static(Text(EDITOR_EMPTY_TEXT), id="editor-empty")


class MainScreen(Screen[None]):
    BINDINGS = [
        Binding("ctrl+s", "save_item", "Save", id="save-item", priority=True),
        # Priority: TextArea takes F6 for "select line".
        Binding("f6", "review_server_version", "Server's version: diff, merge", show=False, id="review-server",
                priority=True),
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
        self.instance = new_instance_id()
        """This run's id: its drafts are its own (see drafts.InstanceLock)."""
        self.instance_lock = InstanceLock(self.drafts, self.instance)
        self._draft_ids: set[str] = set()
        self._saving_shown = False
        self._base_texts: dict[int, tuple[MapItem, str]] = {}
        self._kept_edits: dict[tuple[str, str], Kept] = {}
        """Edits kept after "take theirs" of items left since, by (map SID, key)."""
        """The drafts of the open item (its edit, its kept edit) that this editor made."""
        self._new_item_draft_id: str | None = None
        self.unfinished_new_item: NewItemRequest | None = None
        """A new item whose create was cancelled: `n` reopens it."""
        self.creating: NewItemRequest | None = None
        """The new item whose create is on its way."""
        self._new_item_discarded: NewItemRequest | None = None
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

    @cached_property
    def prompter(self) -> ScreenPrompter:
        return ScreenPrompter(self.app, read_only=self.target.read_only)

    def on_mount(self) -> None:
        try:
            self.instance_lock.acquire()
        except OSError as error:
            # Drafts still work; a later start just cannot tell that this instance is alive.
            self.notify(f"Could not lock this session's drafts: {error.strerror}.", severity="warning")
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
        self.instance_lock.release()

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
        self._leave_session()
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
        self._learn(list(self.item_table.items.values()))
        self._set_activity()
        self._show_items_status()
        return shown

    @on(ItemTable.PageLoaded)
    def _on_page_loaded(self, event: ItemTable.PageLoaded) -> None:
        self._learn(event.records)
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
        except STORAGE_ERRORS as error:
            self._fail("Opening the item", error)
            return
        self.item_table.update_item(fresh)
        self._show_item(fresh)

    def _show_item(self, item: MapItem) -> EditSession:
        """Open `item` in the editor with a new edit session (the previous one is left: see confirm_leave)."""
        entry = self.current_map
        assert entry is not None and self.client is not None
        self._leave_session()
        editor = self.editor
        editor.load(entry.service.sid, entry.sync_map.sid, item)
        session = EditSession(
            self.client, entry.service.sid, entry.sync_map.sid, item, editor, self.prompter,
            now=lambda: formatting.now_utc(), read_only=self.target.read_only,
        )
        # An item opened again gets back the edit kept after "take theirs" (its draft is still on disk).
        session.kept = self._kept_edits.pop((session.map_sid, session.key), None)
        editor.session = session
        editor.show_read_only(READ_ONLY_REASON if self.target.read_only else None)
        editor.changed()
        self._show_location()
        editor.json_area.focus()
        return session

    def _leave_session(self) -> None:
        """The open item is left (confirm_leave said so): its kept edit waits for it to be opened
        again, and its drafts stay on disk as they are."""
        session = self.session
        if session is not None and session.kept is not None:
            self._kept_edits[(session.map_sid, session.key)] = session.kept
        self._forget_drafts()

    @property
    def session(self) -> EditSession | None:
        return self._editor.session if self._editor is not None else None

    def _learn(self, items) -> None:
        """Tell the open item's session what the server showed of its key (a page, a fetch)."""
        session = self.session
        if session is None:
            return
        for item in items:
            if item.key == session.key:
                session.learn(item)

    async def confirm_leave(self, doing: str, *, can_save: bool = True) -> bool:
        """Ask before unsaved changes would be dropped; refuse while a save travels. Call from a worker."""
        session = self.session
        if session is not None and session.in_flight is not None:
            self.notify(
                f"A save of {session.key!r} is on its way: wait for its answer before you {doing} "
                "(escape stops waiting; the edit stays).",
                severity="warning", markup=False,
            )
            return False
        from syncmap_tui.ui.dialogs import UnsavedChangesDialog

        if await self._new_item_kept_on(doing) is False:
            return False
        if self._editor is None or not self._editor.modified:
            if session is not None and session.kept is not None:
                self.notify(f"Your kept edit of {session.key!r} stays in a draft: the next start offers it.",
                            markup=False)
                self.flush_drafts()
            elif session is not None:
                self._discard_drafts()  # formatting only: nothing a save would send
            return True
        if self.target.read_only:
            can_save = False
        choice = await self.app.push_screen_wait(
            UnsavedChangesDialog(
                self.editor.open_item.key, doing, can_save=can_save, can_keep=doing == "quit" or self.target.read_only
            )
        )
        if choice == "save":
            if session is None or not await session.save():
                return False
            if session.discarded:  # the item was deleted, and the user dropped the edit
                self._discard_drafts()
            return True
        if choice == "discard":
            self._discard_drafts()
            return True
        if choice == "keep":
            self.flush_drafts()
            return True
        return False

    # -- saving: the session decides; the screen routes keys and shows outcomes -----------------

    def action_save_item(self) -> None:
        session = self.session
        if session is None:
            self.notify("No item is open.")
            return
        if self.target.read_only:
            self._refuse_read_only("save")
            return
        if session.in_flight is not None:
            self.notify(f"A save of {session.key!r} is on its way; wait for its answer.", markup=False)
            return
        self._save_flow(session)

    @flow("Saving", exclusive=True, group="save")
    async def _save_flow(self, session: EditSession) -> None:
        if await session.save() and not session.discarded:
            self.item_table.update_item(session.base)
        self._after_session_flow(session)

    def action_review_server_version(self) -> None:
        session = self.session
        if session is None:
            self.notify("No item is open.")
            return
        if session.in_flight is not None:  # a review would cancel the save's worker (same group)
            self.notify(f"A save of {session.key!r} is on its way; wait for its answer.", markup=False)
            return
        self._review_flow(session)

    @flow("Reviewing the server's version", exclusive=True, group="save")
    async def _review_flow(self, session: EditSession) -> None:
        await session.review()
        self._after_session_flow(session)

    def _after_session_flow(self, session: EditSession) -> None:
        """A session said "discard" on a deleted item: close it, and drop its drafts."""
        if self.session is not session or not session.discarded:
            return
        if self.editor.open_item is not None:
            self._discard_drafts()
            self.item_table.remove_item(session.key)
            self.editor.clear_item()
            self._show_location()
            self.notify(f"Discarded the edit of the deleted item {session.key!r}.", markup=False)

    def _refuse_read_only(self, doing: str) -> None:
        self.notify(f"This session is read-only: cannot {doing}; nothing was sent.", severity="warning", markup=False)

    # -- drafts: the edit survives crashes, kills and dropped SSH sessions ------------------

    @property
    def draft_base_url(self) -> str:
        # The embedded emulator has no URL; its database file names it just as well.
        return self.target.base_url or f"embedded:{embedded_db_path()}"

    def _draft(self, key: str, base: MapItem | None, mine: Mine, slot: str = EDIT_SLOT) -> Draft | None:
        entry_sids = self._open_sids()
        if entry_sids is None or self.client is None:
            return None
        service_sid, map_sid = entry_sids
        return Draft(
            account_sid=self.client.credentials.account_sid,
            base_url=self.draft_base_url,
            target_label=self.target.label,
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
        open_item = self.open_item
        if open_item is not None:
            return open_item.service_sid, open_item.map_sid
        if self.current_map is not None:
            return self.current_map.service.sid, self.current_map.sync_map.sid
        return None

    def on_item_editor_edited(self) -> None:
        """The open item's drafts follow its session (`EditSession.drafts`): pending whenever they
        differ from what the server holds, discarded once they do not. No file operation here
        unless a draft goes: the timer writes."""
        session = self.session
        if session is None or self.open_item is None:
            return
        saving = session.in_flight is not None
        if saving != self._saving_shown:  # the header says so while a request travels, not while a dialog waits
            self._saving_shown = saving
            self._set_activity("saving…" if saving else "")
        wanted: set[str] = set()
        for slot, mine, base in session.drafts(text_changed=self.editor.is_dirty):
            draft = self._draft(session.key, base, mine, slot)
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

    def _forget_drafts(self) -> None:
        """The open item is left: its pending drafts stay pending (the Checkpointer keeps them per
        item) and on disk; only their ids are no longer this editor's."""
        self._draft_ids = set()

    def _discard_drafts(self) -> None:
        """The user dropped the open item's edit (and kept edit): remove their drafts."""
        for draft_id in self._draft_ids:
            self.checkpointer.discard(draft_id)
        self._draft_ids = set()

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
        """Write every pending draft now (before quitting, and from the crash handler); where the
        open item's edit is, and only if that file is there."""
        self._keep_new_item_draft()
        self.checkpointer.flush()
        session = self.session
        if session is None or self.open_item is None:
            return None
        # The edit in the editor first, else the edit kept after "take theirs": the crash screen names one.
        for slot, mine, base in session.drafts(text_changed=self.editor.is_dirty):
            draft = self._draft(session.key, base, mine, slot)
            path = self.drafts.path_for(draft.draft_id) if draft is not None else None
            if path is not None and path.exists():
                return path
        return None

    async def _offer_drafts(self) -> None:
        from syncmap_tui.ui.dialogs import RecoverDraftDialog

        assert self.client is not None
        drafts, problems = await asyncio.to_thread(self.drafts.load_all_with_problems)
        for path, problem in problems:
            self.notify(
                f"A draft file could not be read ({path.name}): {problem}", severity="warning", timeout=UNTIL_DISMISSED_SECONDS
            )
        ours = [
            d for d in drafts
            if d.account_sid == self.client.credentials.account_sid and d.base_url == self.draft_base_url
            and d.instance != self.instance
        ]
        live = {d.instance for d in ours if self.drafts.is_live(d.instance)}
        mine = [d for d in ours if d.instance not in live]
        if len(mine) < len(ours):
            self.notify(
                f"{len(ours) - len(mine)} unsaved edit(s) belong to another syncmap-tui that is still running.",
                markup=False,
            )
        for position, draft in enumerate(mine, start=1):
            choice = await self.app.push_screen_wait(
                RecoverDraftDialog(draft, position, len(mine), read_only=self.target.read_only)
            )
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

        folder = default_exports_dir()
        suggested = str(folder / suggested_export_name(draft))
        destination = await self.app.push_screen_wait(ExportPathDialog(suggested))
        if destination is None:
            return
        path = Path(destination).expanduser()
        try:
            if path.parent == folder:
                await asyncio.to_thread(ensure_private_dir, folder)
            written = await asyncio.to_thread(self.drafts.export, draft, path, escape_surrogates=True)
        except (OSError, DraftError) as error:
            self.notify(f"The draft was kept; writing the file failed: {error}", severity="error", markup=False)
            return
        self.drafts.remove(draft.draft_id)
        self.notify(f"Saved the draft's text to {written.resolve()}.", markup=False)

    async def _open_draft(self, draft: Draft) -> None:
        """Show a recovered draft on the version it was made on; if the server has another version
        (or another item under the key: compared by date_created, never by revision alone), the
        conflict view opens. The draft becomes this instance's; the dead one's file then goes."""
        assert self.client is not None
        try:
            service = await self.client.fetch_service(draft.service_sid)
            sync_map = await self.client.fetch_map(draft.service_sid, draft.map_sid)
        except STORAGE_ERRORS as error:
            self._fail("Opening the draft's map", error)
            return
        await self._load_maps(service)
        self.navigator.select_map(service.sid, sync_map.sid)
        await self._open_map(MapEntry(service, sync_map))
        try:
            current = await self.client.fetch_item(service.sid, sync_map.sid, draft.key)
        except ItemNotFound:
            current = None
        except STORAGE_ERRORS as error:
            self._fail("Opening the draft's item", error)
            return
        if current is None or draft.base_revision is None:
            await self._recreate_from_draft(draft)
            return
        base = draft_base(current, draft.base_revision, draft.base_data, draft.base_created)
        self.item_table.select_key(current.key)
        session = self._show_item(base)
        self.editor.rebased(base, Mine(draft.text, draft.item_ttl, draft.collection_ttl))
        self._take_over(draft)
        self.notify(f"Recovered your unsaved edit of {draft.key!r}.", markup=False)
        if not (same_item(base, current) and base.revision == current.revision):
            session.learn(current)
            if session.modified():
                await session.reconcile(current)

    def _take_over(self, draft: Draft) -> None:
        """The recovered edit is now this instance's draft: write ours, then remove the dead instance's."""
        self.on_item_editor_edited()
        try:
            self.checkpointer.flush()
        except OSError as error:
            self.notify(f"Could not write the draft: {error.strerror}; the old one is kept.", severity="error")
            return
        if draft.instance != self.instance:
            self.drafts.remove(draft.draft_id)

    async def _recreate_from_draft(self, draft: Draft) -> None:
        from syncmap_tui.ui.dialogs import NewItemRequest

        if self.target.read_only:
            self._refuse_read_only(f"recreate {draft.key!r} from the draft")
            return
        if draft.base_revision is not None:
            self.notify(f"{draft.key!r} was deleted since; you can create it again from your draft.", markup=False)
        request = NewItemRequest(draft.key, draft.text, {}, None, draft.item_ttl)
        message = None if draft.base_revision is None else "The item was deleted since your edit. Create it again?"
        if await self._create_item_flow(request, error=message):
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
        typing_the_next_prefix = self.jump_input.has_focus and self.jump_input.value != prefix
        if not typing_the_next_prefix:  # keys typed while the page travelled stay in the jump field
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
            try:
                services = [s async for s in self.client.list_services()]
            except STORAGE_ERRORS as error:
                self._fail("Refreshing", error)
                return
            self.navigator.show_services(services)
            self._show_items_status()  # no longer "Not connected", if the first listing had failed
            return
        table = self.item_table
        current = table.current_item
        # From the first loaded key, so that the rows in view stay in view.
        await self._load_first_page(table.first_key if table.window.has_earlier else None)
        if current is not None:
            self.item_table.select_key(current.key)
        session = self.session
        if session is not None and session.in_flight is None:
            # The open item may lie beyond the first page: look at it, so the editor says whether it is behind.
            try:
                latest = await self.client.fetch_item(session.service_sid, session.map_sid, session.key)
            except ItemNotFound:
                session.gone = True
                self.editor.changed()
            except STORAGE_ERRORS as error:
                self._fail("Refreshing the open item", error)
            else:
                session.learn(latest)

    # -- creating and deleting ------------------------------------------------------------

    def action_new_item(self) -> None:
        if self.target.read_only:
            self._refuse_read_only("create an item")
            return
        self._new_item_flow()

    @flow("Creating the item", exclusive=True, group="open")
    async def _new_item_flow(self) -> None:
        if self.current_map is None or self.client is None:
            self.notify("Choose a map first.")
            return
        if not await self.confirm_leave("create an item"):
            return
        unfinished, self.unfinished_new_item = self.unfinished_new_item, None
        message = None
        if unfinished is not None:
            message = "Your unfinished new item (its create was cancelled: it may have arrived, a 409 says so)."
        await self._create_item_flow(unfinished, error=message)

    async def _create_item_flow(self, previous: NewItemRequest | None = None, error: str | None = None) -> bool:
        """Ask for key, data and TTL until the item is created (True) or the user cancels; nothing
        typed is lost: escape during a slow create keeps the request (n reopens it, a draft holds it)."""
        from syncmap_tui.ui.dialogs import NewItemDialog

        entry = self.current_map
        assert entry is not None and self.client is not None
        request = await self.app.push_screen_wait(NewItemDialog(previous, error=error))
        if request is None and previous is not None:
            self._drop_new_item_draft(previous)
        while request is not None:
            self.creating = request
            try:
                created = await self.client.create_item(
                    entry.service.sid, entry.sync_map.sid, request.key, request.data, item_ttl=request.item_ttl
                )
            except STORAGE_ERRORS as failure:
                created = None
                if isinstance(failure, AlreadyExists) or may_have_landed(failure):
                    # Our own create may be there: its answer was lost, or this is a second try.
                    created = await self._own_create_on_the_server(request)
                if created is None:
                    message = (
                        f"An item with the key {request.key!r} already exists."
                        if isinstance(failure, AlreadyExists)
                        else describe(failure)
                    )
                    self.creating = None
                    request = await self.app.push_screen_wait(NewItemDialog(request, error=message))
                    continue
                self.notify(
                    f"The server has {request.key!r} with exactly your data: your create arrived, though "
                    "its answer was lost (or someone created the same item).",
                    markup=False,
                )
            except BaseException:
                # Cancelled (escape) while the create travelled: keep what was typed.
                self.creating = None
                self.unfinished_new_item = request
                self._keep_new_item_draft(request)
                self.notify(
                    f"Create of {request.key!r} cancelled; it may still have arrived. Your key and data are "
                    "kept: n reopens them.",
                    severity="warning", markup=False,
                )
                raise
            self.creating = None
            self._drop_new_item_draft(request)
            self.item_table.insert_item(created)
            self._show_items_status()
            self.item_table.select_key(created.key)
            self._show_item(created)
            self.notify(f"Created {created.key!r}.", markup=False)
            return True
        return False

    async def _own_create_on_the_server(self, request: NewItemRequest) -> MapItem | None:
        """The item under the new key if it holds exactly the data this create sent (ours, or the
        same as ours: nothing of anyone's is hidden by calling it created); else None."""
        entry = self.current_map
        assert entry is not None and self.client is not None
        try:
            item = await self.client.fetch_item(entry.service.sid, entry.sync_map.sid, request.key)
        except STORAGE_ERRORS:
            return None
        return item if json_equal(item.data, request.data) else None

    def _new_item_draft(self, request: NewItemRequest) -> Draft | None:
        return self._draft(request.key, None, Mine(request.text, request.ttl_text))

    def _keep_new_item_draft(self, request: NewItemRequest | None = None) -> None:
        """A new item not yet created (its dialog open, or its create cancelled) is kept as a draft."""
        from syncmap_tui.ui.dialogs import NewItemDialog

        if request is None:
            dialog = next((s for s in self.app.screen_stack if isinstance(s, NewItemDialog)), None)
            request = dialog.typed() if dialog is not None else self.unfinished_new_item or self.creating
        if request is None or request.is_blank or request == self._new_item_discarded:
            return
        draft = self._new_item_draft(request)
        if draft is not None:
            self.checkpointer.changed(draft)
            self._new_item_draft_id = draft.draft_id

    def _drop_new_item_draft(self, request: NewItemRequest) -> None:
        if self._new_item_draft_id is not None:
            self.checkpointer.discard(self._new_item_draft_id)
            self._new_item_draft_id = None

    async def _new_item_kept_on(self, doing: str) -> bool | None:
        """Quitting with a new item typed but not created (dialog open, or create cancelled): keep it
        as a draft and ask. None when there is no such new item."""
        from syncmap_tui.ui.dialogs import NewItemDialog, UnsavedChangesDialog

        if doing != "quit":
            return None
        dialog = next((s for s in self.app.screen_stack if isinstance(s, NewItemDialog)), None)
        request = dialog.typed() if dialog is not None else self.unfinished_new_item or self.creating
        if request is None or request.is_blank:
            return None
        self._keep_new_item_draft(request)
        self.checkpointer.flush()
        choice = await self.app.push_screen_wait(
            UnsavedChangesDialog(request.key or "(new item)", "quit", can_save=False, can_keep=True, new_item=True)
        )
        if choice == "discard":
            self._drop_new_item_draft(request)
            self._new_item_discarded = request  # the quit's last flush must not write it again
            return True
        return choice == "keep"

    def action_delete_item(self) -> None:
        if self.target.read_only:
            self._refuse_read_only("delete an item")
            return
        self._delete_item_flow()

    @flow("Deleting the item", exclusive=True, group="open")
    async def _delete_item_flow(self) -> None:
        from syncmap_tui.ui.dialogs import ConfirmDialog

        entry = self.current_map
        item = self.item_table.current_item
        if entry is None or item is None or self.client is None:
            self.notify("Select an item in the table first.")
            return
        session = self.session
        is_open = session is not None and session.key == item.key
        if is_open and session.in_flight is not None:
            self.notify(f"A save of {item.key!r} is on its way; wait for its answer.", markup=False)
            return
        # A row whose expiry has passed is gone, and its key may hold a new item at revision 0 again:
        # an If-Match on the row's revision could delete that one. Look first, then only then.
        expires = item.date_expires
        if expires is not None and expires <= formatting.now_utc():
            try:
                current = await self.client.fetch_item(entry.service.sid, entry.sync_map.sid, item.key)
            except ItemNotFound:
                self.item_table.remove_item(item.key)
                self.notify(f"{item.key!r} is gone already: it expired.", markup=False)
                return
            except STORAGE_ERRORS as error:
                self._fail("Deleting", error)
                return
            self.item_table.update_item(current)
            self._learn([current])
            self.notify(
                f"{item.key!r} expired; the key now holds "
                + ("the same item, renewed" if same_item(item, current) else "another item, created since")
                + f" (revision {current.revision}). Look at it, then delete again.",
                severity="warning", markup=False,
            )
            return
        if is_open and not await self._ask_drop_edit("delete it"):
            return
        confirmed = await self.app.push_screen_wait(
            ConfirmDialog(
                "Delete item",
                [("key", item.key), ("revision", item.revision), ("map", entry.sync_map.display_name)],
                confirm_label="Delete",
                type_to_confirm=item.key if self.target.production else None,
                typed_what="key",
            )
        )
        if not confirmed:
            return
        done = f"Deleted {item.key!r}."
        try:
            await self.client.delete_item(entry.service.sid, entry.sync_map.sid, item.key, if_match=item.revision)
        except RevisionConflict:
            self.notify(
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
            self._fail("Deleting", error)
            return
        self.item_table.remove_item(item.key)
        if is_open and self.session is session:
            self._discard_drafts()
            self.editor.clear_item()
            self._show_location()
        self._show_items_status()
        self.notify(done, markup=False)

    async def _ask_drop_edit(self, doing: str) -> bool:
        """Before a delete would take the open item's unsaved edit with it: ask. The drafts go only
        once the delete is done. False while a save travels."""
        session = self.session
        if session is None:
            return True
        if session.in_flight is not None:
            self.notify(f"A save of {session.key!r} is on its way; wait for its answer.", markup=False)
            return False
        if not (self.editor.modified or session.kept is not None):
            return True
        from syncmap_tui.ui.dialogs import UnsavedChangesDialog

        choice = await self.app.push_screen_wait(UnsavedChangesDialog(session.key, doing, can_save=False))
        return choice == "discard"

    def action_new_map(self) -> None:
        if self.target.read_only:
            self._refuse_read_only("create a map")
            return
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
        except STORAGE_ERRORS as error:
            self._fail("Creating the map", error)
            return
        await self._load_maps(service)
        self.navigator.select_map(service.sid, created.sid)
        self.notify(f"Created map {created.display_name!r}.", markup=False)

    def action_delete_map(self) -> None:
        if self.target.read_only:
            self._refuse_read_only("delete a map")
            return
        self._delete_map_flow()

    @flow("Deleting the map", exclusive=True, group="open")
    async def _delete_map_flow(self) -> None:
        from syncmap_tui.ui.dialogs import ConfirmDialog

        entry = self.navigator.current_map
        if entry is None or self.client is None:
            self.notify("Select a map in the tree first.")
            return
        is_open = self.current_map is not None and self.current_map.sync_map.sid == entry.sync_map.sid
        if is_open and not await self._ask_drop_edit("delete its map"):
            return
        name = entry.sync_map.display_name
        confirmed = await self.app.push_screen_wait(
            ConfirmDialog(
                "Delete map and all its items",
                [("map", name), ("sid", entry.sync_map.sid), ("service", entry.service.display_name)],
                confirm_label="Delete map",
                type_to_confirm=name if self.target.production else None,
                typed_what="map name",
            )
        )
        if not confirmed:
            return
        try:
            await self.client.delete_map(entry.service.sid, entry.sync_map.sid)
        except STORAGE_ERRORS as error:
            self._fail("Deleting the map", error)
            return
        if self.current_map is not None and self.current_map.sync_map.sid == entry.sync_map.sid:
            self._discard_drafts()
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
            saving = self.session is not None and self.session.in_flight is not None
            creating = self.creating is not None
            for worker in running:
                worker.cancel()
            self._set_activity()
            if saving:
                self.notify(
                    "Cancelled: stopped waiting for the save. Your edit is still in the editor (and in a "
                    "draft); it may have arrived: the next save checks the revision first.",
                    markup=False,
                )
            elif not creating:  # the create flow says what became of the new item
                self.notify("Cancelled.", markup=False)
        elif self.jump_input.has_focus or (self._editor is not None and self._editor.has_focus_within):
            self.item_table.focus()
