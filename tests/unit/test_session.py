"""The headless edit session against the in-process emulator, with a fake editor and fake dialogs."""

from __future__ import annotations

import asyncio

import pytest
from datetime import timedelta

from session_support import T0, FakeBuffer, FakePrompter, open_session

from syncmap_tui.emulator.faults import WRITE_METHODS
from syncmap_tui.sync.models import MapItem, format_datetime
from syncmap_tui.sync.session import EditSession, is_later_version, same_item
from syncmap_tui.sync.validation import format_data

KEY = "order-1"


@pytest.fixture
async def other(world):
    async with world.client() as other:
        yield other


async def open_key(world, client, key=KEY, **options):
    item = await client.fetch_item(world.service_sid, world.map_sid, key)
    return open_session(world, client, item, **options)


def server_data(world, key=KEY):
    import json

    record = world.server_item(key)
    return None if record is None else json.loads(record.data)


async def test_a_save_goes_out_with_if_match_and_moves_the_base(world, client):
    session, buffer, prompter = await open_key(world, client)
    buffer.type({"status": "paid", "total": 10})
    assert session.modified()
    assert await session.save()
    assert server_data(world) == {"status": "paid", "total": 10}
    assert session.base.revision == "1" and buffer.base.revision == "1"
    assert not session.modified() and prompter.asked == []


async def test_formatting_only_is_not_modified_and_sends_nothing(world, client):
    """Case 10: JSON-equal data with empty TTL fields is not a change a save would send."""
    session, buffer, prompter = await open_key(world, client)
    buffer.type(format_data({"total": 10, "status": "new"}, compact=True))
    assert not session.modified()
    assert not await session.save()
    assert world.server_item(KEY).revision == 0


async def test_text_typed_while_the_save_travels_stays_modified(world, client):
    """Case 3, headless: what was typed after the save was taken is not what the server holds."""
    session, buffer, prompter = await open_key(world, client)
    buffer.type({"status": "paid", "total": 10})
    world.faults.update({"latency": 0.2, "methods": WRITE_METHODS})
    saving = asyncio.create_task(session.save())
    await asyncio.sleep(0.05)
    assert session.in_flight is not None
    buffer.type({"status": "paid", "total": 10, "note": "typed meanwhile"})
    assert await saving
    assert server_data(world) == {"status": "paid", "total": 10}
    assert session.in_flight is None and session.modified()


async def test_a_second_save_while_one_travels_is_refused(world, client):
    session, buffer, prompter = await open_key(world, client)
    buffer.type({"status": "paid"})
    world.faults.update({"latency": 0.2, "methods": WRITE_METHODS})
    first = asyncio.create_task(session.save())
    await asyncio.sleep(0.05)
    assert not await session.save()
    assert prompter.said("on its way")
    assert await first
    assert world.server_item(KEY).revision == 1


async def test_a_conflict_shows_three_ways_and_overwrite_goes_out_on_theirs(world, client, other):
    session, buffer, prompter = await open_key(world, client)
    await other.update_item(world.service_sid, world.map_sid, KEY, data={"status": "shipped", "total": 10}, if_match="0")
    buffer.type({"status": "paid", "total": 10})
    prompter.conflicts.append("overwrite")
    assert await session.save()
    (kind, view), = prompter.asked
    assert kind == "conflict" and not view.recreated
    assert view.base.data == {"status": "new", "total": 10}
    assert view.theirs.data == {"status": "shipped", "total": 10} and view.theirs.revision == "1"
    assert view.mine_data == {"status": "paid", "total": 10}
    assert server_data(world) == {"status": "paid", "total": 10} and session.base.revision == "2"


