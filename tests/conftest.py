"""Fixtures shared by every test. No test may touch the user's home or the network."""

from __future__ import annotations

import compileall
import gc
from pathlib import Path

import pytest

# tests/plugin/ runs test projects that use the pytest plugin. Enabled here, at the top level,
# because pytest refuses `pytest_plugins` in a conftest below it (tests/plugin/conftest.py).
pytest_plugins = ["pytester"]

# The garbage collector took about a quarter of the suite's CPU: 6.1 s of 27.7 s for
# tests/ui/test_flows.py and test_dialogs.py in one process, 4.7 s of it in full collections. Each
# full collection walks every live object: the modules pytest, Hypothesis and Schemathesis import,
# and up to 1,024 StylesCaches of finished apps with their rendered lines, which Textual 8 keeps in
# an lru_cache keyed by instance (StylesCache.get_inner_outer). Freezing what collection leaves
# behind and collecting the young generation less often took the two files to 21.3 s of CPU (GC
# 2.2 s), and the whole suite from 258 s to 231 s of CPU (measured). Tests still collect garbage;
# only the test process is tuned, never the app.
GC_THRESHOLDS = (10_000, 50, 100)
gc.set_threshold(*GC_THRESHOLDS)


REPO_ROOT = Path(__file__).resolve().parent.parent


UNRAISABLE_GC_PASSES = 1
"""At its end, each test process runs pytest's hunt for exceptions raised in finalizers (its
unraisableexception plugin) after 5 full collections: ~0.85 s of CPU in a worker of the UI tests
(0.17 s each, measured), six workers at the very end of the run. One pass collects what is
unreachable; each test's own finalizers are still checked as it ends, as pytest does."""


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput") and getattr(config.option, "numprocesses", None):
        compile_once_for_every_process(config)
    try:  # pytest's stash key, there for pytester to lower: a pytest without it only loses the saving
        from _pytest.unraisableexception import gc_collect_iterations_key
    except ImportError:
        return
    config.stash[gc_collect_iterations_key] = UNRAISABLE_GC_PASSES


def compile_once_for_every_process(config: pytest.Config) -> None:
    """Compile the project and its tests once, in pytest-xdist's controller, before the workers
    start. PYTHONDONTWRITEBYTECODE (set on CI's machine and here) keeps Python from writing the
    bytecode it compiles, and pytest from writing the test modules it rewrites for its assertion
    messages; so each worker compiled and rewrote them all (~1.7 s of CPU of its 3.2 s start), and
    each app and emulator process that the e2e and plugin tests start compiled syncmap_tui (~0.1 s
    of ~0.36 s). Reading bytecode is still allowed: every process reads what is written here, into
    the checkout's __pycache__ folders, which git ignores (the venv's are pip's)."""
    compileall.compile_dir(REPO_ROOT / "syncmap_tui", quiet=1)
    tests = REPO_ROOT / "tests"
    rewritten = [*tests.rglob("test_*.py"), *tests.rglob("conftest.py"), REPO_ROOT / "syncmap_tui" / "pytest_plugin.py"]
    for path in set(tests.rglob("*.py")) - set(rewritten):
        compileall.compile_file(path, quiet=1)
    try:  # pytest's private names: a pytest without them only loses the head start
        from _pytest.assertion.rewrite import PYC_TAIL, _rewrite_test, _write_pyc, assertstate_key, get_cache_dir
    except ImportError:
        return
    state = config.stash.get(assertstate_key, None)
    if state is None:  # --assert=plain: nothing is rewritten
        return
    for path in rewritten:
        if "__snapshots__" in path.parts or not path.is_file():
            continue
        cache_dir = get_cache_dir(path)
        cache_dir.mkdir(exist_ok=True)
        source_stat, code = _rewrite_test(path, config)
        _write_pyc(state, code, source_stat, cache_dir / (path.name[:-3] + PYC_TAIL))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked `long` first. pytest-xdist hands tests to its workers in this order, one at a
    time as each runs short of work: a test of ~9 s handed out last was the run's last 9 s, on one
    worker while the others were done (the edit session's state machine, measured)."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


def pytest_collection_finish(session):
    """Move the objects of the imported modules and the collected tests out of the collector's way."""
    gc.collect()
    gc.freeze()


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory, monkeypatch):
    """Point HOME and the XDG dirs (which platformdirs reads) at a fresh temporary folder."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        folder = home / name.lower()
        folder.mkdir()
        monkeypatch.setenv(name, str(folder))
    for name in (
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
        "TWILIO_API_KEY",
        "TWILIO_API_SECRET",
        "TWILIO_EDGE",
        "TWILIO_REGION",
        "TWILIO_CONFIG_DIR",
    ):
        monkeypatch.delenv(name, raising=False)
    return home

