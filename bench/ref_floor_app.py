"""The floor for bench/bench_startup.py: the bare TextArea app plus what the architecture itself needs.

`python bench/ref_floor_app.py`

It is bench/ref_textarea_app.py's app, stock, and on mount it does the least any app on this
architecture must do before it can show the embedded emulator's services: import and open it
(`syncmap_tui.connection.open_client`: httpx, Starlette, SQLite), list the services with
`SyncClient`, and put their names in the TextArea. No header, tree, table, footer, editor or
config beyond what `--demo` resolves. Whatever syncmap-tui takes beyond this is its own UI.
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import TextArea

from syncmap_tui.config import resolve_target


class FloorApp(App[None]):
    BINDINGS = [("ctrl+q", "quit", "Quit")]

    def compose(self) -> ComposeResult:
        yield TextArea("connecting…")

    async def on_mount(self) -> None:
        from syncmap_tui.connection import open_client

        client = open_client(resolve_target(demo=True))
        names = [service.display_name async for service in client.list_services()]
        self.query_one(TextArea).text = "\n".join(names)


if __name__ == "__main__":
    FloorApp().run()