async def test_overwrite_never_lands_on_a_version_the_user_was_not_shown(world, client, other):
    session, buffer, prompter = await open_key(world, client)
    await other.update_item(world.service_sid, world.map_sid, KEY, data={"status": "shipped", "total": 10}, if_match="0")
    buffer.type({"status": "paid", "total": 10})

    async def writes_while_the_dialog_is_open():
        await other.update_item(world.service_sid, world.map_sid, KEY, data={"status": "lost", "total": 99}, if_match="1")

    prompter.during = writes_while_the_dialog_is_open
    prompter.conflicts.extend(["overwrite", "back"])
    assert not await session.save()
    assert prompter.kinds() == ["conflict", "conflict"]
    assert prompter.asked[1][1].theirs.data == {"status": "lost", "total": 99}
    assert server_data(world) == {"status": "lost", "total": 99}
    assert session.behind == ("2", "0") and buffer.text == format_data({"status": "paid", "total": 10})


async def test_mine_is_read_when_the_user_answers_not_when_the_dialog_opened(world, client, other):
    session, buffer, prompter = await open_key(world, client)
    await other.update_item(world.service_sid, world.map_sid, KEY, data={"status": "shipped", "total": 10}, if_match="0")
    buffer.type({"status": "paid", "total": 10})
    prompter.during = lambda: buffer.type({"status": "paid", "total": 12})
    prompter.conflicts.append("overwrite")
    assert await session.save()
    assert server_data(world) == {"status": "paid", "total": 12}


async def test_merge_brings_their_change_in_and_saves_on_their_revision(world, client, other):
    session, buffer, prompter = await open_key(world, client)
    await other.update_item(world.service_sid, world.map_sid, KEY, data={"status": "new", "total": 10, "by": "them"}, if_match="0")
    buffer.type({"status": "paid", "total": 10})
    prompter.conflicts.append("merge")
    assert await session.save()
    assert server_data(world) == {"status": "paid", "total": 10, "by": "them"}


async def test_merge_conflicts_are_asked_and_back_keeps_the_edit(world, client, other):
    session, buffer, prompter = await open_key(world, client)
    await other.update_item(world.service_sid, world.map_sid, KEY, data={"status": "void", "total": 10}, if_match="0")
    buffer.type({"status": "paid", "total": 10})
    prompter.conflicts.append("merge")
    prompter.merges.append(None)
    assert not await session.save()
    assert server_data(world) == {"status": "void", "total": 10}
    assert buffer.text == format_data({"status": "paid", "total": 10}) and session.behind == ("1", "0")


async def test_only_the_revision_moved_to_my_data_settles_quietly(world, client, other):
    session, buffer, prompter = await open_key(world, client)
    await other.update_item(world.service_sid, world.map_sid, KEY, data={"status": "paid", "total": 10}, if_match="0")
    buffer.type({"status": "paid", "total": 10})
    assert await session.save()
    assert prompter.asked == [] and session.base.revision == "1" and not session.modified()


async def test_their_ttl_is_shown_before_mine_replaces_it(world, client, other):
    """Case 14 (flow): a TTL-only edit against a TTL-only change of theirs opens the three-way view."""
    session, buffer, prompter = await open_key(world, client)
    await other.update_item(world.service_sid, world.map_sid, KEY, item_ttl=3600, if_match="0")
    buffer.item_ttl = "60"
    prompter.conflicts.append("back")
    assert not await session.save()
    (kind, view), = prompter.asked
    assert view.mine_item_ttl == 60 and view.theirs.date_expires is not None and view.base.date_expires is None


async def test_take_theirs_keeps_the_edit_and_f4_rebases_it_on_theirs(world, client, other):
    """Case 15: a TTL-only edit, take theirs, F4: their data stays, my TTL comes back."""
    session, buffer, prompter = await open_key(world, client)
    await other.update_item(world.service_sid, world.map_sid, KEY, data={"status": "shipped", "total": 10}, if_match="0")
    buffer.item_ttl = "60"
    prompter.conflicts.append("theirs")
    assert not await session.save()
    assert session.kept is not None and session.kept.mine.item_ttl == "60"
    assert buffer.text == format_data({"status": "shipped", "total": 10}) and buffer.item_ttl == ""
    session.restore_kept()
    assert session.kept is None
    assert buffer.text == format_data({"status": "shipped", "total": 10}) and buffer.item_ttl == "60"
    assert await session.save()
    assert server_data(world) == {"status": "shipped", "total": 10}
    assert world.server_item(KEY).date_expires is not None


