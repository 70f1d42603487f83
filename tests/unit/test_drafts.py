"""Crash-safe drafts: exact round trips, atomic replacement, private modes, exports, debouncing, SIGKILL."""

from __future__ import annotations

import json
import os
import random
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncmap_tui import drafts
from syncmap_tui.config import state_dir
from syncmap_tui.checkpoints import Checkpointer
from syncmap_tui.drafts import (
    STALE_TEMP_SECONDS,
    Draft,
    DraftExportError,
    DraftFormatError,
    DraftStore,
    decode_draft,
    draft_id_for,
    encode_draft,
)

T0 = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=timezone.utc)
NASTY_TEXT = 'a\x00b\x01\x1b[31m\x7f\x9f [bold]x[/bold] \ud800 lone \udfff \udc80 "q" \\ \u2028\r\n\t😀 é\n'
SIGKILL_ONLY = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
POSIX_ONLY = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def make(key: str = "item-1", text: str = '{"a": 1}', saved_at: datetime = T0, **changes) -> Draft:
    values = dict(
        account_sid="AC" + "1" * 32,
        base_url="https://sync.twilio.com",
        target_label="staging",
        service_sid="IS" + "2" * 32,
        map_sid="MP" + "3" * 32,
        key=key,
        base_revision="7",
        text=text,
        item_ttl="3600",
        collection_ttl="",
        saved_at=saved_at,
    )
    values.update(changes)
    return Draft(**values)


@pytest.fixture
def store(tmp_path) -> DraftStore:
    return DraftStore(tmp_path / "drafts")


# -- round trips ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [NASTY_TEXT, "", "\x00", "\ud800", "\udfff\ud800", "[bold]x", "not json {", "x" * (1024 * 1024 + 7),
     ("\ud83d" + "é€\x00\n") * 50_000],
    ids=["nasty", "empty", "nul", "lone-high", "reversed-pair", "markup", "invalid-json", "1MB", "1MB-mixed"],
)
def test_every_field_round_trips_exactly(store, text):
    draft = make(text=text, key="k\ud800\x00[b]", target_label="lab\x1bel", base_revision=None,
                 item_ttl=" 60\t", collection_ttl="\udc80", base_data='{"base": "\ud800"}')
    path = store.save(draft)
    assert path == store.path_for(draft.draft_id)
    path.read_bytes().decode("ascii")  # ASCII only: nothing depends on an encoding
    (loaded,) = store.load_all()
    assert loaded == draft
    assert loaded.text == text and type(loaded.text) is str
    for name in ("account_sid", "base_url", "target_label", "service_sid", "map_sid", "key",
                 "base_revision", "base_data", "item_ttl", "collection_ttl", "saved_at"):
        assert getattr(loaded, name) == getattr(draft, name), name
    assert loaded.saved_at.tzinfo is not None and loaded.saved_at.utcoffset() == timedelta(0)
    assert store.load(draft.draft_id) == draft


def test_saved_at_in_another_zone_is_stored_as_the_same_instant_in_utc(store):
    cest = timezone(timedelta(hours=2))
    draft = make(saved_at=datetime(2024, 5, 1, 14, 0, 0, tzinfo=cest))
    store.save(draft)
    (loaded,) = store.load_all()
    assert loaded.saved_at == draft.saved_at
    assert loaded.saved_at.utcoffset() == timedelta(0)


def test_draft_validates_types_and_needs_an_aware_time():
    with pytest.raises(ValueError, match="timezone-aware"):
        make(saved_at=datetime(2024, 1, 1))
    with pytest.raises(TypeError):
        make(text=b"bytes")
    with pytest.raises(TypeError):
        make(base_revision=7)
    assert make().saved_at.tzinfo is not None
    assert Draft(**{**make().__dict__, "saved_at": datetime.now(timezone.utc)}).draft_id == make().draft_id


