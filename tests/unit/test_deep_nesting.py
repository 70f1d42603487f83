"""Issue #11, item 2: the deepest JSON that fits in an item (validation.DEEPEST_NESTING) is listed,
fetched, validated, shown, diffed, merged and drafted, from a Twilio-like server and from the
emulator. Before, ~980 levels made a map unlistable and ~970 crashed the conflict dialog's diff."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone

import httpx
import pytest

from syncmap_tui.drafts import Draft, decode_draft, encode_draft
from syncmap_tui.emulator import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
from syncmap_tui.emulator.app import create_app
from syncmap_tui.emulator.inprocess import emulator_transport
from syncmap_tui.emulator.store import SyncStore
from syncmap_tui.sync.auth import Credentials
from syncmap_tui.sync.client import NO_RETRY, SyncClient
from syncmap_tui.sync.errors import BadResponse
from syncmap_tui.sync.merge import diff, diff_lines, json_equal, render_path, resolve, three_way_merge
from syncmap_tui.sync.validation import (
    DEEPEST_NESTING,
    MAX_DATA_BYTES,
    check_data,
    encode_data,
    format_data,
)

BASE_URL = "http://emulator.test"


def deepest(extra: str = "", inner: str = "") -> str:
    """`{"":[[…inner…]]<extra>}` nested as deep as fits in MAX_DATA_BYTES."""
    room = MAX_DATA_BYTES - len('{"":}') - len(extra) - len(inner)
    depth = room // 2
    return '{"":' + "[" * depth + inner + "]" * depth + extra + "}"


def depth_of(value) -> int:
    depth = 0
    while isinstance(value, (dict, list)) and value:
        value = next(iter(value.values())) if isinstance(value, dict) else value[0]
        depth += 1
    return depth


DEEPEST_TEXT = deepest()


def test_the_deepest_item_is_about_eight_thousand_levels_and_fits():
    value = json.loads(DEEPEST_TEXT)
    assert depth_of(value) >= DEEPEST_NESTING - 3 >= 8_000
    assert len(encode_data(value).encode()) <= MAX_DATA_BYTES


def test_validation_takes_the_deepest_item_and_shows_it_small():
    check = check_data(DEEPEST_TEXT)
    assert check.error is None, check.error
    shown = format_data(check.value)
    # Indented at the top, one line below: about the wire size, not 134 MB.
    assert len(shown) < 2 * MAX_DATA_BYTES
    assert json.loads(shown) == check.value
    assert check_data(shown).error is None


def test_validation_in_a_fresh_thread_takes_the_deepest_item():
    # Threads get their C stack when they start: asyncio.to_thread's and the emulator's workers.
    outcome = []
    thread = threading.Thread(target=lambda: outcome.append(check_data(DEEPEST_TEXT).error is None and format_data(json.loads(DEEPEST_TEXT))))
    thread.start()
    thread.join()
    assert outcome and outcome[0]


def test_deeper_than_any_item_is_a_message_not_a_crash():
    check = check_data("[" * 1_000_000 + "]" * 1_000_000)
    assert check.error is not None and "deeply" in check.error.message


def test_merge_diff_resolve_and_equality_at_the_deepest_level():
    base = json.loads(deepest(extra=',"a":1', inner="1"))
    mine = json.loads(deepest(extra=',"a":2', inner="1"))
    theirs = json.loads(deepest(extra=',"a":1', inner="3"))
    assert json_equal(base, json.loads(json.dumps(base))) and not json_equal(base, theirs)
    assert [len(change.path) for change in diff(base, theirs)] == [depth_of(base)]
    lines = diff_lines(theirs, mine)
    assert len(lines) == 2 and all(len(line.text) < 300 for line in lines)  # the path shows its ends
    merged = three_way_merge(base, mine, theirs)
    assert not merged.conflicts and json_equal(merged.merged, json.loads(deepest(extra=',"a":2', inner="3")))
    conflicted = three_way_merge(base, mine, json.loads(deepest(extra=',"a":3', inner="1")))
    (conflict,) = conflicted.conflicts
    assert json_equal(resolve(conflicted, {conflict.path: "theirs"}), json.loads(deepest(extra=',"a":3', inner="1")))


def test_a_long_path_shows_its_ends_and_how_many_levels_are_left_out():
    path = ("",) + (0,) * 8000
    assert render_path(path) == '$[""][0][0][0][0][0][0][0]…(7,985 more levels)…' + "[0]" * 8


def test_a_draft_of_the_deepest_item_round_trips_and_its_base_parses():
    draft = Draft(
        account_sid="AC" + "1" * 32, base_url=BASE_URL, target_label="t", service_sid="IS" + "0" * 32,
        map_sid="MP" + "0" * 32, key="deep", base_revision="3", text=DEEPEST_TEXT, item_ttl="", collection_ttl="",
        base_data=DEEPEST_TEXT, saved_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
    )
    again = decode_draft(encode_draft(draft))
    assert again.text == DEEPEST_TEXT and json.loads(again.base_data) == json.loads(DEEPEST_TEXT)


async def test_the_client_lists_and_fetches_the_deepest_item_from_the_emulator():
    with SyncStore(":memory:") as store:
        app = create_app(store, account_sid=DEFAULT_ACCOUNT_SID, auth_token=DEFAULT_AUTH_TOKEN)
        credentials = Credentials.auth_token(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN)
        async with SyncClient(credentials, base_url=BASE_URL, transport=emulator_transport(app), retry=NO_RETRY) as client:
            service = await client.create_service(unique_name="svc")
            sync_map = await client.create_map(service.sid, unique_name="map")
            value = json.loads(DEEPEST_TEXT)
            await client.create_item(service.sid, sync_map.sid, "deep", value)
            await client.create_item(service.sid, sync_map.sid, "plain", {"a": 1})
            page = await client.list_item_page(service.sid, sync_map.sid, page_size=100)
            assert [item.key for item in page.records] == ["deep", "plain"]
            assert json_equal(page.records[0].data, value)
            fetched = await client.fetch_item(service.sid, sync_map.sid, "deep")
            updated = await client.update_item(service.sid, sync_map.sid, "deep", data=value, if_match=fetched.revision)
            assert json_equal(updated.data, value)


async def test_the_client_lists_the_deepest_item_from_twilio_and_calls_deeper_a_bad_answer():
    fields = {
        "key": "deep", "account_sid": "AC" + "1" * 32, "service_sid": "IS" + "0" * 32, "map_sid": "MP" + "0" * 32,
        "url": "https://sync.twilio.com/v1/Services/IS/Maps/MP/Items/deep", "revision": "0", "date_expires": None,
        "date_created": "2025-03-04T05:06:07Z", "date_updated": "2025-03-04T05:06:07Z", "created_by": "system",
    }
    deep_item = json.dumps(fields)[:-1] + ',"data":' + DEEPEST_TEXT + "}"
    page = '{"items":[' + deep_item + '],"meta":{"next_page_url":null,"page_size":50}}'
    hostile = '{"items":' + "[" * 200_000 + "]" * 200_000 + ',"meta":{}}'

    def answer(request: httpx.Request) -> httpx.Response:
        body = hostile if request.url.params.get("PageSize") == "1" else page
        return httpx.Response(200, content=body.encode(), headers={"content-type": "application/json"})

    credentials = Credentials.auth_token("AC" + "1" * 32, "token")
    async with SyncClient(credentials, base_url="https://sync.twilio.com", transport=httpx.MockTransport(answer), retry=NO_RETRY) as client:
        listed = await client.list_item_page("IS" + "0" * 32, "MP" + "0" * 32, page_size=50)
        assert json_equal(listed.records[0].data, json.loads(DEEPEST_TEXT))
        with pytest.raises(BadResponse):
            await client.list_item_page("IS" + "0" * 32, "MP" + "0" * 32, page_size=1)


def test_a_small_stack_meets_a_message_not_a_segfault():
    """`ulimit -s 1024` (soft and hard): the recursion limit follows the stack, so the deepest item
    is reported as nested too deeply instead of overflowing the C stack (exit 139 before)."""
    import resource
    import subprocess
    import sys

    def small_stack() -> None:
        resource.setrlimit(resource.RLIMIT_STACK, (1024 * 1024, 1024 * 1024))

    script = (
        "import json, sys\n"
        "from syncmap_tui.sync.validation import check_data\n"
        "from syncmap_tui.sync.merge import json_equal\n"
        "text = sys.stdin.read()\n"
        "print(check_data(text).error.message)\n"
        "try:\n"
        "    json_equal(json.loads(text), json.loads(text))\n"
        "except RecursionError:\n"
        "    print('RecursionError')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], input=DEEPEST_TEXT, capture_output=True, text=True,
        preexec_fn=small_stack, timeout=60,
    )
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.split("\n")[:2] == ["JSON is nested too deeply", "RecursionError"]
