"""A 401 names where the refused credentials came from: twilio-cli's active profile, the environment's pair.
Each source's words are tested in tests/unit/test_connection_advice.py; here the status line says them."""

from __future__ import annotations

from textual.widgets import Static

from syncmap_tui.config import Target
from syncmap_tui.emulator import DEFAULT_ACCOUNT_SID
from syncmap_tui.emulator.inprocess import emulator_transport
from syncmap_tui.sync.auth import Credentials
from syncmap_tui.sync.client import NO_RETRY, SyncClient
from syncmap_tui.twilio_cli_profiles import twilio_cli_config_path
from syncmap_tui.ui.app import DeepLink, make_app

from .conftest import EMULATOR_URL
from .helpers import main_screen, settle

WRONG = Credentials.api_key(DEFAULT_ACCOUNT_SID, "SK" + "b" * 32, "not-the-secret")
FROM_TWILIO_CLI = Target(label="dev (twilio-cli)", base_url=EMULATOR_URL, credentials=WRONG, source="twilio-cli")


async def test_a_refused_twilio_cli_profile_points_at_twilio_clis_file(emulator):
    status = await refused_status(emulator, FROM_TWILIO_CLI)
    assert "HTTP 401" in status and f"twilio-cli's active profile in {twilio_cli_config_path()}" in status
    assert "not-the-secret" not in status


async def refused_status(emulator, target: Target) -> str:
    def client_factory(chosen: Target) -> SyncClient:
        return SyncClient(chosen.credentials, base_url=EMULATOR_URL, transport=emulator_transport(emulator.app), retry=NO_RETRY)

    app = make_app(target, deep_link=DeepLink(), client_factory=client_factory)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        return str(main_screen(pilot).query_one("#items-status", Static).render())
