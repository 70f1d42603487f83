"""Debounced checkpoints of edit buffers: when a draft is written, and that a late write never
replaces a newer one. Headless; the drafts themselves and their files are `syncmap_tui.drafts`."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from syncmap_tui.drafts import Draft, DraftStore


@dataclass(frozen=True)
class PendingDraft:
    """A draft waiting to be written, with the number of the change that made it."""

    draft: Draft
    version: int


@dataclass
class DraftWrites:
    """What `Checkpointer.write` did: the drafts it wrote (stamped, with their paths) and the first error."""

    written: list[tuple[PendingDraft, Draft, Path]] = field(default_factory=list)
    error: OSError | None = None


class Checkpointer:
    """Debounces draft writes for the UI, with no thread or timer of its own.

    The UI calls `changed(draft)` on every edit and, from a timer (every 0.25 s is plenty),
    `write(due())` in a thread, then `settle(...)` with the result; it calls `flush()` directly
    when leaving an editor or quitting, and `discard(id)` after a successful save to Sync or when
    the user drops the edit. A draft is due `delay` seconds after its last change, or `max_wait`
    seconds after its first unsaved change even if typing goes on, so with the defaults and a
    0.25 s timer the text is on disk within a second of typing stopping.

    Pending drafts are kept per item (switching items never drops one). Every change is numbered;
    a write never replaces a newer version of the draft, nor brings back a discarded one, in
    whatever order the thread and `flush` or `discard` reach the disk. `changed`, `due`, `settle`,
    `flush` and `discard` belong to one thread (the UI's); only `write` may run in another. A
    written draft is stamped with `saved_at` = now (UTC). A change that only repeats what is
    already on disk is not rewritten. A failed write leaves the draft pending, to be retried.
    """

    def __init__(self, store: DraftStore, delay: float = 0.5, clock: Callable[[], float] = time.monotonic,
                 *, max_wait: float = 2.0) -> None:
        self.store = store
        self.delay = delay
        self.max_wait = max_wait
        self._clock = clock
        # draft_id -> (newest change, time of first unsaved change, time of last change)
        self._pending: dict[str, tuple[PendingDraft, float, float]] = {}
        self._on_disk: dict[str, Draft] = {}
        self._changes = 0
        self._disk_lock = threading.Lock()
        self._disk_versions: dict[str, int] = {}
        """draft_id -> the newest version written or discarded; guarded by _disk_lock."""

    def changed(self, draft: Draft) -> None:
        """Remember `draft` as the newest state of its item. No I/O."""
        draft_id = draft.draft_id
        now = self._clock()
        previous = self._pending.get(draft_id)
        written = self._on_disk.get(draft_id)
        if previous is None and written is not None and written.same_content(draft):
            return
        first = previous[1] if previous is not None else now
        self._changes += 1
        self._pending[draft_id] = (PendingDraft(draft, self._changes), first, now)

    def due(self, now: float | None = None) -> list[PendingDraft]:
        """The pending drafts to write now (all of them once one is due), oldest change first."""
        now = self._clock() if now is None else now
        if not any(now - last >= self.delay or now - first >= self.max_wait for _, first, last in self._pending.values()):
            return []
        return self._all_pending()

    def _all_pending(self) -> list[PendingDraft]:
        return [pending for pending, _first, _last in sorted(self._pending.values(), key=lambda entry: entry[2])]

    def write(self, drafts: list[PendingDraft]) -> DraftWrites:
        """Write `drafts` (any thread), skipping one that a newer version or a discard overtook."""
        result = DraftWrites()
        for pending in drafts:
            draft_id = pending.draft.draft_id
            with self._disk_lock:
                if self._disk_versions.get(draft_id, 0) >= pending.version:
                    continue
                stamped = replace(pending.draft, saved_at=datetime.now(timezone.utc))
                try:
                    path = self.store.save(stamped)
                except OSError as exc:
                    result.error = result.error or exc
                    continue
                self._disk_versions[draft_id] = pending.version
            result.written.append((pending, stamped, path))
        return result

    def settle(self, writes: DraftWrites) -> Path | None:
        """Take in what `write` did (UI thread): a draft changed since it was taken stays pending.
        The path of the most recently changed draft written, or None; the first error is raised."""
        newest: Path | None = None
        for pending, stamped, path in writes.written:
            draft_id = pending.draft.draft_id
            current = self._pending.get(draft_id)
            if current is not None and current[0].version == pending.version:
                del self._pending[draft_id]
                self._on_disk[draft_id] = stamped
            newest = path
        if writes.error is not None:
            raise writes.error
        return newest

    def flush(self) -> Path | None:
        """Write every pending draft now; the path of the most recently changed one, or None if none."""
        return self.settle(self.write(self._all_pending()))

    def discard(self, draft_id: str) -> None:
        """Forget any pending change of the item and delete its draft file."""
        self._pending.pop(draft_id, None)
        self._on_disk.pop(draft_id, None)
        with self._disk_lock:
            self._disk_versions[draft_id] = self._changes
            self.store.remove(draft_id)
