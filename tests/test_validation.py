"""The data, key and TTL rules shared by the editor and the emulator."""

from __future__ import annotations

import json

import pytest

from syncmap_tui.sync.errors import TwilioCode
from syncmap_tui.sync.validation import (
    MAX_DATA_BYTES,
    MAX_KEY_LENGTH,
    MAX_TTL_SECONDS,
    SIZE_WARNING_BYTES,
    ValidationError,
    check_data,
    check_key,
    check_size,
    encode_data,
    format_data,
    key_warning,
    parse_data,
    parse_ttl,
    parse_wire_ttl,
)


def data_of_wire_size(size: int, filler: str = "a") -> dict:
    """A JSON object whose compact UTF-8 form is exactly `size` bytes (filler of 1, 2, 3 or 4 bytes)."""
    overhead = len(encode_data({"v": ""}).encode())
    width = len(filler.encode())
    body, rest = divmod(size - overhead, width)
    value = {"v": filler * body + "a" * rest}
    assert len(encode_data(value).encode()) == size
    return value


@pytest.mark.parametrize("filler", ["a", "é", "€", "😀"])
@pytest.mark.parametrize("size, ok", [(16_383, True), (16_384, True), (16_385, False)])
def test_size_limit_counts_utf8_bytes_of_the_compact_form(size, ok, filler):
    value = data_of_wire_size(size, filler)
    check = check_data(json.dumps(value, indent=4))  # pretty text in the editor: only the wire form counts
    assert check.size == size
    assert check.ok is ok
    if not ok:
        assert check.error.code == TwilioCode.DATA_TOO_LARGE
        assert "16,385 bytes" in check.error.message and "16,384" in check.error.message


def test_near_limit_warns_from_ninety_percent():
    assert SIZE_WARNING_BYTES / MAX_DATA_BYTES >= 0.9 > (SIZE_WARNING_BYTES - 1) / MAX_DATA_BYTES
    assert check_data(json.dumps(data_of_wire_size(SIZE_WARNING_BYTES))).near_limit
    assert not check_data(json.dumps(data_of_wire_size(SIZE_WARNING_BYTES - 1))).near_limit


def test_check_size_raises_above_limit_only():
    assert check_size(encode_data(data_of_wire_size(MAX_DATA_BYTES))) == MAX_DATA_BYTES
    with pytest.raises(ValidationError) as info:
        check_size(encode_data(data_of_wire_size(MAX_DATA_BYTES + 1)))
    assert info.value.code == TwilioCode.DATA_TOO_LARGE


def test_encode_data_is_compact_and_keeps_non_ascii():
    assert encode_data({"a": [1, 2], "é": "ü"}) == '{"a":[1,2],"é":"ü"}'


def test_parse_error_names_line_and_column():
    with pytest.raises(ValidationError) as info:
        parse_data('{\n  "a": 1,\n  "b": \n}')
    assert info.value.code == TwilioCode.DATA_INVALID
    assert "at 4:1" in info.value.message


@pytest.mark.parametrize("text, kind", [("[]", "an array"), ('"x"', "a string"), ("1", "a number"), ("null", "null"), ("true", "a boolean")])
def test_top_level_must_be_an_object(text, kind):
    check = check_data(text)
    assert check.error.code == TwilioCode.DATA_INVALID
    assert check.error.message == f"the top level must be a JSON object, not {kind}"


def test_lone_surrogate_is_refused_clearly():
    check = check_data('{"a": "\\ud800"}')
    assert not check.ok
    assert "surrogate" in check.error.message


def test_deep_nesting_is_a_message_not_a_crash():
    check = check_data("[" * 100_000 + "]" * 100_000)
    assert not check.ok


def test_format_data_escapes_c1_controls_but_keeps_the_value():
    value = {"k\x9b": "x\x1b[2J\x7f", "é": 1}
    text = format_data(value)
    assert "\x9b" not in text and "\x1b" not in text and "\x7f" not in text
    assert json.loads(text) == value
    assert json.loads(format_data(value, compact=True)) == value


def test_keys():
    assert check_key("a") == "a"
    assert check_key("k" * MAX_KEY_LENGTH)
    for bad in ("", "k" * (MAX_KEY_LENGTH + 1), "\ud800"):
        with pytest.raises(ValidationError) as info:
            check_key(bad)
        assert info.value.code == TwilioCode.KEY_INVALID
    assert key_warning("k" * 256) is None
    assert "257 characters" in key_warning("k" * 257)


@pytest.mark.parametrize(
    "text, seconds",
    [("0", 0), ("31536000", MAX_TTL_SECONDS), ("90s", 90), ("15m", 900), ("2h", 7200), ("7d", 604800), ("1h30m", 5400), (" 1H 30M ", 5400)],
)
def test_human_ttls(text, seconds):
    assert parse_ttl(text) == seconds


@pytest.mark.parametrize("text", ["31536001", "-1", "", "abc", "1.5", "h", "1w", "366d"])
def test_bad_ttls_are_refused_with_54011(text):
    with pytest.raises(ValidationError) as info:
        parse_ttl(text)
    assert info.value.code == TwilioCode.TTL_INVALID


def test_wire_ttl_is_plain_seconds_only():
    assert parse_wire_ttl("31536000") == MAX_TTL_SECONDS
    for bad in ("15m", "-1", "31536001", ""):
        with pytest.raises(ValidationError):
            parse_wire_ttl(bad)
