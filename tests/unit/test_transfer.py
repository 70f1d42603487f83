"""Export and import of a map (syncmap_tui.transfer) against the in-process emulator."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from session_support import Clock

from syncmap_tui.emulator import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
from syncmap_tui.emulator.app import create_app
from syncmap_tui.emulator.faults import RateLimit
from syncmap_tui.emulator.inprocess import emulator_transport
from syncmap_tui.emulator.store import SyncStore
from syncmap_tui.sync.auth import Credentials
from syncmap_tui.sync.client import NO_RETRY, SyncClient
from syncmap_tui.sync.merge import json_equal
from syncmap_tui.sync.validation import MAX_DATA_BYTES, encode_data
from syncmap_tui.transfer import (
    ExportFileError,
    Importer,
    data_fingerprint,
    export_map,
    read_export,
)

HOSTILE_KEYS = ["a/b?c#d", "..", ".", "with space", "\x1b[31mred", "\u202efdp.exe", "ключ-🔑", "%2F", "k" * 320]


class Emulator:
    """One in-process emulator with a service and two maps, "a" and "b", on a clock the test moves."""

    def __init__(self, store: SyncStore, clock: Clock, rate_limit: RateLimit | None = None) -> None:
        self.store, self.clock = store, clock
        self.app = create_app(store, account_sid=DEFAULT_ACCOUNT_SID, auth_token=DEFAULT_AUTH_TOKEN,
                              rate_limit=rate_limit)
        self.service = store.create_service(DEFAULT_ACCOUNT_SID, unique_name="svc")
        self.maps = {name: store.create_map(DEFAULT_ACCOUNT_SID, self.service.sid, unique_name=name) for name in "ab"}
        self.writes = 0

    def client(self) -> SyncClient:
        return SyncClient(Credentials.auth_token(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN), base_url="http://emulator.test",
                          transport=emulator_transport(self.app), retry=NO_RETRY)

    def put(self, map_name: str, key: str, data: dict, ttl: int = 0) -> None:
        self.store.create_item(DEFAULT_ACCOUNT_SID, self.service.sid, self.maps[map_name].sid, key, encode_data(data), ttl=ttl)

    def change(self, map_name: str, key: str, data: dict) -> None:
        self.store.update_item(DEFAULT_ACCOUNT_SID, self.service.sid, self.maps[map_name].sid, key, data=encode_data(data))

    def delete(self, map_name: str, key: str) -> None:
        self.store.delete_item(DEFAULT_ACCOUNT_SID, self.service.sid, self.maps[map_name].sid, key)

    def items(self, map_name: str) -> dict:
        sync_map = self.store.get_map(DEFAULT_ACCOUNT_SID, self.service.sid, self.maps[map_name].sid)
        records = self.store.list_items(sync_map, limit=100_000)
        return {r.key: r for r in records}

    def data(self, map_name: str) -> dict:
        return {key: json.loads(record.data) for key, record in self.items(map_name).items()}

    async def export(self, map_name: str = "a") -> bytes:
        out = io.StringIO()
        async with self.client() as client:
            service = await client.fetch_service(self.service.sid)
            sync_map = await client.fetch_map(self.service.sid, self.maps[map_name].sid)
            await export_map(client, service, sync_map, out.write, now=self.clock())
        return out.getvalue().encode("utf-8")

    async def import_(self, file: bytes, map_name: str = "b", *, stop_after: int | None = None, sleep=None, **options):
        header, items = read_export(io.BytesIO(file))
        async with self.client() as client:
            extra = {"sleep": sleep} if sleep is not None else {}
            importer = Importer(client, self.service.sid, self.maps[map_name].sid, header=header,
                                now=self.clock, **options, **extra)
            await importer.read_map()
            if stop_after is not None:
                items = (item for n, item in enumerate(items) if n < stop_after)
            return await importer.run(items)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def emulator(clock):
    with SyncStore(":memory:", clock=clock) as store:
        yield Emulator(store, clock)


def big_data(size: int = MAX_DATA_BYTES) -> dict:
    """An item whose wire form is exactly `size` bytes, with characters of 1 to 4 UTF-8 bytes."""
    data = {"t": "é🔑\x1b\u009b" * 10}
    pad = size - len(encode_data(data).encode("utf-8")) - len(',"p":""')
    data["p"] = "x" * pad
    assert len(encode_data(data).encode("utf-8")) == size
    return data


async def test_a_round_trip_between_two_maps_keeps_keys_data_and_ttls(emulator, clock):
    expected = {}
    for index, key in enumerate(HOSTILE_KEYS):
        expected[key] = {"n": index, "nested": {"x": [1, 1.0, True, None, -0.0]}, "esc": "\x1b]52;c;AAAA\x07\u009b"}
        emulator.put("a", key, expected[key], ttl=0 if index % 2 else 3600 + index)
    expected["big"] = big_data()
    emulator.put("a", "big", expected["big"], ttl=50)
    source = emulator.items("a")

    exported = await emulator.export("a")
    clock.tick(7)  # the file waits a while before it is imported: the TTLs left are shorter
    summary = await emulator.import_(exported, "b")

    assert summary.ok and summary.created == len(expected) and not summary.restore
    copied = emulator.items("b")
    assert set(copied) == set(expected)
    for key, record in copied.items():
        assert json_equal(json.loads(record.data), expected[key]), key
        assert json.loads(record.data) == expected[key]
        if source[key].date_expires is None:
            assert record.date_expires is None
        else:
            assert abs(record.date_expires - source[key].date_expires) <= 1, key


async def test_the_file_holds_no_raw_control_character_and_reads_back_the_same(emulator):
    emulator.put("a", "\x1b[2J", {"v": "\x1b[31m\u009b\u202e\x7f"})
    exported = await emulator.export("a")
    text = exported.decode("utf-8")
    assert not any(ch in text for ch in "\x1b\u009b\u202e\x7f")
    header, items = read_export(io.BytesIO(exported))
    (item,) = list(items)
    assert header is not None and header.map_sid == emulator.maps["a"].sid
    assert item.key == "\x1b[2J" and item.data == {"v": "\x1b[31m\u009b\u202e\x7f"}


async def test_expired_items_are_skipped_and_counted(emulator, clock):
    emulator.put("a", "short", {"v": 1}, ttl=5)
    emulator.put("a", "long", {"v": 2}, ttl=500)
    exported = await emulator.export("a")
    clock.tick(60)
    summary = await emulator.import_(exported, "b")
    assert (summary.expired, summary.created) == (1, 1)
    assert set(emulator.items("b")) == {"long"}


async def test_an_interrupted_import_run_again_neither_duplicates_nor_clobbers(emulator):
    for n in range(30):
        emulator.put("a", f"k{n:02}", {"n": n})
    exported = await emulator.export("a")
    first = await emulator.import_(exported, "b", stop_after=12)
    assert first.created == 12
    emulator.change("b", "k03", {"n": "changed by someone after the interruption"})

    again = await emulator.import_(exported, "b")

    assert (again.created, again.unchanged, again.skipped, again.failed) == (18, 11, 1, 0)
    data = emulator.data("b")
    assert len(data) == 30
    assert data["k03"] == {"n": "changed by someone after the interruption"}
    assert all(emulator.items("b")[f"k{n:02}"].revision == (1 if n == 3 else 0) for n in range(30))


async def test_conflicts_in_another_map_follow_on_conflict(emulator):
    for key in ("1-same", "2-other", "3-later"):
        emulator.put("a", key, {"from": "file", "key": key})
    emulator.put("b", "1-same", {"key": "1-same", "from": "file"})  # equal data, other key order
    emulator.put("b", "2-other", {"from": "theirs"})
    exported = await emulator.export("a")

    skipped = await emulator.import_(exported, "b")
    assert (skipped.unchanged, skipped.skipped, skipped.created, skipped.ok) == (1, 1, 1, True)
    assert emulator.data("b")["2-other"] == {"from": "theirs"}

    emulator.delete("b", "3-later")
    failed = await emulator.import_(exported, "b", on_conflict="fail")
    assert failed.stopped_at == "2-other" and not failed.ok
    assert "3-later" not in emulator.data("b"), "nothing after the stop is applied"

    overwritten = await emulator.import_(exported, "b", on_conflict="overwrite")
    assert (overwritten.updated, overwritten.created, overwritten.unchanged) == (1, 1, 1)
    assert emulator.data("b")["2-other"] == {"from": "file", "key": "2-other"}


async def test_overwrite_keeps_a_change_made_during_the_import(emulator):
    emulator.put("a", "k", {"from": "file"})
    emulator.put("b", "k", {"from": "before"})
    exported = await emulator.export("a")
    header, items = read_export(io.BytesIO(exported))
    async with emulator.client() as client:
        importer = Importer(client, emulator.service.sid, emulator.maps["b"].sid, header=header,
                            on_conflict="overwrite", now=emulator.clock)
        await importer.read_map()
        emulator.change("b", "k", {"from": "someone, during the import"})
        summary = await importer.run(items)
    assert summary.failed == 1 and summary.updated == 0 and "during the import" in summary.problems[0]
    assert emulator.data("b")["k"] == {"from": "someone, during the import"}


async def test_a_create_that_meets_an_item_created_meanwhile_compares_with_it(emulator):
    emulator.put("a", "k", {"v": 1})
    emulator.put("a", "j", {"v": 2})
    exported = await emulator.export("a")
    header, items = read_export(io.BytesIO(exported))
    async with emulator.client() as client:
        importer = Importer(client, emulator.service.sid, emulator.maps["b"].sid, header=header, now=emulator.clock)
        await importer.read_map()
        emulator.put("b", "j", {"v": 2})
        emulator.put("b", "k", {"v": "theirs"})
        summary = await importer.run(items)
    assert (summary.unchanged, summary.skipped, summary.created, summary.failed) == (1, 1, 0, 0)
    assert emulator.data("b") == {"j": {"v": 2}, "k": {"v": "theirs"}}


async def test_a_restore_recreates_deleted_items_and_keeps_later_changes(emulator):
    for key in ("kept", "deleted", "changed"):
        emulator.put("a", key, {"key": key})
    exported = await emulator.export("a")
    emulator.delete("a", "deleted")
    emulator.change("a", "changed", {"key": "changed", "by": "someone after the export"})

    summary = await emulator.import_(exported, "a", on_conflict="overwrite")

    assert summary.restore
    assert (summary.created, summary.unchanged, summary.skipped, summary.updated) == (1, 1, 1, 0)
    assert emulator.data("a")["changed"] == {"key": "changed", "by": "someone after the export"}
    assert emulator.data("a")["deleted"] == {"key": "deleted"}


def edited(exported: bytes, key: str, data: dict) -> bytes:
    """The export with one item's data changed, as `jq` would: the rest of the line kept."""
    lines = exported.split(b"\n")
    for index, line in enumerate(lines[1:], 1):
        if line and json.loads(line)["key"] == key:
            lines[index] = json.dumps({**json.loads(line), "data": data}).encode()
    return b"\n".join(lines)