def test_repr_leaves_out_the_text():
    draft = make(text="SECRET-ITEM-DATA")
    assert "SECRET-ITEM-DATA" not in repr(draft)
    assert "item-1" in repr(draft)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.text(alphabet=st.characters(codec=None, exclude_categories=())),
    key=st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=20),
    revision=st.none() | st.text(max_size=5),
)
def test_property_encoding_round_trips_arbitrary_text_including_surrogates(text, key, revision):
    draft = make(text=text, key=key, base_revision=revision, item_ttl=text[:3])
    data = encode_draft(draft)
    assert data.isascii()
    assert decode_draft(data) == draft


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(alphabet=st.characters(categories=["Cs", "Cc", "Co", "Cn", "Lo", "So"])))
def test_property_store_round_trips_arbitrary_text(text):
    with tempfile.TemporaryDirectory() as folder:
        store = DraftStore(Path(folder) / "drafts")
        draft = make(text=text)
        store.save(draft)
        assert store.load_all() == [draft]
        assert store.load(draft.draft_id).text == text


# -- identity, ordering, replacement ---------------------------------------------------------


def test_draft_id_is_stable_and_depends_only_on_the_item_identity():
    a = make()
    assert a.draft_id == make(text="other", target_label="x", base_revision=None, saved_at=T0 + timedelta(1)).draft_id
    assert len(a.draft_id) == 32 and int(a.draft_id, 16) >= 0
    assert a.draft_id == draft_id_for(a.account_sid, a.base_url, a.service_sid, a.map_sid, a.key)
    others = {
        make(key="item-2").draft_id,
        make(map_sid="MP" + "4" * 32).draft_id,
        make(service_sid="IS" + "5" * 32).draft_id,
        make(account_sid="AC" + "6" * 32).draft_id,
        make(base_url="http://127.0.0.1:8777").draft_id,
    }
    assert a.draft_id not in others and len(others) == 5
    # No ambiguity from joining fields: moving a separator between fields changes the id.
    assert draft_id_for("a", "b|c", "d", "e", "f") != draft_id_for("a|b", "c", "d", "e", "f")


def test_load_all_is_newest_first(store):
    store.save(make("old", saved_at=T0))
    store.save(make("newest", saved_at=T0 + timedelta(minutes=5)))
    store.save(make("middle", saved_at=T0 + timedelta(seconds=1)))
    assert [d.key for d in store.load_all()] == ["newest", "middle", "old"]


def test_a_later_checkpoint_of_the_same_item_replaces_the_earlier(store):
    store.save(make(text="first", saved_at=T0))
    store.save(make(text="second", saved_at=T0 + timedelta(seconds=1)))
    store.save(make("other-item", text="x"))
    loaded = {d.key: d.text for d in store.load_all()}
    assert loaded == {"item-1": "second", "other-item": "x"}
    assert len(list(store.directory.iterdir())) == 2


def test_remove_and_missing_things_are_fine(store):
    assert store.load_all() == [] and store.load_all_with_problems() == ([], [])
    assert not store.directory.exists()  # nothing is created by reading
    store.remove(make().draft_id)  # no directory at all
    store.save(make())
    store.remove(make().draft_id)
    store.remove(make().draft_id)
    assert store.load_all() == [] and store.load(make().draft_id) is None


def test_default_directory_is_under_the_state_dir(isolated_home):
    store = DraftStore()
    assert store.directory == state_dir() / "drafts"
    assert str(store.directory).startswith(str(isolated_home))
    assert not store.directory.exists()
    store.save(make())
    assert store.load_all() == [make()]


@POSIX_ONLY
def test_file_mode_0600_and_directory_mode_0700(store):
    old = os.umask(0)  # even with a permissive umask
    try:
        path = store.save(make())
        store.save(make(text="again"))
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(store.directory).st_mode) == 0o700


@POSIX_ONLY
def test_the_default_directory_is_tightened_if_it_was_too_open():
    folder = state_dir() / "drafts"
    folder.mkdir(parents=True, mode=0o755)
    os.chmod(folder, 0o755)
    DraftStore().save(make())
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700


# -- atomicity -------------------------------------------------------------------------------


def test_a_failed_rename_leaves_the_old_draft_intact_and_no_temp(store, monkeypatch):
    store.save(make(text="good old text"))

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(drafts.os, "replace", broken_replace)
    with pytest.raises(OSError):
        store.save(make(text="new text"))
    monkeypatch.undo()
    assert [d.text for d in store.load_all()] == ["good old text"]
    assert [p.name for p in store.directory.iterdir()] == [f"{make().draft_id}.json"]


