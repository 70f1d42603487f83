"""What "Not connected" tells to check after a 401 (NavigationFlows.connection_advice): where the
refused credentials came from, named without a secret. tests/ui/test_connection_advice.py shows
the status line saying it for one source."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from syncmap_tui.config import Target, config_path
from syncmap_tui.emulator import DEFAULT_ACCOUNT_SID
from syncmap_tui.sync.auth import Credentials
from syncmap_tui.sync.errors import TwilioCode, error_body, error_from_response
from syncmap_tui.twilio_cli_profiles import twilio_cli_config_path
from syncmap_tui.ui.app import DeepLink
from syncmap_tui.ui.flows.navigation import NavigationFlows

API_KEY = Credentials.api_key(DEFAULT_ACCOUNT_SID, "SK" + "b" * 32, "not-the-secret")
AUTH_TOKEN = Credentials.auth_token(DEFAULT_ACCOUNT_SID, "not-the-token")


def advice(source: str, credentials: Credentials) -> str:
    target = Target(label="refused", base_url="http://emulator.test", credentials=credentials, source=source)
    refused = error_from_response(401, error_body(TwilioCode.AUTH_FAILED, "Authenticate"), {})
    screen = SimpleNamespace(target=target, deep_link=DeepLink())  # the advice reads only the target
    return NavigationFlows(screen).connection_advice(refused)


@pytest.mark.parametrize(
    ("source", "credentials", "names"),
    [
        pytest.param("twilio-cli", API_KEY, lambda: f"twilio-cli's active profile in {twilio_cli_config_path()}", id="twilio-cli"),
        pytest.param("env", API_KEY, lambda: "Check TWILIO_API_KEY and TWILIO_API_SECRET", id="env-api-key"),
        pytest.param("env", AUTH_TOKEN, lambda: "Check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN", id="env-auth-token"),
        pytest.param("profile", API_KEY, lambda: f"the profile in {config_path()}", id="profile"),
    ],
)
def test_a_refused_401_names_where_the_credentials_came_from(source, credentials, names):
    said = advice(source, credentials)
    assert "HTTP 401" in said and names() in said, said
    assert "not-the-secret" not in said and "not-the-token" not in said, said


def test_a_refused_auth_token_from_the_environment_does_not_blame_an_api_key():
    assert "API_KEY" not in advice("env", AUTH_TOKEN)
