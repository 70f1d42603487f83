"""SIDs: two letters and 32 lowercase hex digits, random or derived from names."""

from __future__ import annotations

import hashlib
import uuid

from syncmap_tui.sync.validation import LOOKS_LIKE_SID

SERVICE_SID_PREFIX = "IS"
MAP_SID_PREFIX = "MP"


def new_sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


def derived_sid(prefix: str, *names: str) -> str:
    """A SID fixed by names, so that seeded data (and screenshots of it) is the same on every run."""
    digest = hashlib.sha256("\x1f".join(names).encode("utf-8")).hexdigest()
    return prefix + digest[:32]



def is_sid(ref: str, prefix: str) -> bool:
    """Whether a path's reference names an object by SID (else by unique name)."""
    return len(ref) == 34 and ref.startswith(prefix) and LOOKS_LIKE_SID.fullmatch(ref) is not None
