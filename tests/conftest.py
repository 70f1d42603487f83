"""Fixtures shared by every test. No test may touch the user's home or the network."""

from __future__ import annotations

import pytest

# tests/plugin/ runs test projects that use the pytest plugin. Enabled here, at the top level,
# because pytest refuses `pytest_plugins` in a conftest below it (tests/plugin/conftest.py).
pytest_plugins = ["pytester"]


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
