"""The editor's size figure for typing inside a string (widgets.json_area.wire_delta_in_string) is
exact whenever it gives one: the meter shows it before the full check has run.

The default suite runs 200 examples (~0.7 s of CPU, serial; 400 took ~2.5 s), `pytest -m fuzz`
runs 1,600 (~5 s).
"""

from __future__ import annotations

import json

from hypothesis import given, settings
from property_runs import short_and_long
from hypothesis import strategies as st

from syncmap_tui.sync.validation import check_data, format_data
from syncmap_tui.ui.widgets.json_area import wire_delta_in_string

scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=12)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=12)
objects = st.dictionaries(st.text(max_size=6), values, min_size=1, max_size=5)


def first_non_blank(lines: list[str], row: int):
    def next_char(column: int) -> str:
        rest = "\n".join([lines[row][column:], *lines[row + 1 :]]).lstrip()
        return rest[:1]

    return next_char


@short_and_long(settings(deadline=None), 200, 1_600, given(data=objects, where=st.data(), inserted=st.text(max_size=4)))
def test_a_figure_given_without_parsing_is_the_parsed_size(data, where, inserted):
    text = format_data(data)
    lines = text.split("\n")
    row = where.draw(st.integers(0, len(lines) - 1))
    line = lines[row]
    start = where.draw(st.integers(0, len(line)))
    end = where.draw(st.integers(start, len(line)))
    delta = wire_delta_in_string(line, start, end, inserted, first_non_blank(lines, row))
    if delta is None:
        return
    lines[row] = line[:start] + inserted + line[end:]
    before, after = check_data(text), check_data("\n".join(lines))
    assert after.error is None, after.error
    assert after.size - before.size == delta


def test_inside_a_value_it_counts_utf8_bytes_and_refuses_keys_escapes_and_quotes():
    lines = format_data({"name": 'a\\"b', "n": 1, "s": "xyz"}).split("\n")
    value_line = lines[3]  # '  "s": "xyz"'
    column = value_line.index("xyz")
    nothing_after = lambda column: ""  # noqa: E731
    assert wire_delta_in_string(value_line, column, column, "é😀", nothing_after) == 2 + 4
    assert wire_delta_in_string(value_line, column, column + 1, "", nothing_after) == -1
    assert wire_delta_in_string(value_line, column, column, '"', nothing_after) is None
    key_column = value_line.index("s")
    assert wire_delta_in_string(value_line, key_column, key_column, "t", first_non_blank(lines, 3)) is None
    escaped = lines[1]  # '  "name": "a\\\"b",'
    inside_escape = escaped.index('\\"') + 1
    assert wire_delta_in_string(escaped, inside_escape, inside_escape, "x", nothing_after) is None
    assert json.loads("\n".join(lines))  # the sample itself is valid


def test_typing_between_the_two_escapes_of_a_surrogate_pair_is_left_to_the_full_check():
    """Hypothesis found it: a character typed there splits the pair into two lone surrogates."""
    line = next(line for line in format_data({"k": "0000\U00018cd6"}).split("\n") if "\\u" in line)
    assert "\\ud823\\udcd6" in line
    between = line.index("\\udcd6")
    assert wire_delta_in_string(line, between, between, "0", lambda column: "") is None
    after_the_pair = between + len("\\udcd6")
    assert wire_delta_in_string(line, after_the_pair, after_the_pair, "0", lambda column: "") == 1
