"""A test oracle: a list of changes replayed onto a JSON value, written apart from
syncmap_tui.sync.merge (whose `_put` it mirrors), so that `diff`, the merge's lists and the
conflict view's rows are checked against code that does not share their walk. The app never
replays changes: it merges, or writes a whole value."""

from __future__ import annotations

import copy
from typing import Any

from syncmap_tui.sync.merge import ABSENT, Change


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
