"""The command palette: an entry for every action, and jumps to services, maps and items."""

from __future__ import annotations

from functools import partial
from typing import Callable

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.fuzzy import Matcher

from syncmap_tui.ui.display import display_key
from syncmap_tui.ui.literal import visible
from syncmap_tui.ui.main_screen import MainScreen
from syncmap_tui.ui.widgets.navigator import MapEntry, ServiceEntry

ACTIONS: list[tuple[str, str, str]] = [
    ("Save item", "save_item", "Save the open item with If-Match on its loaded revision"),
    ("Jump to key", "jump_to_key", "Go to a key or key prefix in the current map"),
    ("New item", "new_item", "Create an item in the current map"),
    ("Delete item", "delete_item", "Delete the selected item (If-Match on its revision)"),
    ("Refresh", "refresh", "Reload the item list from the server"),
    ("Find in values…", "find_in_values", "Scan the whole map on the server for text, or path=value (status=failed)"),
    ("Copy item JSON", "copy_item_json", "The selected row's or the open item's JSON, to the terminal's clipboard (OSC 52)"),
    ("Copy key", "copy_key", "The selected row's or the open item's key, to the terminal's clipboard (OSC 52)"),
    ("Copy as curl", "copy_as_curl", "A curl update of the item with If-Match on its loaded revision; credentials from TWILIO_*"),
    ("Copy as twilio-cli command", "copy_as_twilio_cli", "A twilio-cli update with If-Match on the loaded revision (Twilio only)"),
    ("Save item JSON to file…", "save_item_json", "Write the item's JSON to a file readable by you alone"),
    ("New map", "new_map", "Create a map in the selected service"),
    ("Delete map", "delete_map", "Delete the selected map and its items"),
    ("Export map…", "export_map", "Write the open map's items to a JSON Lines file"),
    ("Import into map…", "import_into_map", "Create the items of an exported file in the open map (asks first)"),
    ("Format JSON", "format_json", "Pretty-print the editor's JSON"),
    ("Minify JSON", "minify_json", "Compact the editor's JSON"),
    ("Restore my edit", "restore_mine", "Bring back the edit kept when you took theirs"),
    ("Show history", "show_history", "Every version of the open item seen here, and a version's diff"),
    ("Restore version…", "restore_version", "Write an earlier version, only if nobody wrote since you looked"),
    ("Undo last save", "undo_last_save", "Put back what your last save replaced, only if nobody wrote since"),
    ("Undo delete", "undo_delete", "Bring back the item you deleted last, with its data and TTL"),
    ("Toggle tree", "toggle_navigator", "Show or hide the service and map tree"),
    ("Help", "show_help", "Every key binding"),
    ("Quit", "quit", "Leave, asking first if there are unsaved changes"),
]

EDITOR_ACTIONS = {"format_json", "minify_json", "restore_mine"}
APP_ACTIONS = {"show_help", "quit"}


def highlighted(matcher: Matcher, candidate: str) -> Content:
    """Matcher.highlight parses markup; remote names must show literally, so highlight plain Content."""
    content = Content(candidate)
    query = matcher.query if matcher.case_sensitive else matcher.query.lower()
    haystack = candidate if matcher.case_sensitive else candidate.lower()
    _, offsets = matcher.fuzzy_search.match(query, haystack)
    for offset in offsets:
        content = content.stylize(matcher.match_style, offset, offset + 1)
    return content


class SyncCommands(Provider):
    @property
    def main(self) -> MainScreen | None:
        """The app's default screen (SyncMapApp.get_default_screen returns the one it holds)."""
        screen = self.app.get_default_screen()
        return screen if isinstance(screen, MainScreen) else None

    def _run(self, action: str) -> Callable[[], object]:
        main = self.main
        if action in APP_ACTIONS or main is None:
            return partial(self.app.run_action, action)
        if action in EDITOR_ACTIONS:
            return partial(self._run_in_editor, main, action)
        return partial(main.run_action, action)

    @staticmethod
    async def _run_in_editor(main: MainScreen, action: str) -> None:
        # The editor is mounted just after the first frame: a command picked before waits for it.
        editor = await main.ensure_editor()
        await editor.run_action(action)

    async def startup(self) -> None:
        # The maps of services not expanded in the tree: listed once, so that a map is found by
        # its name whether or not its service was opened (a few requests, the first time only).
        main = self.main
        if main is not None:
            await main.navigation.list_maps_for_palette()

    def _targets(self) -> list[tuple[str, Callable[[], object], str]]:
        main = self.main
        if main is None:
            return []
        targets: list[tuple[str, Callable[[], object], str]] = []
        for node in main.navigator.root.children:
            if not isinstance(node.data, ServiceEntry):
                continue
            service = node.data.service
            targets.append((f"service: {display_key(service.display_name)}",
                            partial(main.open_service_from_palette, service), service.sid))
            if node.data.maps_loaded:
                entries = [child.data for child in node.children if isinstance(child.data, MapEntry)]
            else:
                entries = [MapEntry(service, m) for m in main.navigation.listed_maps.get(service.sid, [])]
            for entry in entries:
                name = f"map: {display_key(service.display_name)} › {display_key(entry.sync_map.display_name)}"
                targets.append((name, partial(main.open_map_from_palette, entry), entry.sync_map.sid))
        for key in list(main.item_table.items)[:2000]:
            targets.append((f"item: {display_key(key)}", partial(main.open_key_from_palette, key), "loaded item"))
        return targets

    async def discover(self) -> Hits:
        for name, action, help_text in ACTIONS:
            yield DiscoveryHit(Content(name), self._run(action), text=name, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, action, help_text in ACTIONS:
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, highlighted(matcher, name), self._run(action), text=name, help=help_text)
        for name, callback, help_text in self._targets():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score * 0.9, highlighted(matcher, name), callback, text=name, help=help_text)
        main = self.main
        if main is not None and main.current_map is not None and query:
            prompt = f"Jump to key {visible(query)!r} on the server"
            yield Hit(
                0.1,
                Content(prompt),
                partial(main.jump_from_palette, query),
                text=prompt,
                help="Lists the map from this key on",
            )
