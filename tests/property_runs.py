"""One property test body, two runs: a short one in the default suite and a long one under `fuzz`.

The default suite (the README's test command) must stay under 2 minutes on 2 cores (issue #12),
and it is CPU-bound: each example a property test runs there is paid on every run. CI's long step
(`.ci/run`, `-m 'slow or fuzz'`) runs the long twins, so that each CI run searches at least as far
as the default suite did before it was cut short. tests/ is on sys.path (pytest puts the directory
of tests/conftest.py there), so every tier imports this as `property_runs`.
"""

from __future__ import annotations

import types
from typing import Any, Callable

import pytest
from hypothesis import settings

Decorator = Callable[[Any], Any]


def short_and_long(base: settings, short: int, long: int, *hypothesis: Decorator) -> Decorator:
    """Decorate a property test's undecorated body. It becomes the default-suite test, with `short`
    examples, and a twin named `<name>_long` in the same module, with `long` examples and the
    `fuzz` marker. `hypothesis` are the test's @given and @example decorators, listed as they
    would be stacked (outermost first); each run gets them all, so both run the explicit examples.

    A pytest mark above this decorator marks the short run only (e.g. `long`, which is about the
    default suite's schedule); one below it marks both runs.

    Each run is its own copy of the body's function: Hypothesis keeps a test's settings on the
    function object it wraps, so one function cannot carry two example counts."""

    def build(body: Any) -> Any:
        def run(name: str, examples: int) -> Any:
            test = types.FunctionType(body.__code__, body.__globals__, name, body.__defaults__, body.__closure__)
            test.__qualname__ = name
            test.__module__ = body.__module__
            test.__doc__ = body.__doc__
            test.__kwdefaults__ = body.__kwdefaults__
            test.__dict__.update(body.__dict__)  # pytest marks put below this decorator
            # An @example keeps the first function it decorates's list of examples and adds itself
            # to that list, whichever function it decorates next: without a list of each run's
            # own, both runs ran every explicit example twice (tests/unit/test_property_runs.py).
            test.hypothesis_explicit_examples = list(getattr(body, "hypothesis_explicit_examples", []))
            for decorate in reversed(hypothesis):
                test = decorate(test)
            return settings(base, max_examples=examples)(test)

        long_name = f"{body.__name__}_long"
        if long_name in body.__globals__:
            raise NameError(f"{long_name} already exists in {body.__module__}: it would be replaced")
        body.__globals__[long_name] = pytest.mark.fuzz(run(long_name, long))
        return run(body.__name__, short)

    return build
