"""Issue #11, item 3: text from the server, a file or the command line is shown literally in
notifications, status lines and the crash screen (the chokepoints: SyncMapApp.notify, crash_message)."""

from __future__ import annotations

from rich.console import Console

from syncmap_tui.ui.crash import crash_message

from .helpers import SERVICE, main_screen, settle, wait_until

HOSTILE = "evil\x1b]52;c;SGFja2Vk\x07\x1b[31mPWNED[bold]x[/bold]\u202e"
ESCAPED = "evil\\x1b]52;c;SGFja2Vk\\x07\\x1b[31mPWNED[bold]x[/bold]\\u202e"


async def test_a_deep_link_to_a_hostile_map_name_is_echoed_escaped(build_app):
    app = build_app(SERVICE, HOSTILE)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await wait_until(pilot, lambda: any("not found" in n.message for n in app._notifications), what="the 404")
        messages = [n.message for n in app._notifications]
        assert any(ESCAPED in m for m in messages), messages
        assert not any("\x1b" in m or "\x07" in m for m in messages)


def test_the_crash_screen_shows_the_error_literally():
    message = crash_message(ValueError(HOSTILE), [], None, None)
    console = Console(record=True, width=200, color_system=None)
    console.print(message)
    text = console.export_text()
    assert "\x1b" not in text and ESCAPED in text.replace("\n", "")


async def test_server_and_file_text_is_shown_literally_in_notifications_and_the_heading(build_app):
    """Notifications, the unreadable-draft warning, the quit hint and the editor heading of one
    app: each step adds its own text and checks only that."""
    import dataclasses

    from syncmap_tui.drafts import DraftStore
    from syncmap_tui.private_files import ensure_private_dir

    folder = ensure_private_dir(DraftStore().path_for("0" * 32).parent)
    (folder / ("0" * 32 + ".json")).write_bytes(b"\x1b[31m not json")
    app = build_app(SERVICE, "orders", "order-0001")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        main = main_screen(pilot)

        # A draft that cannot be read is reported until seen.
        (warning,) = [n for n in app._notifications if "could not be read" in n.message]
        assert warning.timeout >= 3600, "the unreadable draft's warning stays until clicked, not Textual's 5 s"

        # Notify shows every message literally.
        app.notify(HOSTILE, title=HOSTILE)  # markup on, as Textual's default
        main.notify(f"line one\n{HOSTILE}")  # a widget's notify goes to the app's
        await pilot.pause()
        shown = list(app._notifications)
        assert [n.message for n in shown[-2:]] == [ESCAPED, f"line one\n{ESCAPED}"], "notify: the messages escaped"
        assert shown[-2].title == ESCAPED and not shown[-2].markup, "notify: the title escaped, markup off"

        # Ctrl+c outside a text field says how to quit without markup.
        main.navigator.focus()
        await pilot.pause()
        await pilot.press("ctrl+c")
        assert list(app._notifications)[-1].message == "Press ctrl+q to quit.", "ctrl+c's hint"

        # A revision from the server is shown escaped in the editor heading. Found by the
        # adversary: revisions are opaque strings from the server, and the heading showed them raw
        # (an ESC would reach the terminal).
        editor = main.editor
        hostile = dataclasses.replace(editor.open_item.item, revision="7\x1b[31m\x9b2J")
        editor.open_item = dataclasses.replace(editor.open_item, item=hostile)
        editor._show_heading()
        heading = str(editor.query_one("#editor-heading").render())
        assert "\x1b" not in heading and "\x9b" not in heading, f"the heading's revision: {heading}"
        assert "rev 7\\x1b[31m\\x9b2J" in heading, heading