async def test_f4_with_a_conflicting_kept_edit_goes_through_the_conflict_view(world, client, other):
    session, buffer, prompter = await open_key(world, client)
    await other.update_item(world.service_sid, world.map_sid, KEY, data={"status": "shipped", "total": 10}, if_match="0")
    buffer.type({"status": "paid", "total": 10})
    prompter.conflicts.append("theirs")
    await session.save()
    session.restore_kept()
    assert buffer.text == format_data({"status": "paid", "total": 10})
    assert session.base.revision == "0" and session.behind == ("1", "0")
    prompter.conflicts.append("back")
    assert not await session.save()
    assert prompter.kinds() == ["conflict", "conflict"]
    assert server_data(world) == {"status": "shipped", "total": 10}


async def test_a_deleted_item_asks_and_back_keeps_the_edit(world, client, other):
    session, buffer, prompter = await open_key(world, client)
    await other.delete_item(world.service_sid, world.map_sid, KEY, if_match="0")
    buffer.type({"status": "paid"})
    prompter.deleted.append("back")
    assert not await session.save()
    assert prompter.asked == [("deleted", (KEY, False))] and session.gone
    prompter.deleted.append("recreate")
    assert await session.save()
    assert server_data(world) == {"status": "paid"}


async def test_an_expired_item_is_not_updated_blind_when_the_key_was_created_again(world, client, clock):
    """Case 11: the loaded item expired and the key was created again with revision 0: no If-Match 0."""
    world.put("short", {"v": "mine to edit"}, ttl=40)
    session, buffer, prompter = await open_key(world, client, "short")
    buffer.type({"v": "my edit"})
    clock.tick(41)
    world.put("short", {"v": "someone else's new item"})
    prompter.conflicts.append("back")
    assert not await session.save()
    (kind, view), = prompter.asked
    assert view.recreated and view.theirs.data == {"v": "someone else's new item"}
    assert server_data(world, "short") == {"v": "someone else's new item"}


async def test_recreate_after_expiry_sends_the_item_ttl(world, client, clock):
    """Case 16: a short-lived item comes back short-lived."""
    world.put("short", {"v": 1}, ttl=40)
    session, buffer, prompter = await open_key(world, client, "short")
    buffer.type({"v": 2})
    clock.tick(41)
    prompter.deleted.append("recreate")
    assert await session.save()
    assert prompter.asked == [("deleted", ("short", True))]
    record = world.server_item("short")
    assert record.date_expires is not None and record.date_expires - record.date_created == 40


async def test_a_save_that_lands_on_a_recreated_item_says_so_at_once(world, client, clock, other):
    """Identity from the save's own answer: revision 0 again, another date_created."""
    session, buffer, prompter = await open_key(world, client)
    await other.delete_item(world.service_sid, world.map_sid, KEY, if_match="0")
    clock.tick(5)
    await other.create_item(world.service_sid, world.map_sid, KEY, {"status": "theirs"})
    buffer.type({"status": "paid", "total": 10})
    assert await session.save()
    assert any(severity == "error" and "another item" in message for message, severity in prompter.told)


async def test_the_same_revision_with_other_data_is_another_item(world, client, other):
    session, buffer, prompter = await open_key(world, client)
    await other.delete_item(world.service_sid, world.map_sid, KEY, if_match="0")
    await other.create_item(world.service_sid, world.map_sid, KEY, {"status": "theirs"})  # same second
    buffer.type({"status": "paid"})
    theirs = await other.fetch_item(world.service_sid, world.map_sid, KEY)
    session.learn(theirs)
    assert session.behind == ("0", "0") and session.newer == theirs
    prompter.conflicts.append("back")
    assert not await session.review()
    assert prompter.asked[0][1].recreated


