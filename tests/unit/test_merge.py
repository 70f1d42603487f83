"""The JSON-aware diff and three-way merge behind the conflict dialog (syncmap_tui.sync.merge)."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncmap_tui.sync.merge import (
    ABSENT,
    Change,
    Conflict,
    UnresolvedConflictError,
    diff,
    diff_lines,
    json_equal,
    json_text,
    render_path,
    resolve,
    three_way_merge,
)

from json_changes import apply_changes  # the test oracle (tests/unit/json_changes.py)
from property_runs import short_and_long


def value_at(doc, path):
    """The value at `path`, or ABSENT where some step is missing."""
    for step in path:
        if isinstance(doc, dict) and step in doc:
            doc = doc[step]
        elif isinstance(doc, list) and isinstance(step, int) and 0 <= step < len(doc):
            doc = doc[step]
        else:
            return ABSENT
    return doc


def same_changes(a, b):
    """Lists of changes equal as JSON sees them (Change's own == says True == 1)."""
    return len(a) == len(b) and all(
        x.path == y.path and json_equal([x.old, x.new], [y.old, y.new]) for x, y in zip(a, b)
    )


def by_path(entries):
    return sorted(entries, key=lambda entry: repr(entry.path))


def is_under(path, ancestor):
    return path[: len(ancestor)] == ancestor


def as_text(value):
    """JSON text with key order, to compare what Python's == can't see (order, True vs 1)."""
    return json.dumps(value, ensure_ascii=False)


# --- equality ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [(1, True), (0, False), (1, 1.0), (0.0, -0.0), (None, False), ("1", 1), ({}, []), (None, ABSENT)],
)
def test_json_equal_tells_apart_what_python_equates(a, b):
    assert not json_equal(a, b)
    assert not json_equal(b, a)


def test_json_equal_ignores_key_order_and_takes_nan_as_itself():
    assert json_equal({"a": 1, "b": [1.5, None]}, {"b": [1.5, None], "a": 1})
    assert json_equal(float("nan"), float("nan"))
    assert json_equal(ABSENT, ABSENT)
    assert not json_equal([1, 2], [2, 1])


# --- diff --------------------------------------------------------------------------------------


def test_diff_recurses_into_objects_in_document_order():
    old = {"a": 1, "user": {"name": "x", "age": 3}, "gone": True}
    new = {"user": {"age": 4, "name": "x", "new": None}, "a": 1, "added": [1]}
    assert diff(old, new) == [
        Change(("user", "age"), 3, 4),
        Change(("user", "new"), ABSENT, None),
        Change(("gone",), True, ABSENT),
        Change(("added",), ABSENT, [1]),
    ]
    assert [c.kind for c in diff(old, new)] == ["changed", "added", "removed", "added"]


def test_diff_is_type_aware():
    assert diff({"a": 1}, {"a": True}) == [Change(("a",), 1, True)]
    assert diff({"a": 1}, {"a": 1.0}) == [Change(("a",), 1, 1.0)]
    assert diff({"a": 0}, {"a": False}) != []
    assert diff({"a": 1}, {"a": 1}) == []


def test_diff_arrays_index_wise_only_at_the_same_length():
    assert diff({"t": [1, 2, 3]}, {"t": [1, 9, 3]}) == [Change(("t", 1), 2, 9)]
    assert diff({"t": [{"a": 1}]}, {"t": [{"a": 2}]}) == [Change(("t", 0, "a"), 1, 2)]
    # An insertion shifts the rest: one change of the whole array, not a cascade of wrong pairs.
    assert diff({"t": [1, 2, 3]}, {"t": [0, 1, 2, 3]}) == [Change(("t",), [1, 2, 3], [0, 1, 2, 3])]


def test_diff_a_change_of_type_is_one_change_at_its_path():
    assert diff({"u": {"a": 1}}, {"u": [1]}) == [Change(("u",), {"a": 1}, [1])]
    assert diff({"u": "1"}, {"u": 1}) == [Change(("u",), "1", 1)]


