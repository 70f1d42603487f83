"""The data, key, unique-name and TTL rules shared by the editor and the emulator."""

from __future__ import annotations

import json

import pytest

from syncmap_tui.sync.errors import TwilioCode
from syncmap_tui.sync.validation import (
    MAX_DATA_BYTES,
    MAX_KEY_LENGTH,
    MAX_TTL_SECONDS,
    MAX_UNIQUE_NAME_LENGTH,
    SIZE_WARNING_BYTES,
    ValidationError,
    check_data,
    check_key,
    check_size,
    check_unique_name,
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
    assert (check.error is None) is ok
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


@pytest.mark.parametrize(
    "text, token, where",
    [
        ('{"a": NaN}', "NaN", "1:7"),
        ('{"a": Infinity}', "Infinity", "1:7"),
        ('{\n  "NaN": "Infinity",\n  "b": [1, -Infinity]\n}', "-Infinity", "3:12"),  # not the ones in strings
        ('{"a": 1e999}', "1e999", "1:7"),
        ('{"a": 1.5, "b": -1E+400}', "-1E+400", "1:17"),
    ],
)
def test_nan_infinity_and_overflowing_numbers_are_refused(text, token, where):
    assert json.loads(text)  # Python's own parser takes every one of them
    with pytest.raises(ValidationError) as info:
        parse_data(text)
    assert info.value.code == TwilioCode.DATA_INVALID
    assert token in info.value.message and f"at {where}:" in info.value.message
    check = check_data(text)
    assert check.error is not None and check.error.message == info.value.message


def test_numbers_that_stay_finite_are_kept():
    assert parse_data('{"tiny": 1e-999, "big": 1.7976931348623157e308, "n": -0}') == {
        "tiny": 0.0,
        "big": 1.7976931348623157e308,
        "n": 0,
    }


def test_an_integer_too_long_to_read_is_a_message_not_a_crash():
    text = '{"n": ' + "9" * 5000 + "}"
    with pytest.raises(ValidationError) as info:
        parse_data(text)
    assert info.value.code == TwilioCode.DATA_INVALID
    assert "5000 digits" in info.value.message and "at 1:7" in info.value.message
    assert len(info.value.message) < 200  # the number itself is not repeated in full


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_encode_data_refuses_nan_and_infinity(bad):
    with pytest.raises(ValidationError) as info:
        encode_data({"a": [1, {"b": bad}]})
    assert info.value.code == TwilioCode.DATA_INVALID
    assert "$.a[1].b" in info.value.message
    assert json.dumps(bad) in info.value.message  # NaN, Infinity or -Infinity, as JSON-ish text


def test_encode_data_still_raises_on_a_circular_value():
    circular: list = []
    circular.append(circular)
    with pytest.raises(ValueError) as info:
        encode_data({"a": circular})
    assert not isinstance(info.value, ValidationError)


def test_format_data_shows_nan_rather_than_failing():
    # Display only: a server may send NaN (Python's parser reads it); the editor's check then names it.
    assert "NaN" in format_data({"a": float("nan")})
    assert format_data({"a": float("inf")}, compact=True) == '{"a":Infinity}'


def test_unique_names():
    assert check_unique_name("inventory") == "inventory"
    assert check_unique_name("n" * MAX_UNIQUE_NAME_LENGTH)
    assert check_unique_name("mp" + "a" * 32)  # lowercase prefix: not SID-shaped
    assert check_unique_name("MP" + "a" * 31)  # one hex digit short
    cases = {
        "": "must not be empty",
        "n" * (MAX_UNIQUE_NAME_LENGTH + 1): f"{MAX_UNIQUE_NAME_LENGTH + 1} characters",
        "MP" + "a" * 32: "looks like a SID",
        "IS" + "0123456789ABCDEF" * 2: "looks like a SID",
        "name\udc80": "not valid UTF-8",
    }
    for bad, says in cases.items():
        with pytest.raises(ValidationError) as info:
            check_unique_name(bad)
        assert info.value.code == TwilioCode.UNIQUE_NAME_INVALID, bad
        assert says in info.value.message, bad


def test_lone_surrogate_is_refused_clearly():
    check = check_data('{"a": "\\ud800"}')
    assert check.error is not None
    assert "surrogate" in check.error.message


def test_deep_nesting_is_a_message_not_a_crash():
    check = check_data("[" * 100_000 + "]" * 100_000)
    assert check.error is not None


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
