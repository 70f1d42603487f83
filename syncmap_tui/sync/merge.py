"""JSON-aware diff and three-way merge of item data, by JSON path.

The conflict view uses this after a save is refused with HTTP 412: it merges the data as loaded
("base"), the editor's ("mine") and the server's ("theirs") with `three_way_merge`, whose lists of
changes are the rows it shows (sync/conflict.py). Changes that don't overlap merge at once; for
each overlap the user picks a side and `resolve` builds the final object. The history dialog shows
a version against the current one with `diff_lines`. Headless: no Textual.

The rules, each written once:

* Equality is JSON's, not Python's (`json_equal`): `true`, `1` and `1.0` differ although Python
  says `True == 1 == 1.0`; `0.0` and `-0.0` differ (they are different JSON text); NaN equals
  itself. The order of keys in an object does not matter.
* A missing key is `ABSENT`, which is not JSON `null`: removing a key and setting it to null are
  different changes, and choosing an ABSENT side in `resolve` removes the key.
* How values are compared part by part (`_compared_by_parts`): objects key by key, arrays index by
  index only when they have the same length. Otherwise the whole value is one change at its path:
  that covers a change of type (object to array, number to string) and arrays whose length
  changed. An insertion shifts every later index, so pairing elements by index across different
  lengths would report and merge the wrong elements; as one value, the user sees both arrays and
  picks, which keeps merges predictable. (No LCS: it guesses, and a wrong guess loses an edit.)
* The merge (`_merge_node`) walks base, mine and theirs together. At each path: if mine and
  theirs agree, or only one side changed it, that side's value is taken whole. If both changed
  it differently and all three are objects (or same-length arrays), the walk goes inside, so
  edits to different keys merge. Otherwise the path is a conflict, reported at that path. So a
  change at a path and any change at or below it on the other side conflict at the upper path:
  a deleted subtree against an edit inside it is one conflict at the subtree, carrying mine's
  and theirs' whole values (nothing is dropped). Both sides adding the same key with different
  values is a conflict too, even if both added objects: there is no base to merge them against.

Decisions beyond the brief, and why:

* `MergeResult.merged` holds mine's value at each conflict path (or lacks the key where mine
  removed it), so `merged` never loses what the user typed; `resolve` puts the chosen sides in.
* The merged object follows mine's key order (keys only theirs added go after, in their order):
  the editor shows the result in place of the user's text, and key order is part of what they
  typed even though it is not part of JSON equality.
* Changes that both sides made alike are listed in `MergeResult.agreed`, not in the applied
  lists, so the dialog doesn't count them twice.
* `resolve` also refuses choices for paths that are not conflicts of this result: a choice left
  over from an earlier merge would otherwise be silently ignored.
* Text meant for people (`render_path`, `json_text`, `DiffLine`) escapes characters that don't
  print (control, format such as bidi overrides and zero-width, lone surrogates) as JSON
  `\\uXXXX`, so remote text cannot hide or disguise itself; other non-ASCII text shows as is.

Order is deterministic: paths in document order, with object keys in the order they first appear
in base, then mine, then theirs (for `diff`: old, then new). Inputs are never mutated and results
never share objects with the inputs (`_copied`).

Recursion: every walk here takes one stack frame per level of nesting (plain loops, no
comprehensions or generators, which cost a frame each in Python 3.11, and no `copy.deepcopy`, which
costs two), so data as deep as any item can be (validation.DEEPEST_NESTING, for which
validation.ensure_nesting_headroom makes room) diffs and merges. Deeper data raises
RecursionError, as `json` itself does. Paths of such data are thousands of steps long: text for
people shows their ends (`render_path`).
"""

from __future__ import annotations

import dataclasses
import enum
import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal, Mapping

from syncmap_tui.sync.validation import escape_unprintable

PathStep = str | int
Path = tuple[PathStep, ...]
"""Where a value is: object keys (str) and array indexes (int) from the top. `()` is the top."""

Side = Literal["mine", "theirs"]
ChangeKind = Literal["added", "removed", "changed"]


