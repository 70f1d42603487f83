"""The history store: what it keeps, its bounds, its files (0600, atomic, shared by two instances)."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from syncmap_tui import history
from syncmap_tui.history import MAX_VERSIONS_PER_ITEM, HistoryStore, ItemRef
from syncmap_tui.sync.models import MapItem

T0 = datetime(2026, 1, 15, 12, 0, 0, tzinfo=timezone.utc)
REF = ItemRef("https://sync.twilio.com", "IS1", "MP1", "order-1")


def item(revision: int, data: dict | None = None, *, created: datetime = T0, expires: datetime | None = None, key: str = "order-1") -> MapItem:
    return MapItem(
        key=key, account_sid="AC1", service_sid="IS1", map_sid="MP1", url="", revision=str(revision),
        data=data if data is not None else {"n": revision}, date_expires=expires, date_created=created,
        date_updated=created + timedelta(seconds=revision), created_by="system",
    )


def test_versions_survive_a_restart_with_how_they_were_seen(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path)
    assert store.record(REF, item(0), "loaded")
    assert store.record(REF, item(1), "saved", by_you=True, replaced="0")
    assert store.record(REF, item(2), "watch")
    again = HistoryStore(tmp_path).versions(REF)
    assert [(v.revision, v.how, v.by_you) for v in again] == [("0", "loaded", False), ("1", "saved", True), ("2", "watch", False)]
    assert again[1].data == {"n": 1} and again[1].replaced == "0"


def test_the_same_version_seen_again_is_not_written_again(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path)
    store.record(REF, item(3), "loaded")
    mtime = store.path_for(REF).stat().st_mtime_ns
    assert not store.record(REF, item(3), "watch")
    assert not HistoryStore(tmp_path).record(REF, item(3), "seen")  # another run: read from disk
    assert store.path_for(REF).stat().st_mtime_ns == mtime
    assert len(store.versions(REF)) == 1


def test_a_recreated_item_at_revision_0_is_another_version(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path)
    store.record(REF, item(0, {"a": 1}), "loaded")
    assert store.record(REF, item(0, {"b": 2}, created=T0 + timedelta(hours=1)), "watch")
    assert len(store.versions(REF)) == 2


def test_a_version_seen_before_its_save_answered_becomes_yours(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path)
    store.record(REF, item(0), "loaded")
    store.record(REF, item(1), "watch")
    assert store.record(REF, item(1), "saved", by_you=True, replaced="0")
    saved, previous = store.last_save(REF)
    assert (saved.revision, saved.by_you, previous.revision) == ("1", True, "0")
    assert len(store.versions(REF)) == 2


def test_last_save_is_the_latest_of_yours_and_the_version_it_replaced(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path)
    assert store.last_save(REF) is None
    store.record(REF, item(0), "loaded")
    store.record(REF, item(1), "saved", by_you=True, replaced="0")
    store.record(REF, item(2), "watch")
    store.record(REF, item(3), "saved", by_you=True, replaced="2")
    saved, previous = store.last_save(REF)
    assert (saved.revision, previous.revision) == ("3", "2")


def test_per_item_bound_drops_the_oldest(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path)
    for revision in range(MAX_VERSIONS_PER_ITEM + 10):
        store.record(REF, item(revision), "watch")
    kept = store.versions(REF)
    assert len(kept) == MAX_VERSIONS_PER_ITEM
    assert kept[0].revision == "10" and kept[-1].revision == str(MAX_VERSIONS_PER_ITEM + 9)


def test_per_item_byte_bound_drops_the_oldest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(history, "MAX_ITEM_BYTES", 4000)
    store = HistoryStore(tmp_path)
    for revision in range(10):
        store.record(REF, item(revision, {"blob": "x" * 1000, "n": revision}), "watch")
    assert store.path_for(REF).stat().st_size <= 4000
    assert [v.revision for v in store.versions(REF)][-1] == "9"
    assert len(store.versions(REF)) < 10


def test_total_bound_removes_the_items_written_longest_ago(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(history, "MAX_TOTAL_BYTES", 3000)
    store = HistoryStore(tmp_path)
    refs = [ItemRef(REF.base_url, "IS1", "MP1", f"k{n}") for n in range(10)]
    for n, ref in enumerate(refs):
        store.record(ref, item(0, {"blob": "y" * 400}, key=ref.key), "loaded")
        os.utime(store.path_for(ref), (1_000_000 + n, 1_000_000 + n))
    total = sum(p.stat().st_size for p in tmp_path.glob("*.json"))
    assert total <= 3000
    assert store.versions(refs[-1]) and not store.versions(refs[0])


def test_files_are_private(tmp_path: Path) -> None:
    directory = tmp_path / "history"
    old = os.umask(0)
    try:
        HistoryStore(directory).record(REF, item(0), "loaded")
    finally:
        os.umask(old)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    for path in directory.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_deleted_items_of_a_map_and_undo_ending_it(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path)
    expires = T0 + timedelta(minutes=10)
    store.record(REF, item(4, expires=expires), "loaded")
    store.record_deleted(REF, item(4, expires=expires))
    other_map = ItemRef(REF.base_url, "IS1", "MP2", "order-1")
    store.record_deleted(other_map, item(1))
    [deleted] = HistoryStore(tmp_path).deleted_items(REF.base_url, "IS1", "MP1")
    assert deleted.ref == REF and deleted.version.data == {"n": 4} and deleted.version.date_expires == expires
    store.record(REF, item(0, {"n": 4}, created=T0 + timedelta(hours=1)), "saved", by_you=True)
    assert store.deleted_items(REF.base_url, "IS1", "MP1") == []


def test_a_damaged_file_reads_as_no_history_and_is_replaced(tmp_path: Path) -> None:
    store = HistoryStore(tmp_path)
    store.record(REF, item(0), "loaded")
    store.path_for(REF).write_bytes(b'{"format": "syncmap-tui history", "versions": [tr')
    assert HistoryStore(tmp_path).versions(REF) == []
    HistoryStore(tmp_path).record(REF, item(1), "watch")
    assert [v.revision for v in store.versions(REF)] == ["1"]


def test_two_instances_keep_each_others_versions(tmp_path: Path) -> None:
    first, second = HistoryStore(tmp_path), HistoryStore(tmp_path)
    first.record(REF, item(0), "loaded")
    second.record(REF, item(0), "loaded")
    second.record(REF, item(1), "saved", by_you=True, replaced="0")
    first.record(REF, item(2), "watch")
    assert [v.revision for v in HistoryStore(tmp_path).versions(REF)] == ["0", "1", "2"]


_WRITER = """
import sys
from datetime import datetime, timezone
from pathlib import Path
from syncmap_tui.history import HistoryStore, ItemRef
from syncmap_tui.sync.models import MapItem
store = HistoryStore(Path(sys.argv[1]))
ref = ItemRef("u", "IS1", "MP1", "k")
t = datetime(2026, 1, 1, tzinfo=timezone.utc)
print("ready", flush=True)
for n in range(1_000_000):
    store.record(ref, MapItem("k", "AC", "IS1", "MP1", "", str(n), {"blob": "z" * 5000, "n": n}, None, t, t, "s"), "watch")
