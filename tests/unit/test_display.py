"""display_key: keys that differ only invisibly must read differently (issue #15)."""

import unicodedata

import pytest
from hypothesis import given, strategies as st

from syncmap_tui.ui.display import display_key, key_text


NFC_CAFE = unicodedata.normalize("NFC", "café")
NFD_CAFE = unicodedata.normalize("NFD", "café")


@pytest.mark.parametrize(
    "first, second",
    [
        (NFC_CAFE, NFD_CAFE),
        ("sku", "sku "),
        ("sku", " sku"),
        ("a\\x0ab", "a\nb"),
        ("tab\\t", "tab\t"),
        ("a\u00a0b", "a b"),
        ("ab", "a\u200bb"),
    ],
)
def test_keys_that_look_alike_read_differently(first, second):
    assert first != second
    assert display_key(first) != display_key(second)


def test_how_each_difference_reads():
    assert display_key(NFC_CAFE) == "café"
    assert display_key(NFD_CAFE) == "cafe\\u0301"
    assert display_key("sku ") == "sku\\x20"
    assert display_key("  ") == "\\x20\\x20"
    assert display_key(" a b ") == "\\x20a b\\x20"
    assert display_key("a\nb") == "a\\x0ab"
    assert display_key("a\\x0ab") == "a\\\\x0ab"
    assert display_key("\x1b[31m") == "\\x1b[31m"


def test_ordinary_keys_read_as_typed():
    for key in ("sku-00001", "order:2024/11", "ключ", "キー", "한국어", "emoji 🎉 key", "[bold]x[/]"):
        assert display_key(key) == key


def test_key_text_is_never_markup():
    text = key_text("[bold]x[/]\n")
    assert text.plain == "[bold]x[/]\\x0a"
    assert not text.spans


@given(st.text())
def test_display_is_one_printable_line_and_tells_keys_apart(key):
    shown = display_key(key)
    assert shown.isprintable()
    assert not shown.startswith(" ") and not shown.endswith(" ")


@given(st.text(), st.text())
def test_no_two_keys_read_the_same(first, second):
    # NFC text keeps its combining marks as they print, so two NFC keys are told apart by their
    # code points alone: the mapping must be one-to-one on them and on everything else.
    if first != second:
        assert display_key(first) != display_key(second)