class Absent(enum.Enum):
    """The type of `ABSENT`. An enum so it is one value that survives copying and pickling."""

    ABSENT = "absent"

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT = Absent.ABSENT
"""The "value" at a path where there is none (a missing key). Distinct from JSON null (None)."""


def json_equal(a: Any, b: Any) -> bool:
    """Equality as JSON sees it (see the module docstring). ABSENT equals only itself."""
    return _json_equal(a, b, None)


_EqualityMemo = dict[tuple[int, int], bool]
"""json_equal's answers for pairs of containers, by identity, for one merge: the merge asks at
every level whether whole subtrees are equal, and without it each question walks to the bottom
again (8,190 levels: 4.8 s; with it, one walk)."""


def _json_equal(a: Any, b: Any, memo: _EqualityMemo | None) -> bool:
    # One type check separates bool, int and float, and object from array.
    if type(a) is not type(b):
        return False
    if isinstance(a, (dict, list)):
        if memo is not None and (id(a), id(b)) in memo:
            return memo[id(a), id(b)]
        equal = len(a) == len(b)
        if equal and isinstance(a, dict):
            if a.keys() != b.keys():
                equal = False
            else:
                for key in a:  # plain loops: see "Recursion" in the module docstring
                    if not _json_equal(a[key], b[key], memo):
                        equal = False
                        break
        elif equal:
            for item_a, item_b in zip(a, b):
                if not _json_equal(item_a, item_b, memo):
                    equal = False
                    break
        if memo is not None:
            memo[id(a), id(b)] = equal
        return equal
    if isinstance(a, float):
        # repr tells -0.0 from 0.0 and makes NaN equal to itself.
        return repr(a) == repr(b)
    return bool(a == b)


# How values are compared part by part: the one place for the object and array rules.


def _compared_by_parts(*values: Any) -> bool:
    if all(isinstance(value, dict) for value in values):
        return True
    return all(isinstance(value, list) for value in values) and len({len(v) for v in values}) == 1


def _parts(*values: Any) -> list[PathStep]:
    """The keys of objects in order of first appearance, or the indexes of same-length arrays."""
    if isinstance(values[0], list):
        return list(range(len(values[0])))
    return list(dict.fromkeys(key for value in values for key in value))


def _copied(value: Any) -> Any:
    """A deep copy of JSON data (ABSENT stays ABSENT), one stack frame per level of nesting."""
    if isinstance(value, dict):
        copied = {}
        for key, item in value.items():
            copied[key] = _copied(item)
        return copied
    if isinstance(value, list):
        copied_items = []
        for item in value:
            copied_items.append(_copied(item))
        return copied_items
    return value


def _part(value: Any, step: PathStep) -> Any:
    if isinstance(value, dict):
        return value.get(step, ABSENT)
    return value[step]


# Diff.


@dataclass(frozen=True)
class Change:
    """The value at `path` went from `old` to `new`; either may be ABSENT (added or removed)."""

    path: Path
    old: Any
    new: Any

    @property
    def kind(self) -> ChangeKind:
        if self.old is ABSENT:
            return "added"
        if self.new is ABSENT:
            return "removed"
        return "changed"


def diff(old: Any, new: Any) -> list[Change]:
    """Every change from `old` to `new`, in document order. Empty exactly when `json_equal`."""
    changes: list[Change] = []
    _diff_into(old, new, [], changes)
    return changes


def _diff_into(old: Any, new: Any, path: list[PathStep], changes: list[Change]) -> None:
    """`path` is where old and new are: one list that the walk extends and shortens as it goes
    (see _merge_node)."""
    if _compared_by_parts(old, new):
        for step in _parts(old, new):
            path.append(step)
            _diff_into(_part(old, step), _part(new, step), path, changes)
            path.pop()
    elif not json_equal(old, new):
        changes.append(Change(tuple(path), _copied(old), _copied(new)))


def _put(doc: Any, path: Path, value: Any) -> Any:
    """Put `value` at `path` in `doc`, which the caller owns; ABSENT removes. Returns the doc."""
    if not path:
        if value is ABSENT:
            raise ValueError("the top-level value cannot be removed")
        return value
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    if value is not ABSENT:
        parent[path[-1]] = value
    elif isinstance(parent, dict):
        parent.pop(path[-1], None)  # may be gone already: `merged` lacks keys mine removed
    else:
        del parent[path[-1]]
    return doc


