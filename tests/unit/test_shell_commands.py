"""The copied curl and twilio-cli commands: quoted for a POSIX shell, no secret, If-Match on the loaded revision."""

from __future__ import annotations

import json
import shlex
import subprocess

import pytest

from syncmap_tui.sync.errors import TwilioCode
from syncmap_tui.sync.shell_commands import (
    ItemUpdate,
    NotExpressible,
    curl_command,
    twilio_cli_command,
    twilio_cli_offered,
)
from syncmap_tui.sync.validation import ValidationError

SERVICE = "IS" + "a" * 32
MAP = "MP" + "b" * 32
HOSTILE = "it's \"$(touch pwned)\" `touch pwned2` $HOME \\ \n\t ; | & é 🎉 \u202e \x1b[31m \x9b"


def update(**changes) -> ItemUpdate:
    fields = dict(service_sid=SERVICE, map_sid=MAP, key="order-1", loaded_revision="3", data={"a": 1})
    fields.update(changes)
    return ItemUpdate(**fields)


def words(command: str) -> list[str]:
    """What a POSIX shell hands the program, by shlex (which follows POSIX quoting)."""
    return shlex.split(command.replace("\\\n", " "))


def test_curl_sends_the_data_with_if_match_on_the_loaded_revision():
    command = curl_command("https://sync.twilio.com", update(item_ttl=60), uses_api_key=False)
    curl = words(command.split("|", 1)[1])
    assert curl[0] == "curl"
    assert f"https://sync.twilio.com/v1/Services/{SERVICE}/Maps/{MAP}/Items/order-1" in curl
    assert curl[curl.index("-H") + 1] == "If-Match: 3"
    fields = [curl[i + 1] for i, word in enumerate(curl) if word == "--data-urlencode"]
    assert fields == ['Data={"a":1}', "ItemTtl=60"]


def test_curl_names_the_credential_variables_and_holds_no_secret():
    token_command = curl_command("https://sync.twilio.com", update(), uses_api_key=False)
    assert '"$TWILIO_ACCOUNT_SID" "$TWILIO_AUTH_TOKEN"' in token_command
    key_command = curl_command("https://sync.twilio.com", update(), uses_api_key=True)
    assert '"$TWILIO_API_KEY" "$TWILIO_API_SECRET"' in key_command
    assert "-u" not in words(key_command.split("|", 1)[1])  # not in curl's arguments (ps shows them)


def test_hostile_data_reaches_curl_exactly_and_never_runs(tmp_path):
    data = {HOSTILE: HOSTILE, "n": [1, None, True]}
    command = curl_command("http://127.0.0.1:1", update(data=data, key=HOSTILE), uses_api_key=False)
    assert "\x1b" not in command and "\x9b" not in command and "\u202e" not in command
    sent = next(w for w in words(command.split("|", 1)[1]) if w.startswith("Data="))
    assert json.loads(sent[len("Data="):]) == data  # the same value, unprintables as JSON escapes
    # A real shell: `echo` in place of curl prints the arguments; nothing in the data is executed.
    shown = subprocess.run(
        ["sh", "-c", command.split("|", 1)[1].replace("curl ", "printf '%s\\n' ", 1)],
        capture_output=True, text=True, check=True, cwd=tmp_path,
    ).stdout
    assert "Data=" + sent[len("Data="):] in shown
    assert list(tmp_path.iterdir()) == []  # no `touch` ran


def test_the_key_is_one_encoded_path_segment():
    command = curl_command("http://127.0.0.1:1/", update(key="a/b?c#d ..", data={}), uses_api_key=False)
    assert "/Items/a%2Fb%3Fc%23d%20..'" in command or "/Items/a%2Fb%3Fc%23d%20.." in command
    assert "http://127.0.0.1:1/v1/" in command  # no double slash from the base URL's trailing one


def test_a_revision_that_a_header_cannot_carry_is_refused():
    for revision in ("3\r\nX-Evil: 1", "\x1b[2J", "", "é"):
        with pytest.raises(NotExpressible):
            curl_command("https://sync.twilio.com", update(loaded_revision=revision), uses_api_key=False)


def test_data_over_16_kib_is_refused_as_a_save_would_be():
    with pytest.raises(ValidationError) as refused:
        curl_command("https://sync.twilio.com", update(data={"x": "y" * 17_000}), uses_api_key=False)
    assert refused.value.code == TwilioCode.DATA_TOO_LARGE


def test_twilio_cli_command_uses_its_flags():
    command = twilio_cli_command(update(key="-rf /", data={"q": HOSTILE.replace("\x1b", "").replace("\x9b", "")}, collection_ttl=9))
    argv = words(command)
    assert argv[:3] == ["twilio", "api:sync:v1:services:maps:items:update", f"--service-sid={SERVICE}"]
    assert f"--map-sid={MAP}" in argv
    assert "--key=-rf /" in argv  # one word, never a flag of its own
    assert "--if-match=3" in argv
    assert "--collection-ttl=9" in argv
    assert not any(name in command for name in ("TOKEN", "SECRET", "-u "))


def test_twilio_cli_refuses_a_key_a_terminal_would_act_on():
    with pytest.raises(NotExpressible):
        twilio_cli_command(update(key="k\x1b]52;c;evil\x07"))


def test_twilio_cli_is_offered_for_twilio_itself_only():
    assert twilio_cli_offered("https://sync.twilio.com") is None
    assert twilio_cli_offered("https://sync.twilio.com/") is None
    assert "127.0.0.1" in twilio_cli_offered("http://127.0.0.1:8777")
    assert "sync.dublin.ie1.twilio.com" in twilio_cli_offered("https://sync.dublin.ie1.twilio.com")
    assert "embedded" in twilio_cli_offered(None)
