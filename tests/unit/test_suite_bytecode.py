"""The suite's head start (tests/conftest.py, compile_once_for_every_process) leans on pytest's
private names: a pytest without them would run the suite ~5 s slower without a word. Say it here."""

from __future__ import annotations


def test_the_private_names_of_pytests_assertion_rewriting_are_there():
    from _pytest.assertion import rewrite

    for name in ("PYC_TAIL", "_rewrite_test", "_write_pyc", "assertstate_key", "get_cache_dir"):
        assert hasattr(rewrite, name), f"_pytest.assertion.rewrite has no {name}: see compile_once_for_every_process"