CRASH_BEFORE_RENAME = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from syncmap_tui import drafts
    from syncmap_tui.drafts import DraftStore, Draft
    from datetime import datetime, timezone

    def crash(src, dst):  # the temp file is written and fsync'ed: die before the rename
        os.kill(os.getpid(), signal.SIGKILL)

    drafts.os.replace = crash
    store = DraftStore(Path(sys.argv[1]))
    store.save(Draft(account_sid="AC" + "1" * 32, base_url="https://sync.twilio.com", target_label="staging",
                     service_sid="IS" + "2" * 32, map_sid="MP" + "3" * 32, key="item-1", base_revision="7",
                     text="NEW TEXT THAT NEVER LANDED", item_ttl="3600", collection_ttl="",
                     saved_at=datetime.now(timezone.utc)))
    """
)


@SIGKILL_ONLY
def test_a_crash_between_temp_write_and_rename_keeps_the_old_draft(store):
    old = make(text="good old text")
    store.save(old)
    result = subprocess.run([sys.executable, "-c", CRASH_BEFORE_RENAME, str(store.directory)],
                            capture_output=True, timeout=30)
    assert result.returncode == -signal.SIGKILL, result.stderr
    temps = [p for p in store.directory.iterdir() if p.name.endswith(".tmp")]
    assert len(temps) == 1 and temps[0].name.startswith(".")
    assert b"NEW TEXT THAT NEVER LANDED" in temps[0].read_bytes()  # a complete, unrenamed temp

    assert store.load_all_with_problems() == ([old], [])  # ignored while it may be in use ...
    assert temps[0].exists()
    aged = time.time() - STALE_TEMP_SECONDS - 5
    os.utime(temps[0], (aged, aged))
    assert store.load_all_with_problems() == ([old], [])  # ... and cleaned once stale
    assert not temps[0].exists()


def test_stray_temp_files_are_ignored(store):
    store.save(make())
    (store.directory / f".{make().draft_id}.0123456789abcdef.tmp").write_bytes(b'{"format": "syncm')
    assert store.load_all_with_problems() == ([make()], [])


# -- corrupt files ---------------------------------------------------------------------------


def test_corrupt_files_are_skipped_and_reported_without_their_contents(store):
    good = make("good")
    store.save(good)
    victim = store.save(make("victim", text="PRIVATE"))
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 2])  # truncated

    other = store.path_for(make("other").draft_id)
    other.write_bytes(json.dumps({"format": "syncmap-tui draft", "version": 1, "text": "PRIVATE"}).encode())
    future = store.path_for(make("future").draft_id)
    future.write_bytes(encode_draft(make("future")).replace(b'"version":2', b'"version":99'))
    binary = store.path_for(make("binary").draft_id)
    binary.write_bytes(b"\xff\xfe PRIVATE")
    renamed = store.directory / ("0" * 32 + ".json")
    renamed.write_bytes(encode_draft(make("renamed")))
    odd_name = store.directory / "notes.json"
    odd_name.write_text("{}")
    (store.directory / "README.txt").write_text("ignored: not .json")

    loaded, problems = store.load_all_with_problems()
    assert loaded == [good]
    assert store.load_all() == [good]
    reported = dict(problems)
    assert set(reported) == {victim, other, future, binary, renamed, odd_name}
    assert "not valid JSON" in reported[victim]
    assert "'account_sid'" in reported[other]
    assert "newer" in reported[future]
    assert "does not match" in reported[renamed]
    assert all("PRIVATE" not in message for message in reported.values())
    with pytest.raises(DraftFormatError):
        store.load(make("victim").draft_id)


@POSIX_ONLY
@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads anything")
def test_an_unreadable_file_is_a_problem_not_a_crash(store):
    path = store.save(make())
    os.chmod(path, 0)
    try:
        assert store.load_all_with_problems() == ([], [(path, "cannot read it: Permission denied")])
    finally:
        os.chmod(path, 0o600)


def test_decode_rejects_bad_values():
    good = json.loads(encode_draft(make()))
    for field, value in [("saved_at", "yesterday"), ("saved_at", "2024-01-01T00:00:00"), ("base_revision", 3),
                         ("text", None), ("format", "other")]:
        with pytest.raises(DraftFormatError):
            decode_draft(json.dumps({**good, field: value}).encode())
    with pytest.raises(DraftFormatError):
        decode_draft(b"[" * 100_000)
    with pytest.raises(DraftFormatError):
        decode_draft(b"[]")


# -- export ----------------------------------------------------------------------------------


def test_export_writes_the_text_as_is_and_never_overwrites(store, tmp_path):
    dest = tmp_path / "item.json"
    dest.write_text("precious")
    text = '{"a": "é😀"}\r\nno newline at end'
    first = store.export(make(text=text), dest)
    second = store.export(make(text="two"), dest)
    assert dest.read_text() == "precious"
    assert first == tmp_path / "item (1).json" and second == tmp_path / "item (2).json"
    assert first.read_bytes() == text.encode("utf-8")
    assert second.read_text() == "two"
    no_suffix = store.export(make(text="x"), tmp_path / "plain")
    assert no_suffix == tmp_path / "plain" and store.export(make(), tmp_path / "plain") == tmp_path / "plain (1)"
    if os.name == "posix":
        assert stat.S_IMODE(os.stat(first).st_mode) == 0o600


def test_export_into_a_directory_uses_a_safe_name_from_the_key(store, tmp_path):
    path = store.export(make(key="../../etc/pass wd", text="t"), tmp_path)
    assert path.parent == tmp_path and path.name == "etc_pass_wd.json"
    assert store.export(make(key="...", text="t"), tmp_path).name == "draft.json"


def test_export_refuses_lone_surrogates_unless_asked_to_escape(store, tmp_path):
    draft = make(text='{\n  "a": "x\ud800y"\n}')
    with pytest.raises(DraftExportError) as info:
        store.export(draft, tmp_path / "out.json")
    assert (info.value.line, info.value.column) == (2, 10)
    assert "x\ud800y" not in str(info.value)
    assert list(tmp_path.iterdir()) == []  # nothing half-written
    path = store.export(draft, tmp_path / "out.json", escape_surrogates=True)
    assert path.read_text("utf-8") == '{\n  "a": "x\\ud800y"\n}'
    assert json.loads(path.read_text("utf-8")) == {"a": "x\ud800y"}  # exact inside a JSON string


# -- Checkpointer ----------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def write_due(cp: Checkpointer):
    """What the UI's timer does, with the write in a thread."""
    return cp.settle(cp.write(cp.due()))