# Three-way merge.


@dataclass(frozen=True)
class Conflict:
    """Both sides changed `path`, differently. Values are whole subtrees; any may be ABSENT."""

    path: Path
    base: Any
    mine: Any
    theirs: Any

    def value(self, side: Side) -> Any:
        if side == "mine":
            return self.mine
        if side == "theirs":
            return self.theirs
        raise ValueError(f"a side is 'mine' or 'theirs', not {side!r}")


@dataclass(frozen=True)
class MergeResult:
    merged: dict[str, Any]
    """Every non-conflicting change of both sides applied; mine's values at conflict paths."""
    conflicts: list[Conflict] = field(default_factory=list)
    applied_mine: list[Change] = field(default_factory=list)
    """Changes only mine made (base → mine), kept in `merged`."""
    applied_theirs: list[Change] = field(default_factory=list)
    """Changes only theirs made (base → theirs), brought into `merged`."""
    agreed: list[Change] = field(default_factory=list)
    """Changes both sides made alike (base → mine), in `merged` once."""


def three_way_merge(base: dict[str, Any], mine: dict[str, Any], theirs: dict[str, Any]) -> MergeResult:
    """Merge mine's and theirs' changes to base. See the module docstring for the rules."""
    for name, value in (("base", base), ("mine", mine), ("theirs", theirs)):
        if not isinstance(value, dict):
            raise TypeError(f"{name} must be a JSON object (dict), not {type(value).__name__}")
    found = MergeResult(merged={})  # the walk fills its lists; `merged` is set below
    merged = _merge_node(base, mine, theirs, [], found, {})
    return dataclasses.replace(found, merged=_in_key_order_of(merged, mine))


def _merge_node(
    base: Any, mine: Any, theirs: Any, path: list[PathStep], found: MergeResult, memo: _EqualityMemo
) -> Any:
    """The merged value at `path` (ABSENT: no key), recording what happened in `found`'s lists.

    `path` is one list, extended and shortened by the walk, and copied into a tuple only where a
    change or conflict is recorded: a new tuple per level would keep depth² steps alive at once
    (8,190 levels: 33 million, 0.9 s of copying and garbage collection)."""
    if _json_equal(mine, theirs, memo):
        _diff_into(base, mine, path, found.agreed)
        return _copied(mine)
    if _json_equal(base, theirs, memo):
        _diff_into(base, mine, path, found.applied_mine)
        return _copied(mine)
    if _json_equal(base, mine, memo):
        _diff_into(base, theirs, path, found.applied_theirs)
        return _copied(theirs)
    if _compared_by_parts(base, mine, theirs):
        # Both sides changed something inside: merge part by part.
        merged_parts = {}
        for step in _parts(base, mine, theirs):
            path.append(step)
            merged_parts[step] = _merge_node(
                _part(base, step), _part(mine, step), _part(theirs, step), path, found, memo
            )
            path.pop()
        if isinstance(mine, list):
            return list(merged_parts.values())  # same-length arrays: no part is ABSENT
        for key in [key for key, value in merged_parts.items() if value is ABSENT]:
            del merged_parts[key]
        return merged_parts
    found.conflicts.append(Conflict(tuple(path), _copied(base), _copied(mine), _copied(theirs)))
    return _copied(mine)


def _in_key_order_of(value: Any, model: Any) -> Any:
    """`value` with each object's keys in `model`'s order; keys `model` lacks follow, in order."""
    if isinstance(value, dict) and isinstance(model, dict):
        keys = [key for key in model if key in value] + [key for key in value if key not in model]
        ordered = {}
        for key in keys:
            ordered[key] = _in_key_order_of(value[key], model.get(key, ABSENT))
        return ordered
    if isinstance(value, list) and isinstance(model, list) and len(value) == len(model):
        ordered_items = []
        for item, item_model in zip(value, model):
            ordered_items.append(_in_key_order_of(item, item_model))
        return ordered_items
    return value


