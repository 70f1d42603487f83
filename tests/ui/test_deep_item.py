"""Issue #11, item 2, through the app: the deepest item that fits opens, is edited, drafted, meets
a conflict and merges. Before, ~970 levels crashed the conflict dialog (RecursionError)."""

from __future__ import annotations

import json

import pytest

from syncmap_tui.drafts import DraftStore
from syncmap_tui.sync.merge import json_equal
from syncmap_tui.sync.validation import MAX_DATA_BYTES
from syncmap_tui.ui.dialogs.conflict import ConflictDialog

from .helpers import SIZE, SERVICE, answer, main_screen, settle, wait_until


def deepest(extra: str = "", inner: str = "") -> str:
    """`{"":[[…inner…]]<extra>}` nested as deep as fits in MAX_DATA_BYTES (as in tests/unit/test_deep_nesting.py)."""
    depth = (MAX_DATA_BYTES - len('{"":}') - len(extra) - len(inner)) // 2
    return '{"":' + "[" * depth + inner + "]" * depth + extra + "}"


@pytest.mark.long
async def test_the_deepest_item_opens_edits_drafts_conflicts_and_merges(build_app, other_writer):
    sid = (await other_writer.fetch_map(SERVICE, "orders")).sid
    base = json.loads(deepest(extra=',"a":1', inner="1"))
    await other_writer.create_item(SERVICE, sid, "deep", base)
    app = build_app(SERVICE, "orders", "deep")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main = main_screen(pilot)
        editor = main.editor
        assert json_equal(json.loads(editor.text), base) and len(editor.text) < 2 * MAX_DATA_BYTES
        # An edit by keys: a space after the opening brace, then "a" changed in the text.
        editor.json_area.move_cursor((0, 1))
        await pilot.press("space")
        editor.replace_text(editor.text.replace('"a": 1', '"a": 2'))
        await pilot.pause()
        assert editor.is_dirty and editor.check.error is None
        # The space and the replacement are two checkpoints: under load the first can be what is
        # on disk when we first look, so wait for the second.
        def drafted_two() -> bool:
            drafts = DraftStore().load_all()
            return len(drafts) == 1 and json.loads(drafts[0].text)["a"] == 2

        await wait_until(pilot, drafted_two, what="the draft of the edit on disk")
        (draft,) = DraftStore().load_all()
        assert json_equal(json.loads(draft.base_data), base)

        theirs = json.loads(deepest(extra=',"a":1', inner="3"))
        await other_writer.update_item(SERVICE, sid, "deep", data=theirs, if_match=None)
        await pilot.press("ctrl+s")
        await answer(pilot, ConflictDialog, "merge")
        await settle(pilot)
        merged = json.loads(deepest(extra=',"a":2', inner="3"))
        server = await other_writer.fetch_item(SERVICE, sid, "deep")
        assert json_equal(server.data, merged) and json_equal(json.loads(editor.text), merged)
        assert not editor.is_dirty and DraftStore().load_all() == []
        assert app._exception is None