def pending(cp: Checkpointer) -> list:
    """What the checkpointer still has to write: once any draft is due, `due` returns them all."""
    return cp.due(now=float("inf"))


def test_checkpointer_debounces_until_typing_stops(store):
    clock = FakeClock()
    cp = Checkpointer(store, delay=0.5, clock=clock)
    assert not cp.due() and cp.flush() is None and write_due(cp) is None
    for i in range(4):  # typing, a key every 0.2 s
        cp.changed(make(text="x" * i))
        clock.now += 0.2
        assert not cp.due()
        assert write_due(cp) is None
    assert store.load_all() == []
    clock.now += 0.3  # 0.5 s since the last key
    assert cp.due() and cp.due(now=clock.now)
    assert not cp.due(now=clock.now - 0.1)
    path = write_due(cp)
    assert path == store.path_for(make().draft_id)
    assert [d.text for d in store.load_all()] == ["xxx"]
    assert not cp.due() and not pending(cp) and cp.flush() is None


def test_checkpointer_writes_during_continuous_typing_after_max_wait(store):
    clock = FakeClock()
    cp = Checkpointer(store, delay=0.5, clock=clock, max_wait=2.0)
    for i in range(30):  # a key every 0.125 s (exact in binary floating point)
        cp.changed(make(text=str(i)))
        clock.now += 0.125
        write_due(cp)
    assert [d.text for d in store.load_all()] == ["15"]  # written at 2.0 s, though typing never paused


def test_checkpointer_keeps_each_item_and_stamps_the_write_time(store):
    clock = FakeClock()
    cp = Checkpointer(store, clock=clock)
    cp.changed(make("a", text="A", saved_at=T0))
    cp.changed(make("b", text="B", saved_at=T0))  # switching items never drops the first
    before = datetime.now(timezone.utc)
    assert cp.flush() == store.path_for(make("b").draft_id)  # the most recently changed
    loaded = {d.key: d for d in store.load_all()}
    assert {k: d.text for k, d in loaded.items()} == {"a": "A", "b": "B"}
    assert all(d.saved_at >= before - timedelta(seconds=1) for d in loaded.values())


