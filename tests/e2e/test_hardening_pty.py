"""Issue #11 end to end, in a real pty: hostile text never reaches the terminal raw, and SIGTERM
leaves the terminal as it found it with the edit in a draft."""

from __future__ import annotations

import os
import signal

from syncmap_tui.drafts import DraftStore

from .conftest import DOWN

HOSTILE_MAP = "evil\x1b]52;c;SGFja2Vk\x07\x1b[31mPWNED"
"""OSC 52 would write the clipboard, SGR 31 would paint what follows red."""


def test_a_hostile_name_from_the_command_line_and_the_server_is_shown_escaped(emulator, start_app):
    app = start_app("demo-store", HOSTILE_MAP, "--base-url", emulator.url)
    # The server echoes the name in its 404 ("... not found"); the toast shows it escaped.
    app.wait_for("not found (HTTP 404")
    app.settle()
    assert b"\x1b]52" not in app.raw
    assert b"\x1b[31mPWNED" not in app.raw and b"\x07\x1b[31m" not in app.raw


def test_sigterm_restores_the_terminal_and_keeps_the_edit_in_a_draft(emulator, start_app):
    app = start_app("demo-store", "orders", "order-0002", "--base-url", emulator.url)
    app.wait_for('"status": "shipped"', "✓ valid JSON")
    app.send(DOWN)
    app.wait_for_cursor_on('"status": "shipped"')
    app.send('"survives": "sigterm", ')
    app.wait_for('"survives": "sigterm",', "● modified")
    os.kill(app.child.pid, signal.SIGTERM)
    status = app.wait_for_exit()
    assert status == 128 + signal.SIGTERM
    (draft,) = DraftStore().load_all()
    assert '"survives": "sigterm"' in draft.text
    # Textual's exit: the alternate screen is left (ESC[?1049l) after it was entered, and the
    # mouse modes it turned on are off again.
    entered = app.raw.rfind(b"\x1b[?1049h")
    left = app.raw.rfind(b"\x1b[?1049l")
    assert entered != -1 and left > entered
    assert app.raw.rfind(b"\x1b[?1000l") > app.raw.rfind(b"\x1b[?1000h")
