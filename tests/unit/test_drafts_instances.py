"""Each running instance writes its own drafts, and a later start tells a dead instance's from a live one's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from syncmap_tui.drafts import (
    EDIT_SLOT,
    KEPT_SLOT,
    DraftFormatError,
    DraftStore,
    decode_draft,
    draft_id_for,
    encode_draft,
)
from syncmap_tui.instances import InstanceLock, new_instance_id

POSIX_ONLY = pytest.mark.skipif(os.name != "posix", reason="flock")


def make(text: str = "{}", **changes):
    from datetime import datetime, timezone

    from syncmap_tui.drafts import Draft

    values = dict(
        account_sid="AC" + "1" * 32, base_url="https://sync.twilio.com", target_label="staging",
        service_sid="IS" + "2" * 32, map_sid="MP" + "3" * 32, key="item-1", base_revision="7",
        text=text, item_ttl="", collection_ttl="", saved_at=datetime(2024, 5, 1, tzinfo=timezone.utc),
    )
    values.update(changes)
    return Draft(**values)


@pytest.fixture
def store(tmp_path) -> DraftStore:
    return DraftStore(tmp_path / "drafts")


def test_two_instances_editing_one_item_write_two_files(store):
    first, second = new_instance_id(), new_instance_id()
    mine = make(text='{"mine": 1}', instance=first)
    theirs = make(text='{"theirs": 1}', instance=second)
    assert mine.draft_id != theirs.draft_id
    store.save(mine)
    store.save(theirs)
    store.remove(mine.draft_id)  # one instance's save deletes its own draft only
    assert [d.text for d in store.load_all()] == ['{"theirs": 1}']


def test_the_kept_edit_has_a_slot_of_its_own(store):
    instance = new_instance_id()
    edit = make(text="{}", instance=instance)
    kept = make(text='{"kept": 1}', instance=instance, slot=KEPT_SLOT)
    assert edit.draft_id != kept.draft_id
    store.save(edit)
    store.save(kept)
    assert {d.slot for d in store.load_all()} == {EDIT_SLOT, KEPT_SLOT}


def test_format_1_drafts_still_read_under_their_old_name(store):
    old = make(text='{"old": 1}')
    obj = json.loads(encode_draft(old))
    for name in ("base_created", "instance", "slot"):
        del obj[name]
    obj["version"] = 1
    path = store.path_for(draft_id_for(old.account_sid, old.base_url, old.service_sid, old.map_sid, old.key))
    store.directory.mkdir(parents=True)
    path.write_bytes(json.dumps(obj).encode())
    (loaded,) = store.load_all()
    assert loaded.text == '{"old": 1}' and loaded.instance == "" and loaded.slot == EDIT_SLOT
    assert not store.is_live(loaded.instance)


def test_base_created_round_trips_and_an_unknown_slot_is_refused(store):
    draft = make(base_created="2026-01-15T12:00:00Z", instance=new_instance_id())
    assert decode_draft(encode_draft(draft)) == draft
    with pytest.raises(DraftFormatError):
        decode_draft(encode_draft(draft).replace(b'"slot":"edit"', b'"slot":"other"'))


@POSIX_ONLY
def test_a_held_lock_is_live_and_a_released_one_is_dead(store):
    instance = new_instance_id()
    lock = InstanceLock(store, instance)
    lock.acquire()
    assert store.is_live(instance)
    lock.release()
    assert not store.is_live(instance)
    assert not store.is_live(new_instance_id())  # never started: no lock file


@POSIX_ONLY
def test_a_killed_instance_is_dead_and_its_stale_lock_file_goes(store, tmp_path):
    instance = new_instance_id()
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from syncmap_tui.drafts import DraftStore
            from syncmap_tui.instances import InstanceLock
            InstanceLock(DraftStore({str(store.directory)!r}), {instance!r}).acquire()
            print("locked", flush=True)
            time.sleep(60)
        """)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert store.is_live(instance)
    finally:
        holder.kill()
        holder.wait()
    assert store.lock_path(instance).exists()  # kill -9 left the file
    assert not store.is_live(instance)
    assert not store.lock_path(instance).exists()


@POSIX_ONLY
def test_the_lock_file_is_private(store):
    lock = InstanceLock(store, new_instance_id())
    lock.acquire()
    try:
        assert os.stat(store.lock_path(lock.instance)).st_mode & 0o777 == 0o600
        assert os.stat(store.lock_path(lock.instance).parent).st_mode & 0o777 == 0o700
    finally:
        lock.release()
