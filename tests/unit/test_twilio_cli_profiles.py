"""twilio-cli's profiles as targets: --profile NAME and the active profile fall back to its config.json."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from syncmap_tui.config import ConfigError, config_path, resolve_target
from syncmap_tui.sync.auth import Credentials
from syncmap_tui.twilio_cli_profiles import load_twilio_cli_config, twilio_cli_config_path

SID = "AC" + "0123456789abcdef" * 2
SID2 = "AC" + "fedcba9876543210" * 2
KEY = "SK" + "b" * 32
SECRET = "cli-SECRET-5ea1"
OUR_TOKEN = "our-SECRET-70ken"


def write_cli_config(data: dict, *, mode: int = 0o600, folder: Path | None = None) -> Path:
    path = (folder or Path.home() / ".twilio-cli") / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    os.chmod(path, mode)
    return path


def write_our_config(text: str) -> None:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.chmod(path, 0o600)


CLI = {
    "profiles": {
        "prod": {"accountSid": SID, "apiKey": KEY, "apiSecret": SECRET, "region": "ie1", "edge": "dublin"},
        "dev": {"accountSid": SID2, "apiKey": KEY, "apiSecret": SECRET},
    },
    "activeProject": "dev",
}


def test_profile_names_not_in_our_config_come_from_twilio_cli():
    write_cli_config(CLI)
    target = resolve_target(profile="prod", environ={})
    assert target.credentials == Credentials.api_key(SID, KEY, SECRET)
    assert target.base_url == "https://sync.dublin.ie1.twilio.com"
    assert target.label == "prod (twilio-cli)" and target.source == "flag"


def test_our_profile_of_the_same_name_wins_and_twilio_clis_file_is_not_read():
    write_our_config(f'[profiles.prod]\naccount_sid = "{SID2}"\nauth_token = "{OUR_TOKEN}"\n')
    write_cli_config(CLI, mode=0o644)  # would be refused if it were read
    target = resolve_target(profile="prod", environ={})
    assert target.credentials == Credentials.auth_token(SID2, OUR_TOKEN) and target.label == "prod"


def test_the_active_profile_falls_back_to_twilio_clis_but_the_environment_comes_first():
    write_cli_config(CLI)
    active = resolve_target(environ={})
    assert active.credentials == Credentials.api_key(SID2, KEY, SECRET)
    assert active.source == "twilio-cli" and active.label == "dev (twilio-cli)"
    from_env = resolve_target(environ={"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": "t"})
    assert from_env.source == "env"
    write_our_config(f'active_profile = "mine"\n[profiles.mine]\naccount_sid = "{SID}"\nauth_token = "{OUR_TOKEN}"\n')
    assert resolve_target(environ={}).label == "mine"


def test_without_any_profile_it_is_still_the_embedded_emulator():
    write_cli_config({"profiles": {"dev": CLI["profiles"]["dev"]}})  # no activeProject
    assert resolve_target(environ={}).is_embedded_emulator


def test_twilio_config_dir_is_honoured(tmp_path):
    write_cli_config(CLI, folder=tmp_path / "elsewhere")
    environ = {"TWILIO_CONFIG_DIR": str(tmp_path / "elsewhere")}
    assert twilio_cli_config_path(environ) == tmp_path / "elsewhere" / "config.json"
    assert resolve_target(profile="prod", environ=environ).label == "prod (twilio-cli)"
    with pytest.raises(ConfigError, match="nor in twilio-cli's"):
        resolve_target(profile="prod", environ={})


def test_a_file_others_can_read_is_refused_like_ours():
    path = write_cli_config(CLI, mode=0o644)
    with pytest.raises(ConfigError) as raised:
        resolve_target(environ={})
    assert f"chmod 600 {path}" in raised.value.message and SECRET not in raised.value.message


def test_an_unknown_name_lists_both_files_profiles():
    write_cli_config(CLI)
    with pytest.raises(ConfigError) as raised:
        resolve_target(profile="staging", environ={})
    assert "'prod', 'dev'" in raised.value.message and "no profiles are defined" in raised.value.message


@pytest.mark.parametrize(
    ("profile", "problem"),
    [
        ({"accountSid": SID}, "system keychain"),
        ({"accountSid": "nope", "apiKey": KEY, "apiSecret": SECRET}, "account_sid must be 'AC'"),
        ({"accountSid": SID, "apiKey": "SKshort", "apiSecret": SECRET}, "api_key must be"),
        ({"accountSid": SID, "apiKey": KEY, "apiSecret": SECRET, "region": "a b"}, "region"),
        ({"accountSid": SID, "apiKey": KEY, "apiSecret": 42}, "api_secret must be a string"),
    ],
)
def test_a_bad_profile_is_named_without_its_secret(profile, problem):
    write_cli_config({"profiles": {"bad": profile}})
    with pytest.raises(ConfigError) as raised:
        resolve_target(profile="bad", environ={})
    assert problem in raised.value.message and SECRET not in raised.value.message


def test_a_shared_edge_applies_to_profiles_that_name_none():
    path = write_cli_config({"edge": "sydney", "profiles": {"p": {"accountSid": SID, "apiKey": KEY, "apiSecret": SECRET}}})
    assert load_twilio_cli_config(path).profiles["p"].url() == "https://sync.sydney.us1.twilio.com"


@pytest.mark.parametrize("content", ["not json", "[]", '{"profiles": []}'])
def test_a_file_that_is_not_twilio_clis_config_is_refused(content):
    path = write_cli_config({})
    path.write_text(content)
    with pytest.raises(ConfigError):
        load_twilio_cli_config(path)