async def test_a_restore_applies_an_edited_file_to_items_still_as_exported(emulator):
    emulator.put("a", "k", {"v": "exported"})
    file = edited(await emulator.export("a"), "k", {"v": "fixed in the file"})
    summary = await emulator.import_(file, "a")
    assert summary.restore and summary.updated == 1
    assert emulator.data("a")["k"] == {"v": "fixed in the file"}


async def test_a_restore_never_writes_over_an_item_deleted_and_created_again(emulator, clock):
    emulator.put("a", "k", {"v": "exported"})
    file = edited(await emulator.export("a"), "k", {"v": "fixed in the file"})
    clock.tick(5)
    emulator.delete("a", "k")
    emulator.put("a", "k", {"v": "someone's new item"})  # revision "0" again, as in the file
    assert emulator.items("a")["k"].revision == 0
    summary = await emulator.import_(file, "a")
    assert (summary.updated, summary.skipped) == (0, 1)
    assert emulator.data("a")["k"] == {"v": "someone's new item"}


async def test_a_dry_run_sends_no_write(emulator):
    emulator.put("a", "new", {"v": 1})
    emulator.put("a", "other", {"v": 1})
    emulator.put("b", "other", {"v": 2})
    exported = await emulator.export("a")
    summary = await emulator.import_(exported, "b", dry_run=True, on_conflict="overwrite")
    assert (summary.created, summary.updated) == (1, 1)
    assert emulator.data("b") == {"other": {"v": 2}}
    assert "would be created" in "\n".join(summary.lines())