def test_null_and_absent_are_different_changes():
    assert diff({"a": 1}, {"a": None}) == [Change(("a",), 1, None)]
    assert diff({"a": 1}, {"a": None})[0].kind == "changed"
    assert diff({"a": 1}, {})[0].kind == "removed"
    assert diff({"a": None}, {}) == [Change(("a",), None, ABSENT)]


# --- three-way merge: the rules ----------------------------------------------------------------


def test_edits_to_different_paths_merge_at_once():
    base = {"name": "a", "user": {"age": 1, "tags": ["x", "y"]}, "n": 0}
    mine = {"name": "mine", "user": {"age": 1, "tags": ["x", "Y"]}, "n": 0}
    theirs = {"name": "a", "user": {"age": 2, "tags": ["X", "y"]}, "n": 0, "new": True}
    result = three_way_merge(base, mine, theirs)
    assert not result.conflicts
    assert result.merged == {"name": "mine", "user": {"age": 2, "tags": ["X", "Y"]}, "n": 0, "new": True}
    assert result.applied_mine == [Change(("name",), "a", "mine"), Change(("user", "tags", 1), "y", "Y")]
    assert result.applied_theirs == [
        Change(("user", "age"), 1, 2),
        Change(("user", "tags", 0), "x", "X"),
        Change(("new",), ABSENT, True),
    ]
    assert result.agreed == []


def test_the_same_edit_on_both_sides_is_not_a_conflict():
    base = {"a": 1, "b": {"c": 1}}
    both = {"a": 2, "b": {}}
    result = three_way_merge(base, both, copy.deepcopy(both))
    assert not result.conflicts
    assert result.merged == both
    assert result.agreed == [Change(("a",), 1, 2), Change(("b", "c"), 1, ABSENT)]
    assert result.applied_mine == result.applied_theirs == []


def test_different_edits_of_one_path_conflict_with_all_three_values():
    base = {"a": 1, "b": "keep", "c": 0}
    mine = {"a": 2, "b": "keep", "c": 1}
    theirs = {"a": 3, "b": "keep", "c": 0}
    result = three_way_merge(base, mine, theirs)
    assert result.conflicts == [Conflict(("a",), 1, 2, 3)]
    assert result.merged == {"a": 2, "b": "keep", "c": 1}  # mine's value until resolved
    assert resolve(result, {("a",): "theirs"}) == {"a": 3, "b": "keep", "c": 1}
    assert resolve(result, {("a",): "mine"}) == {"a": 2, "b": "keep", "c": 1}


def test_deleting_a_subtree_against_an_edit_inside_it_conflicts_at_the_subtree():
    base = {"user": {"name": "a", "age": 1}, "x": 1}
    deleted = {"x": 1}
    edited = {"user": {"name": "b", "age": 1}, "x": 1}

    result = three_way_merge(base, deleted, edited)
    assert result.conflicts == [Conflict(("user",), base["user"], ABSENT, edited["user"])]
    assert "user" not in result.merged
    assert resolve(result, {("user",): "theirs"}) == edited
    assert resolve(result, {("user",): "mine"}) == deleted

    # The other way round the user's edit stays in `merged` while the conflict is open.
    result = three_way_merge(base, edited, deleted)
    assert result.conflicts == [Conflict(("user",), base["user"], edited["user"], ABSENT)]
    assert result.merged == edited
    assert resolve(result, {("user",): "theirs"}) == deleted


def test_a_change_at_a_path_overlaps_changes_below_it():
    base = {"u": {"a": 1, "b": 2}}
    replaced = {"u": {"a": 1, "b": 2, "c": 3}}  # inside: merges with edits to other keys
    assert three_way_merge(base, replaced, {"u": {"a": 9, "b": 2}}).merged == {"u": {"a": 9, "b": 2, "c": 3}}
    # A change of type at u is a change of u, which overlaps the edit of u.a.
    result = three_way_merge(base, {"u": ["a", 1]}, {"u": {"a": 9, "b": 2}})
    assert result.conflicts == [Conflict(("u",), {"a": 1, "b": 2}, ["a", 1], {"a": 9, "b": 2})]


