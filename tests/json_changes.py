"""A test oracle: the changes between two JSON values, and their replay, written apart from
syncmap_tui.sync.merge so that the merge's lists and the conflict view's rows are checked against
code that does not share their walk. The app itself never diffs two values: it merges."""

from __future__ import annotations

import copy
from typing import Any

from syncmap_tui.sync.merge import ABSENT, Change, json_equal


def diff(old: Any, new: Any, path: tuple = ()) -> list[Change]:
    """Every change from `old` to `new`, in document order, by the merge's rules: objects key by
    key (keys in order of first appearance, old's then new's), arrays index by index only at the
    same length, anything else one change at its path."""
    if isinstance(old, dict) and isinstance(new, dict):
        changes = []
        for key in dict.fromkeys([*old, *new]):
            changes += diff(old.get(key, ABSENT), new.get(key, ABSENT), (*path, key))
        return changes
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [change for index in range(len(old)) for change in diff(old[index], new[index], (*path, index))]
    return [] if json_equal(old, new) else [Change(path, copy.deepcopy(old), copy.deepcopy(new))]


def apply_changes(doc: Any, changes: list[Change]) -> Any:
    """A copy of `doc` with each change's new value put at its path (ABSENT removes the key)."""
    result = copy.deepcopy(doc)
    for change in changes:
        if not change.path:
            result = copy.deepcopy(change.new)
            continue
        parent = result
        for step in change.path[:-1]:
            parent = parent[step]
        if change.new is ABSENT:
            del parent[change.path[-1]]
        else:
            parent[change.path[-1]] = copy.deepcopy(change.new)
    return result
