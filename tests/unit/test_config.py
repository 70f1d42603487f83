"""Target resolution and the config file. HOME and XDG_* are temp dirs (conftest)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import syncmap_tui.emulator
from syncmap_tui import config
from syncmap_tui.config import (
    TWILIO_SYNC_URL,
    ConfigError,
    Profile,
    Target,
    config_path,
    data_dir,
    embedded_db_path,
    load_config,
    resolve_target,
    state_dir,
    sync_base_url,
)
from syncmap_tui.sync.auth import Credentials

SID = "AC" + "0123456789abcdef" * 2
SID2 = "AC" + "fedcba9876543210" * 2
KEY = "SK" + "a" * 32
TOKEN = "tok-SECRET-c0ffee"
KEY_SECRET = "key-SECRET-badd1e"
PROFILE_TOKEN = "prof-SECRET-f00d"
SECRETS = (TOKEN, KEY_SECRET, PROFILE_TOKEN)


def write_config(text: str, mode: int = 0o600) -> Path:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    os.chmod(path, mode)
    return path


STAGING = f"""
active_profile = "staging"
[profiles.staging]
account_sid = "{SID2}"
auth_token = "{PROFILE_TOKEN}"
region = "ie1"
read_only = true
production = true
[profiles.other]
account_sid = "{SID2}"
auth_token = "{PROFILE_TOKEN}"
"""

ENV_TOKEN = {"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN}


def error(**kwargs) -> str:
    with pytest.raises(ConfigError) as info:
        resolve_target(**kwargs)
    message = str(info.value)
    for secret in SECRETS:
        assert secret not in message and secret not in repr(info.value)
    return message


# --- paths ------------------------------------------------------------------------------------


def test_paths_are_under_the_xdg_dirs_and_not_created(isolated_home):
    assert config_path() == isolated_home / "xdg_config_home" / "syncmap-tui" / "config.toml"
    assert data_dir() == isolated_home / "xdg_data_home" / "syncmap-tui"
    assert state_dir() == isolated_home / "xdg_state_home" / "syncmap-tui"
    assert embedded_db_path() == data_dir() / "emulator.sqlite3"
    resolve_target(environ={})
    assert not config_path().parent.exists() and not data_dir().exists() and not state_dir().exists()


def test_module_is_headless():
    code = "import sys, syncmap_tui.config; assert 'textual' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# --- precedence -------------------------------------------------------------------------------


def test_default_is_the_embedded_emulator():
    t = resolve_target(environ={})
    assert t == Target("local emulator", None, None, False, False, True, "default")


def test_active_profile_beats_the_default():
    write_config(STAGING)
    t = resolve_target(environ={})
    assert (t.label, t.source, t.base_url) == ("staging", "profile", "https://sync.ie1.twilio.com")
    assert t.credentials == Credentials.auth_token(SID2, PROFILE_TOKEN)
    assert t.read_only and t.production and not t.is_embedded_emulator


def test_env_beats_the_active_profile():
    write_config(STAGING)
    t = resolve_target(environ=ENV_TOKEN)
    assert (t.label, t.source, t.base_url) == ("env: AC01…cdef", "env", TWILIO_SYNC_URL)
    assert t.credentials == Credentials.auth_token(SID, TOKEN)
    assert not t.read_only and not t.production


def test_env_is_used_without_reading_the_config_file():
    write_config("not toml [")
    assert resolve_target(environ=ENV_TOKEN).source == "env"


def test_profile_flag_beats_env():
    write_config(STAGING)
    t = resolve_target(profile="other", environ=ENV_TOKEN)
    assert (t.label, t.source, t.base_url) == ("other", "flag", TWILIO_SYNC_URL)
    assert t.credentials.account_sid == SID2


def test_base_url_flag_overrides_the_url_of_the_chosen_target():
    write_config(STAGING)
    t = resolve_target(base_url="http://127.0.0.1:8777/", environ=ENV_TOKEN)
    # The credentials came from the environment: a 401 names TWILIO_* (issue #15), not the flag.
    assert (t.base_url, t.source, t.credentials) == ("http://127.0.0.1:8777", "env", Credentials.auth_token(SID, TOKEN))
    assert t.label == "env: AC01…cdef @ http://127.0.0.1:8777"
    t = resolve_target(base_url="https://proxy.example.com", profile="staging", environ={})
    assert (t.base_url, t.label, t.production, t.read_only) == (
        "https://proxy.example.com", "staging @ https://proxy.example.com", True, True)


def test_demo_forces_the_embedded_emulator():
    write_config(STAGING)
    t = resolve_target(demo=True, read_only=True, environ=ENV_TOKEN)
    assert t.is_embedded_emulator and t.credentials is None and t.base_url is None
    assert (t.source, t.read_only, t.label) == ("flag", True, "local emulator")
    assert "--demo" in error(demo=True, profile="staging", environ={})


def test_read_only_flag_ors_with_the_profile():
    write_config(STAGING)
    assert resolve_target(profile="staging", environ={}).read_only  # profile says so
    assert not resolve_target(profile="other", environ={}).read_only
    assert resolve_target(profile="other", read_only=True, environ={}).read_only
    assert resolve_target(read_only=True, environ=ENV_TOKEN).read_only


# --- --base-url alone -------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["http://127.0.0.1:8777", "http://localhost:9000", "http://[::1]:8777"])
def test_loopback_base_url_alone_uses_the_emulator_pair(url):
    t = resolve_target(base_url=url, environ={})
    assert t.credentials == Credentials.auth_token("AC" + "0" * 32, "emulator-token")
    assert (t.base_url, t.source, t.is_embedded_emulator) == (url, "flag", False)


def test_loopback_base_url_alone_uses_the_pair_the_emulator_answers_to():
    t = resolve_target(base_url="http://127.0.0.1:8777", environ={})
    emulator = syncmap_tui.emulator
    assert t.credentials == Credentials.auth_token(emulator.DEFAULT_ACCOUNT_SID, emulator.DEFAULT_AUTH_TOKEN)


def test_non_loopback_base_url_needs_credentials():
    assert "credentials" in error(base_url="https://sync.example.com", environ={})


@pytest.mark.parametrize("url", ["http://sync.twilio.com", "http://10.0.0.5:8777", "http://[2001:db8::1]/"])
def test_plain_http_to_a_non_loopback_host_is_refused(url):
    assert "https://" in error(base_url=url, environ=ENV_TOKEN)


@pytest.mark.parametrize("url", ["ftp://127.0.0.1", "127.0.0.1:8777", "", "http://127.0.0.1:99999"])
def test_malformed_base_url_is_refused(url):
    error(base_url=url, environ=ENV_TOKEN)


def test_base_url_with_a_password_is_refused_without_echoing_it():
    message = error(base_url=f"https://u:{TOKEN}@example.com", environ={})
    assert "password" in message


# --- environment: API key vs token, edge/region -----------------------------------------------


def test_env_api_key_pair_beats_the_token():
    t = resolve_target(environ={**ENV_TOKEN, "TWILIO_API_KEY": KEY, "TWILIO_API_SECRET": KEY_SECRET})
    assert t.credentials == Credentials.api_key(SID, KEY, KEY_SECRET) and t.credentials.uses_api_key


def test_env_api_key_without_its_secret_falls_back_to_the_token():
    t = resolve_target(environ={**ENV_TOKEN, "TWILIO_API_KEY": KEY})
    assert t.credentials == Credentials.auth_token(SID, TOKEN)


def test_half_set_env_credentials_are_an_error():
    assert "TWILIO_AUTH_TOKEN" in error(environ={"TWILIO_ACCOUNT_SID": SID})
    assert "TWILIO_ACCOUNT_SID" in error(environ={"TWILIO_AUTH_TOKEN": TOKEN})
    assert "TWILIO_API_SECRET" in error(environ={"TWILIO_ACCOUNT_SID": SID, "TWILIO_API_KEY": KEY})
    # a secret pasted into the SID variable is refused without being shown
    assert "32 hex" in error(environ={"TWILIO_ACCOUNT_SID": TOKEN, "TWILIO_AUTH_TOKEN": TOKEN})


@pytest.mark.parametrize(
    ("edge", "region", "url"),
    [
        (None, None, "https://sync.twilio.com"),
        ("", "", "https://sync.twilio.com"),
        ("dublin", "ie1", "https://sync.dublin.ie1.twilio.com"),
        ("sydney", None, "https://sync.sydney.us1.twilio.com"),
        (None, "au1", "https://sync.au1.twilio.com"),
        ("Dublin", "IE1", "https://sync.dublin.ie1.twilio.com"),
    ],
)
def test_edge_and_region_hosts(edge, region, url):
    assert sync_base_url(edge, region) == url
    env = {**ENV_TOKEN, **({"TWILIO_EDGE": edge} if edge is not None else {}),
           **({"TWILIO_REGION": region} if region is not None else {})}
    assert resolve_target(environ=env).base_url == url


@pytest.mark.parametrize("bad", ["evil.com/x", "a b", "ie1.", "-x"])
def test_edge_and_region_must_be_host_labels(bad):
    with pytest.raises(ConfigError):
        sync_base_url(bad, None)
    error(environ={**ENV_TOKEN, "TWILIO_REGION": bad})


# --- the config file --------------------------------------------------------------------------


def test_missing_file_means_no_profiles():
    assert load_config() == config.Config(None, {})


def test_group_or_world_readable_file_is_refused():
    path = write_config(STAGING, mode=0o644)
    message = error(environ={})
    assert str(path) in message and f"chmod 600 {path}" in message
    os.chmod(path, 0o640)
    error(environ={})
    os.chmod(path, 0o600)
    assert resolve_target(environ={}).label == "staging"


def test_invalid_toml_is_a_clear_message():
    path = write_config(f'active_profile = "x"\n[profiles.x]\nauth_token = "{PROFILE_TOKEN}\n')
    message = error(environ={})
    assert str(path) in message and "not valid TOML" in message and "line 3" in message


def test_toml_errors_do_not_quote_characters_of_the_file():
    write_config(f'[profiles.x]\nauth_token = "{PROFILE_TOKEN}\x01"\n')
    message = error(environ={})
    assert "Illegal character (at line 2" in message and "\\x01" not in message


def test_unknown_active_profile():
    write_config(STAGING.replace('active_profile = "staging"', 'active_profile = "prod"'))
    message = error(environ={})
    assert "'prod'" in message and "'staging'" in message


def test_unknown_profile_flag():
    write_config(STAGING)
    message = error(profile="prod", environ={})
    assert "'prod'" in message and "'other'" in message and str(config_path()) in message
    write_config("")
    assert "no profiles are defined" in error(profile="prod", environ={})


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (f'auth_token = "{PROFILE_TOKEN}"', "account_sid is missing"),
        (f'account_sid = "{SID}"', "no secret"),
        (f'account_sid = "{SID}"\napi_key = "{KEY}"', "api_secret"),
        (f'account_sid = "{PROFILE_TOKEN}"\nauth_token = "x"', "32 hex"),
        (f'account_sid = "{SID}"\napi_key = "{PROFILE_TOKEN}"\napi_secret = "x"', "SK"),
        (f'account_sid = "{SID}"\nauth_token = "{PROFILE_TOKEN}"\napi_secert = "x"', "api_secert"),
        (f'account_sid = "{SID}"\nauth_token = "{PROFILE_TOKEN}"\nread_only = "yes"', "true or false"),
        (f'account_sid = "{SID}"\nauth_token = "{PROFILE_TOKEN}"\nbase_url = "http://example.com"', "https"),
    ],
)
def test_bad_profiles_are_clear_messages(body, expected):
    write_config(f'active_profile = "p"\n[profiles.p]\n{body}\n')
    message = error(environ={})
    assert expected in message and "'p'" in message


def test_profile_with_api_key_and_base_url():
    write_config(f'active_profile = "local"\n[profiles.local]\naccount_sid = "{SID}"\napi_key = "{KEY}"\n'
                 f'api_secret = "{KEY_SECRET}"\nauth_token = "{TOKEN}"\nbase_url = "http://127.0.0.1:8777/"\n')
    t = resolve_target(environ={})
    assert t.credentials == Credentials.api_key(SID, KEY, KEY_SECRET)
    assert t.base_url == "http://127.0.0.1:8777"


# --- secrets never shown ----------------------------------------------------------------------


def test_reprs_hold_no_secret():
    write_config(STAGING)
    targets = [
        resolve_target(environ=ENV_TOKEN),
        resolve_target(environ={**ENV_TOKEN, "TWILIO_API_KEY": KEY, "TWILIO_API_SECRET": KEY_SECRET}),
        resolve_target(environ={}),
    ]
    profile = Profile(SID, api_key=KEY, api_secret=KEY_SECRET, auth_token=TOKEN)
    for text in [*map(repr, targets), *map(str, targets), repr(profile), repr(load_config())]:
        assert all(secret not in text for secret in SECRETS), text
    assert SID in repr(targets[0])  # the SID is not secret, and it is what the repr is for
