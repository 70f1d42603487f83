"""Fixtures shared by every test. No test may touch the user's home or the network."""

from __future__ import annotations

import gc

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