def test_checkpointer_skips_rewrites_of_unchanged_content_and_discards(store, monkeypatch):
    clock = FakeClock()
    cp = Checkpointer(store, clock=clock)
    cp.changed(make(text="A"))
    cp.flush()
    saves = []
    monkeypatch.setattr(store, "save", lambda d: saves.append(d) or store.path_for(d.draft_id))
    cp.changed(make(text="A", saved_at=T0 + timedelta(1)))  # e.g. a cursor move
    assert not pending(cp) and cp.flush() is None and saves == []
    cp.changed(make(text="B"))
    cp.discard(make().draft_id)
    assert not pending(cp) and saves == [] and store.load_all() == []


def test_checkpointer_keeps_a_draft_pending_when_the_write_fails(store, monkeypatch):
    clock = FakeClock()
    cp = Checkpointer(store, clock=clock)
    cp.changed(make(text="A"))
    real_save = store.save

    def full_disk(draft):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store, "save", full_disk)
    with pytest.raises(OSError):
        cp.flush()
    assert pending(cp)
    monkeypatch.setattr(store, "save", real_save)
    assert cp.flush() is not None and [d.text for d in store.load_all()] == ["A"]


def test_a_write_taken_before_a_newer_change_leaves_that_change_pending(store):
    cp = Checkpointer(store, clock=FakeClock())
    cp.changed(make(text="A"))
    taken = cp.due(now=1e9)
    cp.changed(make(text="AB"))  # typed while the thread writes "A"
    cp.settle(cp.write(taken))
    assert [d.text for d in store.load_all()] == ["A"] and pending(cp)
    cp.flush()
    assert [d.text for d in store.load_all()] == ["AB"] and not pending(cp)


def test_a_late_thread_write_never_replaces_a_newer_draft_or_revives_a_discarded_one(store):
    cp = Checkpointer(store, clock=FakeClock())
    cp.changed(make(text="old"))
    taken = cp.due(now=1e9)  # the timer took "old"; its thread is slow to reach the disk
    cp.changed(make(text="new"))
    cp.flush()  # quitting writes "new" first
    cp.settle(cp.write(taken))
    assert [d.text for d in store.load_all()] == ["new"]
    cp.changed(make(text="newer"))
    taken = cp.due(now=1e9)
    cp.discard(make().draft_id)  # saved to Sync meanwhile
    cp.settle(cp.write(taken))
    assert store.load_all() == [] and not pending(cp)


# -- SIGKILL at a random moment --------------------------------------------------------------

WRITER = textwrap.dedent(
    """
    import sys
    from datetime import datetime, timezone
    from pathlib import Path
    from syncmap_tui.drafts import Draft, DraftStore

    store = DraftStore(Path(sys.argv[1]))
    i = 0
    while True:
        size = (i * 7919) % 300_000
        text = f"{i}|{size}|" + ("\\ud800é\\x00x" * size)
        store.save(Draft(account_sid="AC" + "1" * 32, base_url="https://sync.twilio.com",
                         target_label="t", service_sid="IS" + "2" * 32, map_sid="MP" + "3" * 32,
                         key=f"key-{i % 3}", base_revision=str(i), text=text, item_ttl=str(i),
                         collection_ttl="", saved_at=datetime.now(timezone.utc)))
        if i == 2:
            print("ready", flush=True)
        i += 1
    """
)


@SIGKILL_ONLY
@pytest.mark.parametrize("seed", range(3))
def test_sigkill_at_a_random_moment_leaves_only_complete_drafts(tmp_path, seed):
    directory = tmp_path / "drafts"
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(directory)], stdout=subprocess.PIPE)
    try:
        assert child.stdout.readline() == b"ready\n"
        time.sleep(random.Random(seed).uniform(0.0, 0.3))
    finally:
        child.kill()  # SIGKILL
        child.wait(timeout=10)
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL

    loaded, problems = DraftStore(directory).load_all_with_problems()
    assert problems == []  # the brief allows one; atomic replacement leaves none
    assert 1 <= len(loaded) <= 3
    for draft in loaded:
        i, size, body = draft.text.split("|", 2)
        assert body == "\ud800é\x00x" * int(size), "a torn draft"
        assert draft.base_revision == draft.item_ttl == i and draft.key == f"key-{int(i) % 3}"


# -- headless ----------------------------------------------------------------------------------


def test_drafts_module_does_not_import_textual():
    code = ("import sys, syncmap_tui.drafts\n"
            "print(sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.')))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
