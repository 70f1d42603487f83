"""What a copy says about OSC 52 reaching the clipboard, by what the environment shows."""

from __future__ import annotations

from syncmap_tui.ui.clipboard import GENERIC_NOTE, copied_message, osc52_note


def test_tmux_without_set_clipboard_on_drops_it_and_says_how_to_fix():
    note = osc52_note({"TMUX": "/tmp/tmux-1/default,1,0", "TERM": "tmux-256color"}, "external")
    assert "set-clipboard is external" in note and "tmux set -g set-clipboard on" in note
    assert "may not be on" in osc52_note({"TMUX": "x"}, None)


def test_tmux_with_set_clipboard_on_passes_it_on():
    assert osc52_note({"TMUX": "x"}, "on").startswith("tmux passes it on")


def test_terminals_known_not_to_take_it():
    assert "screen" in osc52_note({"STY": "123.pts-0"})
    assert "Linux console" in osc52_note({"TERM": "linux"})
    assert "macOS Terminal" in osc52_note({"TERM_PROGRAM": "Apple_Terminal"})
    assert "VTE" in osc52_note({"VTE_VERSION": "7600"})


def test_elsewhere_the_honest_caveat():
    assert osc52_note({"TERM": "xterm-kitty"}) == GENERIC_NOTE
    message = copied_message("the key", "k1", GENERIC_NOTE)
    assert message == (
        "Copied the key (2 characters): sent to the terminal's clipboard (OSC 52); if nothing arrived, "
        "your terminal may not accept it: use Save item JSON to file."
    )
    assert "3 lines" in copied_message("x", "a\nb\nc", GENERIC_NOTE)