async def test_writes_refused_with_429_are_sent_again_after_retry_after(clock):
    now = [0.0]
    limit = RateLimit(per_second=1, burst_seconds=1, clock=lambda: now[0])
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    with SyncStore(":memory:", clock=clock) as store:
        emulator = Emulator(store, clock, rate_limit=limit)
        for n in range(5):
            emulator.put("a", f"k{n}", {"n": n})
        exported = await emulator.export("a")
        summary = await emulator.import_(exported, "b", sleep=sleep)
        assert summary.ok and summary.created == 5
        assert len(emulator.data("b")) == 5
    assert waits and all(wait >= 1 for wait in waits)


def test_the_fingerprint_is_json_equality():
    cases = [
        ({"a": 1}, {"a": 1.0}), ({"a": True}, {"a": 1}), ({"a": 0.0}, {"a": -0.0}),
        ({"a": 1, "b": 2}, {"b": 2, "a": 1}), ({"a": [1, 2]}, {"a": [2, 1]}), ({"a": None}, {}),
        ({"a": float("nan")}, {"a": float("nan")}), ({"a": "é"}, {"a": "e\u0301"}),
    ]
    for left, right in cases:
        assert (data_fingerprint(left) == data_fingerprint(right)) == json_equal(left, right), (left, right)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b'{"key":"k"}\n', "'data' is not a JSON object"),
        (b'{"key":"","data":{}}\n', "must not be empty"),
        (b'{"key":"k","data":{},"date_expires":"tomorrow"}\n', "not a Twilio datetime"),
        (b'[1]\n', "not a JSON object"),
        (b'{"format":"something else"}\n', "not a syncmap-tui export"),
        (b'{"format":"syncmap-tui map export","version":2}\n', "version 2"),
        (b'{"key":"k","data":{"p":"' + b"x" * MAX_DATA_BYTES + b'"}}\n', "16,384"),
        (b'\xff\n', "not UTF-8"),
    ],
)
def test_a_file_that_is_not_an_export_is_refused_with_its_line(content, problem):
    is_header = content.startswith(b'{"format"')  # a header is only ever the first line
    with pytest.raises(ExportFileError) as raised:
        header, items = read_export(io.BytesIO(content if is_header else b'{"key":"fine","data":{}}\n' + content))
        list(items)
    assert f"line {1 if is_header else 2}:" in raised.value.message and problem in raised.value.message