def test_nested_additions_merge_and_clashing_additions_conflict():
    base = {"cfg": {}}
    result = three_way_merge(base, {"cfg": {"a": {"x": 1}}}, {"cfg": {"b": [1]}, "top": None})
    assert not result.conflicts
    assert result.merged == {"cfg": {"a": {"x": 1}, "b": [1]}, "top": None}

    # Both added "n" with different objects: no base to merge them against, so the user picks.
    result = three_way_merge(base, {"cfg": {"n": {"a": 1}}}, {"cfg": {"n": {"b": 2}}})
    assert result.conflicts == [Conflict(("cfg", "n"), ABSENT, {"a": 1}, {"b": 2})]
    assert resolve(result, {("cfg", "n"): "theirs"}) == {"cfg": {"n": {"b": 2}}}


def test_arrays_merge_index_wise_only_when_all_three_have_the_same_length():
    base = {"t": [1, 2, 3]}
    assert three_way_merge(base, {"t": [0, 2, 3]}, {"t": [1, 2, 4]}).merged == {"t": [0, 2, 4]}
    assert three_way_merge(base, {"t": [1, 2, 3, 4]}, base).merged == {"t": [1, 2, 3, 4]}
    assert not three_way_merge(base, {"t": [1, 2, 3, 4]}, {"t": [1, 2, 3, 4]}).conflicts

    result = three_way_merge(base, {"t": [0, 2, 3]}, {"t": [1, 2, 3, 4]})
    assert result.conflicts == [Conflict(("t",), [1, 2, 3], [0, 2, 3], [1, 2, 3, 4])]
    result = three_way_merge(base, {"t": [1, 2, 3, "m"]}, {"t": [1, 2, 3, "t"]})
    assert [c.path for c in result.conflicts] == [("t",)]


def test_bool_and_int_are_different_values_in_a_merge():
    base = {"flag": 1}
    assert three_way_merge(base, base, {"flag": True}).merged["flag"] is True
    result = three_way_merge(base, {"flag": 1.0}, {"flag": True})
    assert result.conflicts == [Conflict(("flag",), 1, 1.0, True)]
    assert type(resolve(result, {("flag",): "mine"})["flag"]) is float


def test_null_and_absent_stay_apart_in_conflicts_and_choices():
    base = {"a": 1, "b": 1}
    mine = {"a": None, "b": 1}
    theirs = {"b": 1}
    result = three_way_merge(base, mine, theirs)
    assert result.conflicts == [Conflict(("a",), 1, None, ABSENT)]
    assert resolve(result, {("a",): "mine"}) == {"a": None, "b": 1}
    assert resolve(result, {("a",): "theirs"}) == {"b": 1}


WEIRD_KEYS = ["a.b", "a[0]", "[bold]x", 'say "hi"', "it's", "ünï", "日本", "", " ", "a\nb", "$", "\u202egnp.exe"]


def test_weird_keys_are_just_keys():
    base = {key: {"v": 0} for key in WEIRD_KEYS}
    mine = {key: {"v": 1} for key in WEIRD_KEYS}
    theirs = {key: {"v": 0, "w": key} for key in WEIRD_KEYS}
    result = three_way_merge(base, mine, theirs)
    assert not result.conflicts
    assert result.merged == {key: {"v": 1, "w": key} for key in WEIRD_KEYS}
    assert [c.path for c in result.applied_mine] == [(key, "v") for key in WEIRD_KEYS]


def test_merged_follows_mines_key_order():
    base = {"a": 1, "b": 2, "c": {"x": 1, "y": 2}}
    mine = {"c": {"y": 2, "x": 1}, "b": 3, "a": 1}
    theirs = {"a": 1, "b": 2, "c": {"x": 1, "y": 5}, "d": 4}
    assert as_text(three_way_merge(base, mine, theirs).merged) == as_text(
        {"c": {"y": 5, "x": 1}, "b": 3, "a": 1, "d": 4}
    )