"""


def test_kill_9_while_writing_leaves_a_whole_file(tmp_path: Path) -> None:
    for attempt in range(3):
        process = subprocess.Popen([sys.executable, "-c", _WRITER, str(tmp_path)], stdout=subprocess.PIPE)
        assert process.stdout is not None and process.stdout.readline() == b"ready\n"
        time.sleep(0.3 + 0.1 * attempt)
        process.send_signal(signal.SIGKILL)
        process.wait()
        [path] = [p for p in tmp_path.glob("*.json") if not p.name.startswith(".")]
        body = json.loads(path.read_bytes())  # whole, never half
        assert body["versions"]
        assert HistoryStore(tmp_path).versions(ItemRef("u", "IS1", "MP1", "k"))


def test_temp_files_a_kill_9_left_are_removed_once_stale(tmp_path: Path) -> None:
    """A kill -9 between a history file's temp write and its rename leaves `.<id>.json.<hex>.tmp`
    (up to 1 MiB, outside MAX_TOTAL_BYTES): the next write removes those older than a running
    instance's write could be, and leaves a fresh one (another instance may be renaming it)."""
    from syncmap_tui.private_files import STALE_TEMP_SECONDS

    store = HistoryStore(tmp_path)
    store.record(REF, item(0), "loaded")
    stale = tmp_path / f".{REF.item_id}.json.0123456789abcdef.tmp"
    fresh = tmp_path / f".{REF.item_id}.json.fedcba9876543210.tmp"
    for path in (stale, fresh):
        path.write_bytes(b'{"format":"syncmap-tui history","versions":[' + b"x" * 4096)
    aged = time.time() - STALE_TEMP_SECONDS - 5
    os.utime(stale, (aged, aged))
    store.record(REF, item(1), "watch")
    assert not stale.exists() and fresh.exists()
    assert [v.revision for v in store.versions(REF)] == ["0", "1"]


def test_yours_means_this_instance_for_undo(tmp_path: Path) -> None:
    """Two running instances share the history: each undo delete takes its own delete first, and
    neither calls the other's save or delete its own (the adversary: u brought back an item another
    window deleted, as 'yours')."""
    window_a = HistoryStore(tmp_path, instance="a" * 16, now=lambda: T0)
    window_b = HistoryStore(tmp_path, instance="b" * 16, now=lambda: T0 + timedelta(minutes=1))
    a_deleted = ItemRef(REF.base_url, REF.service_sid, REF.map_sid, "deleted-in-a")
    b_deleted = ItemRef(REF.base_url, REF.service_sid, REF.map_sid, "deleted-in-b")
    window_a.record_deleted(a_deleted, item(3, key="deleted-in-a"))
    window_b.record_deleted(b_deleted, item(4, key="deleted-in-b"))  # later, in the other window
    in_a = window_a.deleted_items(REF.base_url, REF.service_sid, REF.map_sid)
    assert [d.ref.key for d in in_a] == ["deleted-in-a", "deleted-in-b"]
    assert window_a.is_mine(in_a[0].version) and not window_a.is_mine(in_a[1].version)
    in_b = window_b.deleted_items(REF.base_url, REF.service_sid, REF.map_sid)
    assert [d.ref.key for d in in_b] == ["deleted-in-b", "deleted-in-a"]
    window_b.record(REF, item(0), "loaded")
    window_b.record(REF, item(1), "saved", by_you=True, replaced="0")
    saved, _ = window_a.last_save(REF)
    assert saved.by_you and not window_a.is_mine(saved) and window_b.is_mine(saved)
    assert HistoryStore(tmp_path, instance="c" * 16).versions(REF)[1].instance == "b" * 16