async def test_a_lost_answer_after_the_commit_is_settled_as_saved(world, client):
    session, buffer, prompter = await open_key(world, client)
    buffer.type({"status": "paid", "total": 10})
    world.faults.update({"drop_next": 1, "after_commit": True, "methods": WRITE_METHODS})
    assert await session.save()
    assert prompter.said("lost on the way") and session.base.revision == "1" and not session.modified()


async def test_a_lost_request_before_the_commit_keeps_the_edit(world, client):
    session, buffer, prompter = await open_key(world, client)
    buffer.type({"status": "paid", "total": 10})
    world.faults.update({"drop_next": 1, "methods": WRITE_METHODS})
    assert not await session.save()
    assert session.modified() and world.server_item(KEY).revision == 0
    assert await session.save()


@pytest.mark.parametrize("fault", [{"fail_next": 1}, {"fail_next": 1, "fail_status": 500}])
async def test_a_5xx_keeps_the_edit(world, client, fault):
    session, buffer, prompter = await open_key(world, client)
    buffer.type({"status": "paid"})
    world.faults.update({**fault, "methods": WRITE_METHODS})
    assert not await session.save()
    assert session.modified() and prompter.said("still has the loaded revision")


async def test_a_5xx_after_the_commit_on_an_item_created_again_is_said_at_once(world, client, clock, other):
    """Found by the state machine: a 5xx answer to a write that landed, on another item under the
    key (revision "0" again), went unreported. A 5xx is settled like a lost answer."""
    session, buffer, prompter = await open_key(world, client)
    await other.delete_item(world.service_sid, world.map_sid, KEY, if_match=None)
    clock.tick(1)
    await other.create_item(world.service_sid, world.map_sid, KEY, {"recreated": True})
    buffer.type({"status": "paid", "total": 10})
    world.faults.update({"fail_next": 1, "after_commit": True, "methods": WRITE_METHODS})
    assert await session.save()
    assert any(severity == "error" and "onto another item" in message for message, severity in prompter.told)


