"""The main screen: navigator, item table and editor. It composes them and routes keys, messages
and workers to the flows in `ui/flows/`, which talk to the server and the disk."""

from __future__ import annotations

import asyncio
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Input

from syncmap_tui.config import Target
from syncmap_tui.checkpoints import PendingDraft
from syncmap_tui.sync.models import MapItem, Service
from syncmap_tui.sync.session import EditSession, describe
from syncmap_tui.ui.flow_errors import flow
from syncmap_tui.ui.flows.gates import WRITE_GROUP, FlowGates
from syncmap_tui.ui.flows.drafts import DraftKeeper
from syncmap_tui.ui.flows.editing import EditingFlows
from syncmap_tui.ui.flows.history import HistoryFlow
from syncmap_tui.ui.flows.items import ItemFlows
from syncmap_tui.ui.flows.navigation import NavigationFlows
from syncmap_tui.ui.flows.prompter import ScreenPrompter
from syncmap_tui.ui.flows.recovery import DraftRecovery
from syncmap_tui.ui.flows.transfer import TransferFlows
from syncmap_tui.ui.flows.watch import WatchFlow
from syncmap_tui.ui.launch import ClientFactory, DeepLink
from syncmap_tui.ui.widgets.editor_placeholder import EditorPlaceholder
from syncmap_tui.ui.widgets.footer import SteadyFooter
from syncmap_tui.ui.widgets.header import HeaderBar
from syncmap_tui.ui.widgets.item_table import ItemTable
from syncmap_tui.ui.widgets.items_status import ItemsStatus
from syncmap_tui.ui.widgets.navigator import MapEntry, Navigator
from syncmap_tui.ui.widgets.panes import Body, ItemsPane

if TYPE_CHECKING:
    from syncmap_tui.sync.client import SyncClient
    from syncmap_tui.ui.flows.copy import CopyFlows, CopySource
    from syncmap_tui.ui.flows.find import FindFlows
    from syncmap_tui.ui.widgets.editor import ItemEditor, OpenItem

CANCELLABLE_GROUPS = {"connect", "open", "write", "save", "items", "maps", "transfer"}
"""Worker groups that wait on the network; escape cancels them."""
DRAFT_CHECK_SECONDS = 0.25
"""How often pending drafts are looked at; the Checkpointer writes 0.5 s after typing stops."""


