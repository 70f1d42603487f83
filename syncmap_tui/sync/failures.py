"""What a flow may meet in normal use, and the words for it: one rule for the edit session and for
the UI's worker policy (ui/flow_errors.py).

An expected failure is an answer, not a bug: the server or the network said no (SyncError), or
the local disk did (OSError: full, read-only, gone), or the embedded emulator's database did
(sqlite3.Error: "database or disk is full"). It is said plainly and the edit is kept.
"""

from __future__ import annotations

import sqlite3

from syncmap_tui.sync.errors import ServerError, SyncError
from syncmap_tui.sync.validation import ValidationError

EXPECTED_FAILURES: tuple[type[Exception], ...] = (SyncError, OSError, sqlite3.Error)


def is_expected_failure(error: BaseException) -> bool:
    """True for the answers a flow may meet in normal use; False for bugs."""
    return isinstance(error, EXPECTED_FAILURES)


def describe_failure(error: BaseException) -> str:
    """What a failure says: the server's message, or the disk's, or the check that refused the text."""
    if isinstance(error, ValidationError):
        return error.message
    if isinstance(error, SyncError):
        return str(error)
    if isinstance(error, OSError):
        reason = error.strerror or str(error) or type(error).__name__
        where = f" ({error.filename})" if error.filename else ""
        return f"the local disk refused it: {reason}{where}"
    if isinstance(error, sqlite3.Error):
        return f"the local emulator's database refused it: {error}"
    return str(error)


def may_have_landed(error: BaseException) -> bool:
    """A write went out and no usable answer came back: it may have been applied. A 5xx counts: a
    server or proxy may fail after the commit, and a write that landed unseen on an item created
    again under the key (revision "0" again) would go unreported; settling costs one GET, after a
    5xx only."""
    return isinstance(error, SyncError) and (error.may_have_been_applied or isinstance(error, ServerError))