async def test_a_storage_error_keeps_the_edit(world, client, monkeypatch):
    import sqlite3

    session, buffer, prompter = await open_key(world, client)
    buffer.type({"status": "paid"})

    async def full_disk(*args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(client, "update_item", full_disk)
    assert not await session.save()
    assert prompter.said("the local emulator's database refused it: database or disk is full") and session.modified()


async def test_a_read_only_session_sends_nothing(world):
    async with world.client(read_only=True) as client:
        session, buffer, prompter = await open_key(world, client, read_only=True)
        buffer.type({"status": "paid"})
        assert not await session.save()
        assert prompter.said("read-only") and prompter.asked == []


async def test_learning_of_a_newer_revision_marks_the_editor_behind(world, client, other):
    """Case 7, headless: a table page or a refresh shows revision 1 while the editor has 0."""
    session, buffer, prompter = await open_key(world, client)
    theirs = await other.update_item(world.service_sid, world.map_sid, KEY, data={"status": "x"}, if_match="0")
    session.learn(theirs)
    assert session.behind == ("1", "0")
    session.learn(session.base)  # an older page changes nothing
    assert session.behind == ("1", "0")
    assert await session.review()  # no edit: their version is loaded
    assert session.behind is None and buffer.text == format_data({"status": "x"})


async def test_the_expiry_rule_uses_the_sessions_clock(world, client, clock):
    world.put("short", {"v": 1}, ttl=40)
    session, buffer, prompter = await open_key(world, client, "short")
    assert not session.expired
    clock.tick(40)
    assert session.expired


def test_same_item_never_trusts_the_revision_alone():
    def item(revision, data, created=T0):
        return MapItem("k", "AC", "IS", "MP", "u", revision, data, None, created, created, "system")

    assert same_item(item("0", {"a": 1}), item("3", {"b": 1}))
    assert not same_item(item("0", {"a": 1}), item("0", {"b": 1}))
    assert not same_item(item("0", {"a": 1}), item("4", {"a": 1}, T0 + timedelta(seconds=1)))


def test_versions_order_by_number_and_opaque_revisions_by_time():
    """Revisions are opaque (sync-api-notes.md): one that is not a number must still be seen as a
    change, or the watch and a refresh would never tell the editor that the server moved."""

    def item(revision, updated=T0):
        return MapItem("k", "AC", "IS", "MP", "u", revision, {"a": 1}, None, T0, updated, "system")

    assert is_later_version(item("10"), item("9")) and not is_later_version(item("9"), item("10"))
    assert not is_later_version(item("7"), item("7")) and not is_later_version(item("ab12"), item("ab12"))
    later = T0 + timedelta(seconds=1)
    assert is_later_version(item("f00d", later), item("beef")) and not is_later_version(item("beef"), item("f00d", later))


def test_a_session_learns_a_later_version_whose_revision_is_not_a_number():
    def item(revision, data, updated=T0):
        return MapItem("k", "AC", "IS", "MP", "u", revision, data, None, T0, updated, "system")

    base = item("rA", {"status": "new"})
    buffer = FakeBuffer(text=format_data(base.data), base=base, saved_text=format_data(base.data))
    session = EditSession(None, "IS", "MP", base, buffer, FakePrompter(), now=lambda: T0)  # type: ignore[arg-type]
    theirs = item("rB", {"status": "paid"}, T0 + timedelta(seconds=2))
    session.learn(theirs)
    assert session.newer == theirs
    session.learn(base)  # the older answer, arriving late, changes nothing
    assert session.newer == theirs


async def test_overwrite_of_a_ttl_only_edit_keeps_their_data_as_the_view_says(world, client, other):
    """The three-way view says Overwrite sends the changes from the base: a TTL-only edit leaves
    their data as it is, and the editor then shows what the server holds."""
    session, buffer, prompter = await open_key(world, client)
    await other.update_item(world.service_sid, world.map_sid, KEY, data={"status": "theirs", "total": 10}, if_match="0")
    buffer.item_ttl = "600"
    prompter.conflicts.append("overwrite")
    assert await session.save()
    assert server_data(world) == {"status": "theirs", "total": 10}
    assert world.server_item(KEY).date_expires is not None
    assert buffer.text == format_data({"status": "theirs", "total": 10}) and buffer.item_ttl == ""
    assert not session.modified()


async def test_a_draft_base_tells_a_recreated_item_by_its_creation_time(world, client, clock, other):
    from syncmap_tui.sync.session import draft_base

    loaded = await client.fetch_item(world.service_sid, world.map_sid, KEY)
    await other.delete_item(world.service_sid, world.map_sid, KEY, if_match=None)
    clock.tick(2)
    await other.create_item(world.service_sid, world.map_sid, KEY, {"status": "new", "total": 10})  # same data
    current = await client.fetch_item(world.service_sid, world.map_sid, KEY)
    base = draft_base(current, "0", format_data(loaded.data), format_datetime(loaded.date_created))
    assert not same_item(base, current)
    unknown = draft_base(current, "0", format_data({"other": 1}), None)  # format 1: no creation time
    assert not same_item(unknown, current)
    assert same_item(draft_base(current, "0", format_data(current.data), None), current)


async def test_a_second_take_theirs_never_replaces_the_kept_edit(world, client, other):
    """Found by the state machine: take theirs, type on theirs, take theirs again: the first kept
    edit was replaced (one draft slot) and lost."""
    session, buffer, prompter = await open_key(world, client)
    await other.update_item(world.service_sid, world.map_sid, KEY, data={"theirs": 1}, if_match=None)
    buffer.type({"mine": "first"})
    prompter.conflicts.append("theirs")
    await session.save()
    buffer.item_ttl = "60"
    await other.update_item(world.service_sid, world.map_sid, KEY, data={"theirs": 2}, if_match=None)
    prompter.conflicts.append("theirs")
    await session.review()
    assert session.kept is not None and session.kept.mine.text == format_data({"mine": "first"})
    assert buffer.item_ttl == "60" and session.behind == ("2", "1")
    assert prompter.said("Not taken")