class UnresolvedConflictError(ValueError):
    """`resolve` was given no choice for some conflicts."""

    def __init__(self, paths: list[Path]) -> None:
        super().__init__("no side chosen for " + ", ".join(render_path(path) for path in paths))
        self.paths = paths


def resolve(result: MergeResult, choices: Mapping[Path, Side]) -> dict[str, Any]:
    """`result.merged` with the chosen side's value at each conflict path (ABSENT: key removed)."""
    missing = [conflict.path for conflict in result.conflicts if conflict.path not in choices]
    if missing:
        raise UnresolvedConflictError(missing)
    conflict_paths = {conflict.path for conflict in result.conflicts}
    stray = [path for path in choices if path not in conflict_paths]
    if stray:
        raise ValueError("not a conflict of this merge: " + ", ".join(render_path(p) for p in stray))
    resolved = _copied(result.merged)
    for conflict in result.conflicts:
        resolved = _put(resolved, conflict.path, _copied(conflict.value(choices[conflict.path])))
    assert isinstance(resolved, dict)  # the top is an object: a conflict at the top puts one there
    return resolved


# Text for people.

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


PATH_END_STEPS = 8
"""A path longer than twice this shows its first and last steps and how many are left out."""


def render_path(path: Path) -> str:
    """`$.user.tags[2]`; keys that aren't ASCII identifiers as JSON strings: `$["a b"]`. A path
    deeper than 2 × PATH_END_STEPS shows its ends: `$[""][0]…(8,170 more levels)…[0][0]`."""
    if len(path) > 2 * PATH_END_STEPS:
        left_out = len(path) - 2 * PATH_END_STEPS
        head = render_path(path[:PATH_END_STEPS])
        tail = _render_steps(path[-PATH_END_STEPS:])
        return f"{head}…({left_out:,} more levels)…{tail}"
    return "$" + _render_steps(path)


def _render_steps(path: Path) -> str:
    rendered = []
    for step in path:
        if isinstance(step, int):
            rendered.append(f"[{step}]")
        elif _IDENTIFIER.fullmatch(step):
            rendered.append(f".{step}")
        else:
            rendered.append(f"[{json_text(step)}]")
    return "".join(rendered)


def json_text(value: Any) -> str:
    """One-line JSON that is safe to show: every character that doesn't print is escaped."""
    return escape_unprintable(json.dumps(value, ensure_ascii=False))


VALUE_PREVIEW_CHARS = 60
"""How much of a value a diff line shows; the full value stays on the line's `change`."""

_SIGNS: dict[ChangeKind, str] = {"removed": "-", "added": "+", "changed": "~"}


@dataclass(frozen=True)
class DiffLine:
    """One change between theirs and mine, as plain text parts (no markup) for the dialog."""

    sign: str
    """'-' only theirs has the path, '+' only mine has it, '~' both, with different values."""
    path_text: str
    theirs_text: str | None
    """Theirs' value as one-line JSON, shortened; None where theirs has no value."""
    mine_text: str | None
    change: Change
    """The full values: `change.old` is theirs, `change.new` is mine."""

    @property
    def text(self) -> str:
        if self.theirs_text is None:
            return f"{self.sign} {self.path_text}: {self.mine_text}"
        if self.mine_text is None:
            return f"{self.sign} {self.path_text}: {self.theirs_text}"
        return f"{self.sign} {self.path_text}: {self.theirs_text} → {self.mine_text}"


def diff_lines(theirs: Any, mine: Any, *, value_chars: int = VALUE_PREVIEW_CHARS) -> list[DiffLine]:
    """The changes from theirs to mine as lines, in document order."""
    return [
        DiffLine(
            sign=_SIGNS[change.kind],
            path_text=render_path(change.path),
            theirs_text=_preview(change.old, value_chars),
            mine_text=_preview(change.new, value_chars),
            change=change,
        )
        for change in diff(theirs, mine)
    ]


def _preview(value: Any, limit: int) -> str | None:
    if value is ABSENT:
        return None
    text = json_text(value)
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"