def test_an_items_only_file_has_no_header():
    header, items = read_export(io.BytesIO(b'{"key":"a","data":{"v":1}}\n\n{"key":"b","data":{}}\n'))
    assert header is None and [item.key for item in items] == ["a", "b"]


async def test_import_into_another_account_or_server_is_not_a_restore(emulator):
    emulator.put("a", "k", {"v": 1})
    exported = await emulator.export("a")
    record = json.loads(exported.split(b"\n")[0])
    record["base_url"] = "https://sync.twilio.com"
    moved = json.dumps(record).encode() + b"\n" + exported.split(b"\n", 1)[1]
    emulator.change("a", "k", {"v": 2})
    emulator.change("a", "k", {"v": 1, "x": 1})
    summary = await emulator.import_(moved, "a", on_conflict="overwrite")
    assert not summary.restore and summary.updated == 1


async def test_the_round_trip_keeps_a_ttl_within_a_second_after_time_passes(emulator, clock):
    emulator.put("a", "k", {"v": 1}, ttl=100)
    exported = await emulator.export("a")
    clock.now += timedelta(seconds=30, milliseconds=400)
    await emulator.import_(exported, "b")
    source, copy = emulator.items("a")["k"], emulator.items("b")["k"]
    assert abs(copy.date_expires - source.date_expires) <= 1


async def test_the_deepest_data_an_item_can_hold_round_trips(emulator):
    from syncmap_tui.sync.validation import DEEPEST_NESTING

    deep: dict = {"": []}
    node = deep[""]
    for _ in range(DEEPEST_NESTING - 4):  # `{"":` and `}` take 5 bytes, each level 2
        node.append([])
        node = node[0]
    assert MAX_DATA_BYTES - 2 <= len(encode_data(deep)) <= MAX_DATA_BYTES
    emulator.put("a", "deep", deep)
    summary = await emulator.import_(await emulator.export("a"), "b")
    assert summary.created == 1
    assert emulator.items("b")["deep"].data == emulator.items("a")["deep"].data


async def test_the_summary_lists_the_first_problems_and_counts_the_rest(emulator):
    from syncmap_tui.transfer import MAX_PROBLEMS_LISTED

    for n in range(MAX_PROBLEMS_LISTED + 3):
        emulator.put("a", f"k{n:03}", {"from": "file"})
        emulator.put("b", f"k{n:03}", {"from": "theirs"})
    summary = await emulator.import_(await emulator.export("a"), "b")
    lines = summary.lines()
    assert summary.skipped == MAX_PROBLEMS_LISTED + 3 and len(summary.problems) == MAX_PROBLEMS_LISTED
    assert lines[-1] == "  … and 3 more." and lines[0].startswith("Finished the import:")
    preview = await emulator.import_(await emulator.export("a"), "a", dry_run=True)
    assert preview.lines()[0].startswith("Dry run of the restore into the map the file came from:")


async def test_without_its_first_line_a_file_overwrites_later_changes_only_when_asked(emulator):
    emulator.put("a", "k", {"v": "exported"})
    items_only = (await emulator.export("a")).split(b"\n", 1)[1]
    emulator.change("a", "k", {"v": "changed later"})
    kept = await emulator.import_(items_only, "a")
    assert not kept.restore and kept.skipped == 1 and emulator.data("a")["k"] == {"v": "changed later"}
    overwritten = await emulator.import_(items_only, "a", on_conflict="overwrite")
    assert overwritten.updated == 1 and emulator.data("a")["k"] == {"v": "exported"}
