"""What to say after a copy. Textual's App.copy_to_clipboard writes one OSC 52 sequence and learns
nothing back: no terminal answers whether it took it. So the notification says where the text went
and, from what the environment shows, how likely it is to have arrived. No Textual here."""

from __future__ import annotations

import subprocess
from typing import Mapping

TMUX_QUERY_TIMEOUT_SECONDS = 1.0

GENERIC_NOTE = "if nothing arrived, your terminal may not accept it: use Save item JSON to file"


def tmux_set_clipboard() -> str | None:
    """tmux's `set-clipboard` option (on, external, off), or None if tmux did not say. ~7 ms here."""
    try:
        done = subprocess.run(
            ["tmux", "show-options", "-gv", "set-clipboard"],
            capture_output=True, text=True, timeout=TMUX_QUERY_TIMEOUT_SECONDS, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def osc52_note(environ: Mapping[str, str], tmux_option: str | None = None) -> str:
    """Why OSC 52 may not have reached the clipboard here, or the generic caveat.

    `tmux_option`: tmux_set_clipboard()'s answer when TMUX is set. tmux takes OSC 52 from the
    programs inside it only with `set-clipboard on`; its default, `external`, drops it.
    """
    if environ.get("TMUX"):
        if tmux_option == "on":
            return "tmux passes it on (set-clipboard on); " + GENERIC_NOTE
        shown = f"set-clipboard is {tmux_option}" if tmux_option else "set-clipboard may not be on"
        return f"tmux drops it unless set-clipboard is on ({shown}): run `tmux set -g set-clipboard on`, or use Save item JSON to file"
    if environ.get("STY"):
        return "GNU screen does not pass it on: use Save item JSON to file"
    term = environ.get("TERM", "")
    if term == "linux":
        return "the Linux console has no clipboard: use Save item JSON to file"
    if environ.get("TERM_PROGRAM") == "Apple_Terminal":
        return "macOS Terminal does not accept it (iTerm2, kitty, WezTerm and Alacritty do): use Save item JSON to file"
    if environ.get("VTE_VERSION"):
        return "GNOME Terminal and other VTE terminals may not accept it: use Save item JSON to file"
    return GENERIC_NOTE


def copied_message(what: str, text: str, note: str) -> str:
    lines = text.count("\n") + 1
    size = f"{len(text):,} characters" + (f", {lines:,} lines" if lines > 1 else "")
    return f"Copied {what} ({size}): sent to the terminal's clipboard (OSC 52); {note}."
