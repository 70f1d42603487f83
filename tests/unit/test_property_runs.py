"""tests/property_runs.py: one body makes a short run and a long twin under `fuzz`, each with its
own example count, and neither loses the explicit @example cases."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from property_runs import short_and_long

BASE = settings(deadline=None, database=None)


def built(*decorators, short: int = 3, long: int = 7):
    """A fresh module namespace with a recording body decorated by short_and_long."""
    seen: list[int] = []
    namespace: dict = {"seen": seen}
    exec("def test_body(number):\n    seen.append(number)\n", namespace)
    namespace["test_short"] = short_and_long(BASE, short, long, *decorators)(namespace["test_body"])
    return namespace, seen


def marks(test) -> list[str]:
    return [mark.name for mark in getattr(test, "pytestmark", [])]


def test_each_run_has_its_own_count_and_both_run_the_explicit_examples():
    namespace, seen = built(given(number=st.integers(0, 10**9)), example(number=-1), example(number=-2))
    short, long = namespace["test_short"], namespace["test_body_long"]
    assert short.__name__ == "test_body" and long.__name__ == "test_body_long"
    for test, count in ((short, 3), (long, 7)):
        seen.clear()
        test()
        assert sorted(number for number in seen if number < 0) == [-2, -1]  # each once
        random = [number for number in seen if number >= 0]
        assert 0 < len(random) <= count
    assert "fuzz" in marks(long) and "fuzz" not in marks(short)


def test_a_mark_above_is_the_short_runs_only_and_one_below_is_on_both():
    namespace, _ = built(given(number=st.integers()))
    assert marks(namespace["test_short"]) == []
    body_marked = pytest.mark.filterwarnings("ignore")
    seen: list[int] = []
    namespace = {"seen": seen}
    exec("def test_body(number):\n    seen.append(number)\n", namespace)
    short = pytest.mark.long(short_and_long(BASE, 2, 4, given(number=st.integers()))(body_marked(namespace["test_body"])))
    long = namespace["test_body_long"]
    assert marks(short) == ["filterwarnings", "long"]
    assert sorted(marks(long)) == ["filterwarnings", "fuzz"]


def test_an_async_body_stays_a_coroutine_function_for_pytest_asyncio():
    namespace: dict = {}
    exec("async def test_body(number):\n    pass\n", namespace)
    short = short_and_long(BASE, 2, 4, given(number=st.integers()))(namespace["test_body"])
    for test in (short, namespace["test_body_long"]):
        assert asyncio.iscoroutinefunction(test.hypothesis.inner_test)


def test_a_long_twin_never_replaces_a_name_already_there():
    namespace: dict = {"test_body_long": "taken"}
    exec("def test_body(number):\n    pass\n", namespace)
    with pytest.raises(NameError):
        short_and_long(BASE, 2, 4, given(number=st.integers()))(namespace["test_body"])
    assert namespace["test_body_long"] == "taken"
