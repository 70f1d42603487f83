"""Conditional undo against the emulator: undo of a save and restore of a version write only on the
revision the server has now; anyone's later write opens the conflict view and nothing is written.
Undo delete brings back data and the TTL left, and never replaces an item created since."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from session_support import open_session

from syncmap_tui.sync.errors import AlreadyExists, ItemNotFound, ServerError
from syncmap_tui.sync.undo import ExpiredMeanwhile, recreate_deleted, remaining_ttl

KEY = "order-7"


async def _saved(world, client, data):
    """Open KEY, save `data`: (session, buffer, prompter, the version saved over, the save)."""
    item = await world.fetch(KEY)
    session, buffer, prompter = open_session(world, client, item)
    buffer.type(data)
    assert await session.save()
    return session, buffer, prompter, item, session.base


async def test_undo_of_a_save_nobody_followed_writes_the_previous_data_on_the_current_revision(world, client) -> None:
    session, buffer, prompter, before, saved = await _saved(world, client, {"status": "paid", "total": 10})
    assert await session.write_version(before.data, saved, "Undo last save")
    server = (await world.fetch(KEY))
    assert server.revision == "2" and server.data == before.data
    assert prompter.kinds() == []


async def test_undo_after_someone_else_wrote_opens_the_conflict_view_and_writes_nothing(world, client) -> None:
    session, buffer, prompter, before, saved = await _saved(world, client, {"status": "paid", "total": 10})
    world.put(KEY, {"status": "paid", "total": 12})  # another writer, after my save
    prompter.conflicts.append("back")
    assert not await session.write_version(before.data, saved, "Undo last save")
    assert prompter.kinds() == ["conflict"]
    view = prompter.asked[0][1]
    assert (view.base.revision, view.theirs.revision, view.mine_data) == ("1", "2", before.data)
    server = (await world.fetch(KEY))
    assert server.revision == "2" and server.data == {"status": "paid", "total": 12}


async def test_undo_merged_with_a_later_change_reverts_mine_and_keeps_theirs(world, client) -> None:
    session, buffer, prompter, before, saved = await _saved(world, client, {"status": "paid", "total": 10})
    world.put(KEY, {"status": "paid", "total": 12})
    prompter.conflicts.append("merge")
    assert await session.write_version(before.data, saved, "Undo last save")
    assert (await world.fetch(KEY)).data == {"status": "new", "total": 12}


async def test_a_write_between_the_check_and_the_undo_meets_412_not_a_silent_overwrite(world, client) -> None:
    session, buffer, prompter, before, saved = await _saved(world, client, {"status": "paid", "total": 10})
    real_fetch = client.fetch_item

    async def fetch_then_someone_writes(*args, **kwargs):
        current = await real_fetch(*args, **kwargs)
        if not prompter.asked:
            world.put(KEY, {"status": "shipped", "total": 10})
        return current

    client.fetch_item = fetch_then_someone_writes
    prompter.conflicts.append("back")
    assert not await session.write_version(before.data, saved, "Undo last save")
    assert prompter.kinds() == ["conflict"]
    assert (await world.fetch(KEY)).data == {"status": "shipped", "total": 10}


async def test_restore_of_a_version_refuses_over_an_unsaved_edit(world, client) -> None:
    session, buffer, prompter, before, saved = await _saved(world, client, {"status": "paid", "total": 10})
    buffer.type({"status": "typing"})
    assert not await session.write_version(before.data, session.base, "Restore version")
    assert prompter.said("Save or undo your changes first")
    assert (await world.fetch(KEY)).revision == "1"


async def test_restore_refuses_in_read_only(world) -> None:
    async with world.client(read_only=True) as client:
        item = await world.fetch(KEY)
        session, buffer, prompter = open_session(world, client, item, read_only=True)
        assert not await session.write_version({"a": 1}, item, "Restore version")
    assert (await world.fetch(KEY)).revision == "0"


async def test_undo_delete_brings_back_data_and_the_ttl_left(world, client, clock) -> None:
    created = await client.create_item(world.service_sid, world.map_sid, "short", {"a": 1}, item_ttl=600)
    await client.delete_item(world.service_sid, world.map_sid, "short", if_match=created.revision)
    clock.tick(100)
    back = await recreate_deleted(client, world.service_sid, world.map_sid, "short", created.data, created.date_expires, clock())
    assert back.data == {"a": 1} and back.date_expires == created.date_expires


async def test_undo_delete_of_a_key_that_exists_again_writes_nothing(world, client, clock) -> None:
    deleted = await world.fetch(KEY)
    await client.delete_item(world.service_sid, world.map_sid, KEY, if_match=deleted.revision)
    world.put(KEY, {"someone": "else"})
    with pytest.raises(AlreadyExists):
        await recreate_deleted(client, world.service_sid, world.map_sid, KEY, deleted.data, None, clock())
    assert (await world.fetch(KEY)).data == {"someone": "else"}


async def test_undo_delete_conflict_view_shows_the_new_item_against_the_deleted_data(world, client) -> None:
    deleted = await world.fetch(KEY)
    await client.delete_item(world.service_sid, world.map_sid, KEY, if_match=deleted.revision)
    world.put(KEY, {"someone": "else"})
    current = await world.fetch(KEY)
    session, buffer, prompter = open_session(world, client, current)
    prompter.conflicts.append("back")
    assert not await session.write_version(deleted.data, session.base, "Undo delete", ask=True)
    assert prompter.kinds() == ["conflict"]
    assert prompter.asked[0][1].mine_data == deleted.data
    assert (await world.fetch(KEY)).data == {"someone": "else"}


def test_remaining_ttl_rounds_up_and_refuses_a_passed_expiry(clock) -> None:
    assert remaining_ttl(None, clock()) is None
    assert remaining_ttl(clock() + timedelta(seconds=10.2), clock()) == 11
    with pytest.raises(ExpiredMeanwhile):
        remaining_ttl(clock() - timedelta(seconds=1), clock())


async def test_the_history_hook_sees_loaded_saved_and_conflict_versions(world, client) -> None:
    item = await world.fetch(KEY)
    seen = []
    from session_support import FakeBuffer, FakePrompter
    from syncmap_tui.sync.session import EditSession
    from syncmap_tui.sync.validation import format_data

    buffer, prompter = FakeBuffer(text=format_data(item.data), base=item), FakePrompter()
    session = EditSession(
        client, world.service_sid, world.map_sid, item, buffer, prompter, now=world.clock,
        seen=lambda version, how, replaced=None: seen.append((version.revision, how, replaced and replaced.revision)),
    )
    buffer.type({"status": "paid"})
    assert await session.save()
    world.put(KEY, {"status": "x"})
    buffer.type({"status": "paid", "more": 1})
    prompter.conflicts.append("back")
    await session.save()
    assert seen == [("0", "loaded", None), ("1", "saved", "0"), ("2", "conflict", None)]


async def test_undo_of_a_save_that_set_an_expiry_takes_the_expiry_back(world, client) -> None:
    item = await world.fetch(KEY)
    session, buffer, prompter = open_session(world, client, item)
    buffer.item_ttl = "60"  # a TTL-only save: the item would vanish in a minute
    assert await session.save()
    assert (await world.fetch(KEY)).date_expires is not None
    assert await session.write_version(item.data, session.base, "Undo last save", item_ttl=0)
    server = await world.fetch(KEY)
    assert server.date_expires is None and server.data == item.data and server.revision == "2"


async def test_undo_of_a_save_whose_item_was_deleted_since_asks_before_recreating(world, client) -> None:
    session, buffer, prompter, before, saved = await _saved(world, client, {"status": "paid", "total": 10})
    await client.delete_item(world.service_sid, world.map_sid, KEY, if_match=saved.revision)
    prompter.deleted.append("back")
    assert not await session.write_version(before.data, saved, "Undo last save")
    assert prompter.kinds() == ["deleted"]
    with pytest.raises(ItemNotFound):
        await world.fetch(KEY)  # nothing was written: the user went back
    assert json.loads(buffer.text) == before.data  # the undo's data waits in the editor


async def test_undo_that_cannot_read_the_server_writes_nothing_and_says_so(world, client) -> None:
    session, buffer, prompter, before, saved = await _saved(world, client, {"status": "paid", "total": 10})

    async def server_down(*args, **kwargs):
        raise ServerError("Service Unavailable", status=503)

    client.fetch_item = server_down
    assert not await session.write_version(before.data, saved, "Undo last save")
    assert prompter.said("Undo last save failed: nothing was written")
    assert (await world.fetch(KEY)).data == {"status": "paid", "total": 10}


async def test_restore_of_the_data_the_server_already_holds_writes_nothing(world, client) -> None:
    session, buffer, prompter, before, saved = await _saved(world, client, {"status": "paid", "total": 10})
    assert await session.write_version(saved.data, saved, "Restore version")
    assert prompter.said("nothing to write") and (await world.fetch(KEY)).revision == saved.revision