def test_the_top_level_must_be_an_object():
    with pytest.raises(TypeError):
        three_way_merge({}, [], {})


# --- resolve -----------------------------------------------------------------------------------


def two_conflicts():
    return three_way_merge({"a": 1, "b": 1}, {"a": 2, "b": 2}, {"a": 3, "b": 3})


def test_resolve_needs_a_choice_for_every_conflict():
    with pytest.raises(UnresolvedConflictError) as caught:
        resolve(two_conflicts(), {("a",): "mine"})
    assert caught.value.paths == [("b",)]
    assert "$.b" in str(caught.value)
    assert resolve(two_conflicts(), {("a",): "mine", ("b",): "theirs"}) == {"a": 2, "b": 3}


def test_resolve_refuses_stray_paths_and_unknown_sides():
    with pytest.raises(ValueError, match=r"\$\.c"):
        resolve(two_conflicts(), {("a",): "mine", ("b",): "mine", ("c",): "mine"})
    with pytest.raises(ValueError, match="'both'"):
        resolve(two_conflicts(), {("a",): "both", ("b",): "mine"})  # type: ignore[dict-item]


def test_resolve_does_not_touch_the_result():
    result = two_conflicts()
    before = copy.deepcopy(result)
    resolved = resolve(result, {("a",): "theirs", ("b",): "theirs"})
    resolved["a"] = "changed later"
    assert result == before


# --- text for people ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ((), "$"),
        (("user", "tags", 2), "$.user.tags[2]"),
        (("a b",), '$["a b"]'),
        (("a.b", 0), '$["a.b"][0]'),
        (("[bold]x",), '$["[bold]x"]'),
        (('say "hi"',), '$["say \\"hi\\""]'),
        (("a\nb\x00",), '$["a\\nb\\u0000"]'),
        (("",), '$[""]'),
        (("_ok1",), "$._ok1"),
        (("1a",), '$["1a"]'),
        (("ünï",), '$["ünï"]'),
        (("\u202egnp.exe",), '$["\\u202egnp.exe"]'),  # bidi override shows as an escape
        (("a\u200bb",), '$["a\\u200bb"]'),  # zero-width space too
        (("\U000e0041",), '$["\\udb40\\udc41"]'),  # non-printing astral char: a surrogate pair
        (("\ud800",), '$["\\ud800"]'),  # a lone surrogate can still be shown
    ],
)
def test_render_path(path, text):
    assert render_path(path) == text


@pytest.mark.parametrize("key", WEIRD_KEYS + ["\U000e0041", "x\u200by", "😀"])
def test_rendered_keys_read_back_as_json(key):
    rendered = render_path((key,))
    assert rendered[2:] == key if rendered.startswith("$.") else json.loads(rendered[2:-1]) == key
    assert rendered.isprintable()
    assert json.loads(json_text(key)) == key
    assert json_text(key).isprintable()


def test_diff_lines_signs_and_texts():
    theirs = {"a": 1, "gone": "x", "same": [1], "n": {"k": True}}
    mine = {"a": 2, "same": [1], "n": {"k": 1}, "new": None}
    lines = diff_lines(theirs, mine)
    assert [line.text for line in lines] == [
        "~ $.a: 1 → 2",
        '- $.gone: "x"',
        "~ $.n.k: true → 1",
        "+ $.new: null",
    ]
    assert (lines[1].theirs_text, lines[1].mine_text) == ('"x"', None)
    assert lines[3].change == Change(("new",), ABSENT, None)


def test_diff_lines_shorten_long_values_but_keep_them_whole_on_the_change():
    long_text = "y" * 500
    [line] = diff_lines({"k": "short"}, {"k": long_text}, value_chars=20)
    assert line.mine_text == '"' + "y" * 18 + "…"
    assert len(line.mine_text) == 20
    assert line.change.new == long_text
    [line] = diff_lines({}, {"k": list(range(100))})
    assert line.mine_text.endswith("…") and line.change.new == list(range(100))


