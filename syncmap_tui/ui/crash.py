"""What the user sees when something unexpected breaks: what happened, where the edit is, how to report.

Textual's own handler prints a traceback with local variables; locals can hold tokens and item
data, so this prints none, and removes every known secret from the report it writes.
"""

from __future__ import annotations

import traceback
from datetime import datetime, timezone
from pathlib import Path

from rich.console import Group
from rich.text import Text

from syncmap_tui.config import state_dir
from syncmap_tui.private_files import ensure_private_dir, write_new
from syncmap_tui.ui.literal import literal_block

REDACTED = "[secret removed]"


def redact(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


def write_crash_report(error: BaseException, secrets: list[str]) -> Path | None:
    """A traceback without locals, secrets removed, readable by the user alone. None if it can't be written."""
    lines = traceback.format_exception(type(error), error, error.__traceback__)
    text = redact("".join(lines), secrets)
    try:
        folder = ensure_private_dir(state_dir())
        return write_new(folder / f"crash-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}.txt", text.encode("utf-8"))
    except OSError:
        return None


def crash_message(error: BaseException, secrets: list[str], report: Path | None, draft: Path | None) -> Group:
    """The crash screen. The error's text may quote the server or a file: shown literally."""
    what = redact(f"{type(error).__name__}: {error}", secrets)
    parts = [
        Text("syncmap-tui stopped because of an unexpected error.", style="bold red"),
        Text("\nWhat happened: ").append_text(literal_block(what)),
    ]
    if draft is not None:
        parts.append(Text(f"\nYour unsaved edit is safe in {draft}.\nIt will be offered when you start syncmap-tui again."))
    else:
        parts.append(Text("\nNo unsaved edit was open."))
    if report is not None:
        parts.append(Text(f"\nA report (no local variables, secrets removed) is in {report}."))
    parts.append(Text("Please send it to the syncmap-tui maintainers with what you were doing, and the output of\n`syncmap-tui --version`."))
    return Group(*parts)
