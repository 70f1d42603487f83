"""The suite's head starts lean on private names of pytest and Textual: without them the suite would
run slower without a word (~5 s for pytest's, ~3 s for Textual's, measured). Say it here."""

from __future__ import annotations

import inspect


def test_the_private_names_of_pytests_assertion_rewriting_are_there():
    """tests/conftest.py, compile_once_for_every_process."""
    from _pytest.assertion import rewrite

    for name in ("PYC_TAIL", "_rewrite_test", "_write_pyc", "assertstate_key", "get_cache_dir"):
        assert hasattr(rewrite, name), f"_pytest.assertion.rewrite has no {name}: see compile_once_for_every_process"


def test_pytests_unraisable_exception_hunt_still_reads_its_pass_count_from_the_stash():
    """tests/conftest.py, UNRAISABLE_GC_PASSES."""
    from _pytest import unraisableexception

    assert "config.stash.get(gc_collect_iterations_key, 5)" in inspect.getsource(unraisableexception.cleanup)


def test_textuals_stylesheet_still_parses_through_parse_rules():
    """tests/ui/conftest.py, css_parsed_once_per_process: it replaces Stylesheet._parse_rules and
    keys what it keeps by the stylesheet's _variables; it asks the
    stylesheet's own _parse_cache first, as Textual does, and fills it."""
    from textual.css.stylesheet import Stylesheet

    parse_rules = inspect.unwrap(Stylesheet._parse_rules)  # the UI tests' fixture may have replaced it
    assert list(inspect.signature(parse_rules).parameters) == [
        "self", "css", "read_from", "is_default_rules", "tie_breaker", "scope",
    ]
    assert "self._parse_rules(" in inspect.getsource(Stylesheet.parse)
    source = inspect.getsource(parse_rules)
    assert "variable_tokens=self._variable_tokens" in source
    assert "cache_key = (css, read_from, is_default_rules, tie_breaker, scope)" in source
    assert "self._parse_cache[cache_key] = rules" in source
    stylesheet = Stylesheet(variables={"a": "b"})
    assert stylesheet._variables == {"a": "b"}
    for method in ("__contains__", "__getitem__", "__setitem__"):  # the fixture uses it as a dict
        assert hasattr(stylesheet._parse_cache, method), method