def test_diff_lines_are_plain_literal_text():
    [line] = diff_lines({}, {"[bold]x": "[red]\u202eboom\x1b[0m"})
    assert line.text == '+ $["[bold]x"]: "[red]\\u202eboom\\u001b[0m"'
    assert line.text.isprintable()


def test_merge_does_not_import_textual():
    code = "import sys, syncmap_tui.sync.merge; assert not any(m.startswith('textual') for m in sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True)


# --- properties ----------------------------------------------------------------------------------

KEYS = st.sampled_from(["a", "b", "c", "a.b", "[bold]x", "ü", ""])
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-1, 2)
    | st.sampled_from([0.0, -0.0, 1.0, 2.5, float("nan")])
    | st.sampled_from(["", "a", "[b]", "\u202e", "\x00"])
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=8,
)
DOCS = st.dictionaries(KEYS, JSON, max_size=4)


@st.composite
def edited(draw, value, *, top=False):
    """`value` with random edits, so base, mine and theirs share structure as they do in life."""
    action = "inside" if top else draw(st.sampled_from(["keep", "keep", "replace", "inside"]))
    if action == "keep":
        return copy.deepcopy(value)
    if action == "replace" or not isinstance(value, (dict, list)):
        return draw(JSON)
    if isinstance(value, list):
        if draw(st.booleans()):
            return [draw(edited(item)) for item in value]
        return draw(st.lists(JSON, max_size=3))
    result = {}
    for key, item in value.items():
        if draw(st.integers(0, 4)):  # mostly kept (maybe edited), sometimes removed
            result[key] = draw(edited(item))
    for key in draw(st.lists(KEYS, max_size=2)):
        result.setdefault(key, draw(JSON))
    return result


@st.composite
def three_docs(draw):
    base = draw(DOCS)
    return base, draw(edited(base, top=True)), draw(edited(base, top=True))


PROPERTY = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
SHORT, LONG = 60, 500
"""Examples per property: the default suite runs SHORT (the seven took ~2.9 s of CPU at 120 each,
~1.4 s at 60, serial), `pytest -m fuzz` runs LONG (~14 s in all; see tests/property_runs.py)."""


@short_and_long(PROPERTY, SHORT, LONG, given(DOCS, DOCS))
def test_changes_only_on_mine_give_mine(base, mine):
    result = three_way_merge(base, mine, copy.deepcopy(base))
    assert not result.conflicts and result.applied_theirs == []
    assert as_text(result.merged) == as_text(mine)  # key order too
    assert same_changes(result.applied_mine + result.agreed, diff(base, mine))


@short_and_long(PROPERTY, SHORT, LONG, given(DOCS, DOCS))
def test_changes_only_on_theirs_give_theirs(base, theirs):
    result = three_way_merge(base, copy.deepcopy(base), theirs)
    assert not result.conflicts and result.applied_mine == []
    assert json_equal(result.merged, theirs)


@short_and_long(PROPERTY, SHORT, LONG, given(three_docs()))
def test_merge_is_symmetric_in_mine_and_theirs(docs):
    base, mine, theirs = docs
    forward = three_way_merge(base, mine, theirs)
    backward = three_way_merge(base, theirs, mine)
    # The lists follow the second argument's key order, as the merged document does: with mine
    # {"a", "b"} and theirs {"b", "a"} the same changes come in the other order. Compare by path.
    forward_conflicts, backward_conflicts = by_path(forward.conflicts), by_path(backward.conflicts)
    assert [c.path for c in forward_conflicts] == [c.path for c in backward_conflicts]
    for there, back in zip(forward_conflicts, backward_conflicts):
        assert json_equal([there.base, there.mine, there.theirs], [back.base, back.theirs, back.mine])
    assert same_changes(by_path(forward.applied_mine), by_path(backward.applied_theirs))
    assert same_changes(by_path(forward.agreed), by_path(backward.agreed))
    if not forward.conflicts:
        assert json_equal(forward.merged, backward.merged)