class MainScreen(Screen[None]):
    """Composes the widgets, holds what the flows share (the client, the open map, the editor),
    and starts the flows as workers: their groups decide what escape cancels and what replaces what."""

    ALLOW_IN_MAXIMIZED_VIEW = "HeaderBar, Footer"
    """A maximised pane (F8) still shows which account is open, and the keys."""

    BINDINGS = [
        Binding("ctrl+s", "save_item", "Save", id="save-item", priority=True),
        # Priority: TextArea takes F6 for "select line".
        Binding("f6", "review_server_version", "Server's version: diff, merge", show=False, id="review-server",
                priority=True),
        Binding("ctrl+f", "jump_to_key", "Jump", id="jump-to-key"),
        Binding("ctrl+g", "find_in_values", "Find in values", show=False, id="find-in-values"),
        Binding("ctrl+n", "new_item", "New item", show=False, id="new-item-anywhere"),
        Binding("ctrl+r,f5", "refresh", "Refresh", show=False, id="refresh"),
        Binding("ctrl+b", "toggle_navigator", "Tree", show=False, id="toggle-navigator"),
        Binding("f8", "show_history", "History of the open item; restore a version", show=False, id="show-history"),
        Binding("f9", "undo_last_save", "Undo your last save (only if nobody wrote since)", show=False,
                id="undo-last-save"),
        Binding("escape", "cancel_or_back", "Back", show=False, id="cancel"),
    ]

    def __init__(
        self, target: Target, deep_link: DeepLink, client_factory: ClientFactory | None, *, started: Callable[[], None]
    ) -> None:
        super().__init__()
        self.target = target
        self.deep_link = deep_link
        self.client_factory = client_factory
        self.started = started
        """Called once the first frame with the services (or why there are none) is out."""
        self.client: SyncClient | None = None
        self.current_map: MapEntry | None = None
        self.items_note = ""
        """What the item list shows and why, e.g. where a jump landed; kept while more pages load."""
        self._editor: ItemEditor | None = None
        """Mounted after the first frame (see EditorPlaceholder); flows get it from `ensure_editor`."""
        self._editor_mount: asyncio.Task[ItemEditor] | None = None
        self.navigation = NavigationFlows(self)
        self.editing = EditingFlows(self)
        self.item_flows = ItemFlows(self)
        self.draft_keeper = DraftKeeper(self)
        self.recovery = DraftRecovery(self)
        self.gates = FlowGates(self)
        self.history = HistoryFlow(self)
        self.watching = WatchFlow(self)
        self.transfer = TransferFlows(self)

    # -- layout -------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield HeaderBar(self.target)
        with Body(id="body"):
            yield Navigator(id="navigator")
            with Vertical(id="workspace"):
                with ItemsPane(id="items-pane"):
                    yield Input(placeholder="jump to key or prefix (ctrl+f)", id="jump", compact=True)
                    yield ItemTable(id="items")
                    yield ItemsStatus("", id="items-status")
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
    def body(self) -> Body:
        return self.query_one(Body)

    @property
    def editor(self) -> ItemEditor:
        """The editor, for flows that run once a map is open (`open_map` mounts it)."""
        assert self._editor is not None, "the editor is mounted by ensure_editor"
        return self._editor

    @property
    def editor_if_mounted(self) -> ItemEditor | None:
        return self._editor

    @property
    def open_item(self) -> OpenItem | None:
        """The item in the editor; None before the editor is mounted, too."""
        return self._editor.open_item if self._editor is not None else None

    @property
    def session(self) -> EditSession | None:
        return self._editor.session if self._editor is not None else None

    async def ensure_editor(self) -> ItemEditor:
        """Mount the editor in place of its placeholder, once; every caller waits for the same mount,
        which a cancelled worker does not interrupt."""
        if self._editor_mount is None:
            self._editor_mount = asyncio.create_task(self._mount_editor())
        return await asyncio.shield(self._editor_mount)

    async def _mount_editor(self) -> ItemEditor:
        self._editor = await self.query_one(EditorPlaceholder).replace_with_editor()
        return self._editor

    async def frame_shown(self) -> None:
        """Return once the screen has been refreshed with what is on it now."""
        shown = asyncio.Event()
        self.call_after_refresh(shown.set)
        await shown.wait()

    @property
    def jump_input(self) -> Input:
        return self.query_one("#jump", Input)

    @cached_property
    def finding(self) -> FindFlows:
        # Loaded on first use, off the first frame: with the dialogs they bring, find takes ~3.7 ms and
        # copy ~7 ms by -X importtime (least of three runs).
        from syncmap_tui.ui.flows.find import FindFlows

        return FindFlows(self)

    @cached_property
    def copying(self) -> CopyFlows:
        from syncmap_tui.ui.flows.copy import CopyFlows

        return CopyFlows(self)

    @cached_property
    def prompter(self) -> ScreenPrompter:
        return ScreenPrompter(self.app, read_only=self.target.read_only)

    def on_mount(self) -> None:
        try:
            self.draft_keeper.instance_lock.acquire()
        except OSError as error:
            # Drafts still work; a later start just cannot tell that this instance is alive.
            self.notify(f"Could not lock this session's drafts: {error.strerror}.", severity="warning")
        self.navigator.focus()
        self.set_interval(DRAFT_CHECK_SECONDS, self.draft_keeper.checkpoint)
        self.connect()

    async def on_unmount(self) -> None:
        # Closes the connections, and the embedded emulator's database (its WAL is folded back in).
        if self.client is not None:
            await self.client.aclose()
        self.watching.stop()
        self.finish_disk_writes()

    def finish_disk_writes(self) -> None:
        """The history's writes on their way are done and this instance's lock is gone: what must
        be on disk before the process ends, whichever way it ends (SyncMapApp.terminate)."""
        self.draft_keeper.instance_lock.release()
        self.history.close()

    # -- what the flows show -------------------------------------------------------------------

    def set_activity(self, text: str = "") -> None:
        self.header.show_activity(text)

    def show_location(self) -> None:
        entry = self.current_map
        open_item = self.open_item
        self.header.show_location(
            entry.service.display_name if entry else "",
            entry.sync_map.display_name if entry else "",
            open_item.key if open_item else "",
        )

    def show_items_status(self, note: str | None = None) -> None:
        if note is not None:
            self.items_note = note
        self.query_one(ItemsStatus).show(self.item_table, map_open=self.current_map is not None, note=self.items_note)

    def fail(self, doing: str, error: Exception) -> None:
        self.set_activity()
        self.notify(f"{doing} failed: {describe(error)}", severity="error", timeout=8, markup=False)

    def writable(self, doing: str) -> bool:
        """True unless the session is read-only; then it says that `doing` cannot be done, and nothing is sent."""
        if self.target.read_only:
            self.notify(f"This session is read-only: cannot {doing}; nothing was sent.", severity="warning", markup=False)
            return False
        return True

    # -- what the app asks of the screen --------------------------------------------------------

    async def confirm_leave(self, doing: str, *, can_save: bool = True) -> bool:
        """Ask before unsaved changes would be dropped (see EditingFlows.confirm_leave). Call from a worker."""
        return await self.editing.confirm_leave(doing, can_save=can_save)

    def flush_drafts(self) -> Path | None:
        """Write every pending draft now (see DraftKeeper.flush): before quitting, and from the crash handler."""
        return self.draft_keeper.flush()

    # -- messages ---------------------------------------------------------------------------------

    @on(Navigator.ServiceExpanded)
    @flow("Loading maps", group="maps")
    async def _on_service_expanded(self, event: Navigator.ServiceExpanded) -> None:
        await self.navigation.load_maps(event.entry.service, show_cached=True)

    @on(Navigator.MapChosen)
    def _on_map_chosen(self, event: Navigator.MapChosen) -> None:
        if self.gates.navigation_may_start():
            self._open_map_flow(event.entry)

    @on(ItemTable.PageLoaded)
    def _on_page_loaded(self, event: ItemTable.PageLoaded) -> None:
        self.editing.learn(event.records)
        self.show_items_status()

    @on(ItemTable.RowSelected)
    def _on_row_selected(self, event: ItemTable.RowSelected) -> None:
        item = self.item_table.current_item
        if item is not None and self.gates.navigation_may_start():
            self._open_item_flow(item)

    @on(Input.Changed, "#jump")
    def _on_jump_changed(self, event: Input.Changed) -> None:
        self.item_table.filter_keys(event.value)
        self.show_items_status()

    @on(Input.Submitted, "#jump")
    def _on_jump_submitted(self, event: Input.Submitted) -> None:
        if not self.gates.navigation_may_start():
            return
        # The listing from the key replaces the filter of what was loaded (paging is off while it holds).
        self.item_table.filter_keys("")
        self._jump_flow(event.value)

    def on_item_editor_edited(self) -> None:
        self.draft_keeper.edited()
        self.watching.show_server_state()

    # -- the command palette ------------------------------------------------------------------

    def open_map_from_palette(self, entry: MapEntry) -> None:
        if self.gates.navigation_may_start():
            self._open_map_flow(self.navigation.show_in_tree(entry))

    def open_service_from_palette(self, service: Service) -> None:
        self.navigation.show_service_in_tree(service)

    def open_key_from_palette(self, key: str) -> None:
        if not self.gates.navigation_may_start():
            return
        self.navigation.clear_key_filter()
        if self.item_table.select_key(key):
            self._open_item_flow(self.item_table.items[key])

    def jump_from_palette(self, prefix: str) -> None:
        if not self.gates.navigation_may_start():
            return
        with self.jump_input.prevent(Input.Changed):  # a jump, not typing: no filter of the loaded rows
            self.jump_input.value = prefix
        self._jump_flow(prefix)

    # -- actions ----------------------------------------------------------------------------------

    def action_save_item(self) -> None:
        session = self.editing.idle_session(saving=True)
        if session is not None:
            self._save_flow(session)

    def action_review_server_version(self) -> None:
        session = self.editing.idle_session(saving=False)
        if session is not None:
            self._review_flow(session)

    def action_jump_to_key(self) -> None:
        if self.current_map is None:
            self.notify("Choose a map first.")
            return
        self.jump_input.focus()

    def action_find_in_values(self) -> None:
        self.finding.open_dialog()

    def open_found_key(self, key: str) -> None:
        if self.gates.navigation_may_start():
            self._open_found_flow(key)

    def action_copy_item_json(self) -> None:
        self.copying.copy_item_json()

    def action_copy_key(self) -> None:
        self.copying.copy_key()

    def action_copy_as_curl(self) -> None:
        self.copying.copy_as_curl()

    def action_copy_as_twilio_cli(self) -> None:
        self.copying.copy_as_twilio_cli()

    def action_save_item_json(self) -> None:
        source = self.copying.source_or_say()
        if source is not None:
            self._save_item_json_flow(source)

    def action_refresh(self) -> None:
        if self.gates.navigation_may_start():
            self._refresh_flow()

    def action_new_item(self) -> None:
        if self.gates.write_may_start("create an item"):
            self._new_item_flow()

    def action_delete_item(self) -> None:
        if self.gates.write_may_start("delete an item"):
            self._delete_item_flow()

    def action_new_map(self) -> None:
        if self.gates.write_may_start("create a map"):
            self._new_map_flow()

    def action_delete_map(self) -> None:
        if self.gates.write_may_start("delete a map"):
            self._delete_map_flow()

    def action_show_history(self) -> None:
        if not self.editing.saving_now():
            self._history_flow(picking=False)

    def action_restore_version(self) -> None:
        if self.writable("restore a version") and not self.editing.saving_now():
            self._history_flow(picking=True)

    def action_undo_last_save(self) -> None:
        if self.writable("undo a save") and not self.editing.saving_now():
            self._undo_save_flow()

    def action_undo_delete(self) -> None:
        if self.gates.write_may_start("undo a delete"):
            self._undo_delete_flow()

    def action_export_map(self) -> None:
        if self.gates.no_transfer_running("export the map"):
            self._export_map_flow()

    def action_import_into_map(self) -> None:
        if self.writable("import into a map") and self.gates.no_transfer_running("import into a map"):
            self._import_flow()

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
            creating = self.item_flows.creating is not None
            transferring = any(worker.group == "transfer" for worker in running)
            for worker in running:
                worker.cancel()
            self.set_activity()
            if saving:
                self.notify(
                    "Cancelled: stopped waiting for the save. Your edit is still in the editor (and in a "
                    "draft); it may have arrived: the next save checks the revision first.",
                    markup=False,
                )
            elif not (creating or transferring):  # those flows say what became of their writes
                self.notify("Cancelled.", markup=False)
        elif self.jump_input.has_focus or (self._editor is not None and self._editor.has_focus_within):
            self.item_table.focus()

    # -- workers: each flow runs in the screen's workers, by group (escape cancels CANCELLABLE_GROUPS;
    # an exclusive flow replaces the one of its group still running) ------------------------------

    @flow("Connecting", exclusive=True, group="connect")
    async def connect(self) -> None:
        await self.navigation.connect()
        if self.client is not None:
            self.watching.start()

    @flow("Connecting", group="connect")
    async def finish_start(self, services: list[Service]) -> None:
        """The start a failed connect left unfinished, after the ctrl+r that listed the services:
        in the connect group, as at start, so that getting around (which replaces the "open"
        flow ctrl+r runs in) does not cut short the link's opening or a draft's recovery."""
        await self.navigation.finish_start(services)

    @flow("Opening the map", exclusive=True, group="open")
    async def _open_map_flow(self, entry: MapEntry) -> None:
        await self.gates.writes_settled()
        await self.navigation.leave_for_map(entry)

    @flow("Opening the item", exclusive=True, group="open")
    async def _open_item_flow(self, item: MapItem) -> None:
        await self.gates.writes_settled()
        await self.navigation.open_item(item)

    @flow("Jumping", exclusive=True, group="open")
    async def _jump_flow(self, prefix: str) -> None:
        await self.gates.writes_settled()
        await self.navigation.jump(prefix)

    @flow("Opening the item found", exclusive=True, group="open")
    async def _open_found_flow(self, key: str) -> None:
        await self.gates.writes_settled()
        await self.finding.open_found(key)

    @flow("Saving the item's JSON", group="save-file")
    async def _save_item_json_flow(self, source: CopySource) -> None:
        await self.copying.save_item_json(source)

    @flow("Refreshing", exclusive=True, group="open")
    async def _refresh_flow(self) -> None:
        await self.gates.writes_settled()
        await self.navigation.refresh()

    @flow("Saving", exclusive=True, group="save")
    async def _save_flow(self, session: EditSession) -> None:
        await self.editing.save(session)

    @flow("Reviewing the server's version", exclusive=True, group="save")
    async def _review_flow(self, session: EditSession) -> None:
        await self.editing.review(session)

    @flow("Creating the item", group=WRITE_GROUP)
    async def _new_item_flow(self) -> None:
        await self.item_flows.new_item()

    @flow("Deleting the item", group=WRITE_GROUP)
    async def _delete_item_flow(self) -> None:
        await self.item_flows.delete_item()

    @flow("Creating the map", group=WRITE_GROUP)
    async def _new_map_flow(self) -> None:
        await self.item_flows.new_map()

    @flow("Deleting the map", group=WRITE_GROUP)
    async def _delete_map_flow(self) -> None:
        await self.item_flows.delete_map()

    # Undo and restore write through the open item's session: group "save", as a save.
    @flow("Showing the history", exclusive=True, group="save")
    async def _history_flow(self, *, picking: bool) -> None:
        await self.history.show(picking=picking)

    @flow("Undoing the save", exclusive=True, group="save")
    async def _undo_save_flow(self) -> None:
        await self.history.undo_last_save()

    @flow("Undoing the delete", group=WRITE_GROUP)
    async def _undo_delete_flow(self) -> None:
        await self.history.undo_delete()

    @flow("Exporting the map", exclusive=True, group="transfer")
    async def _export_map_flow(self) -> None:
        await self.transfer.export_map()

    @flow("Importing into the map", exclusive=True, group="transfer")
    async def _import_flow(self) -> None:
        await self.transfer.import_into_map()

    @flow("Writing the draft", group="drafts")
    async def write_drafts(self, due: list[PendingDraft]) -> None:
        await self.draft_keeper.write(due)