@short_and_long(PROPERTY, SHORT, LONG, given(three_docs()))
def test_resolving_all_one_side_takes_that_side_at_every_conflict(docs):
    base, mine, theirs = docs
    result = three_way_merge(base, mine, theirs)
    for side, doc in (("mine", mine), ("theirs", theirs)):
        resolved = resolve(result, {c.path: side for c in result.conflicts})
        for conflict in result.conflicts:
            assert json_equal(value_at(resolved, conflict.path), value_at(doc, conflict.path))
            assert json_equal(conflict.value(side), value_at(doc, conflict.path))
            assert json_equal(conflict.base, value_at(base, conflict.path))


@short_and_long(PROPERTY, SHORT, LONG, given(three_docs()))
def test_no_change_is_lost(docs):
    """Every change of either side is applied, agreed, or inside a conflict that offers it."""
    base, mine, theirs = docs
    result = three_way_merge(base, mine, theirs)
    conflict_paths = [c.path for c in result.conflicts]
    for side, doc, applied in (("mine", mine, result.applied_mine), ("theirs", theirs, result.applied_theirs)):
        resolved = resolve(result, {path: side for path in conflict_paths})
        for change in diff(base, doc):
            in_conflict = any(is_under(change.path, path) for path in conflict_paths)
            kept = [c for c in applied + result.agreed if c.path == change.path]
            assert in_conflict or same_changes(kept, [change])
            # Taking this side everywhere keeps every change this side made.
            assert json_equal(value_at(resolved, change.path), change.new)
            if not in_conflict:
                assert json_equal(value_at(result.merged, change.path), change.new)
    # What the editor shows before any choice still holds everything the user typed.
    assert json_equal(resolve(result, {path: "mine" for path in conflict_paths}), result.merged)


@short_and_long(PROPERTY, SHORT, LONG, given(JSON, JSON))
def test_diff_is_empty_exactly_when_json_equal_and_replays(a, b):
    changes = diff(a, b)
    assert (changes == []) == json_equal(a, b)
    assert json_equal(apply_changes(a, changes), b)
    assert diff(a, copy.deepcopy(a)) == []


def containers(value, found=None):
    found = [] if found is None else found
    if isinstance(value, (dict, list)):
        found.append(id(value))
        for item in value.values() if isinstance(value, dict) else value:
            containers(item, found)
    return found


@short_and_long(PROPERTY, SHORT, LONG, given(three_docs()))
def test_inputs_are_never_mutated_nor_shared(docs):
    base, mine, theirs = docs
    before = [as_text(doc) for doc in docs]
    result = three_way_merge(base, mine, theirs)
    resolved = resolve(result, {c.path: "theirs" for c in result.conflicts})
    lines = diff_lines(theirs, mine)
    assert [as_text(doc) for doc in docs] == before

    input_ids = {found for doc in docs for found in containers(doc)}
    outputs = [result.merged, resolved, [line.change.old for line in lines], [line.change.new for line in lines]]
    outputs += [[c.base, c.mine, c.theirs] for c in result.conflicts]
    outputs += [[ch.old, ch.new] for ch in result.applied_mine + result.applied_theirs + result.agreed]
    assert input_ids.isdisjoint(containers(outputs)[1:])


def nested(depth, leaf):
    value = leaf
    for _ in range(depth):
        value = {"a": value}
    return value


def test_data_as_deep_as_json_loads_takes_still_merges():
    depth = 800  # json.loads takes this from a test's stack; copy.deepcopy would not
    base, mine, theirs = nested(depth, [1, 1]), nested(depth, [2, 1]), nested(depth, [1, 3])
    assert json.loads(json.dumps(base)) == base
    result = three_way_merge(base, mine, theirs)
    assert not result.conflicts and json_equal(result.merged, nested(depth, [2, 3]))
    assert len(diff_lines(theirs, mine)) == 2
    conflicted = three_way_merge(base, mine, nested(depth, [3, 1]))
    assert [len(c.path) for c in conflicted.conflicts] == [depth + 1]
    assert json_equal(resolve(conflicted, {conflicted.conflicts[0].path: "theirs"}), nested(depth, [3, 1]))
