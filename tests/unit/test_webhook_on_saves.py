"""Which services' saves call a webhook (Service.saves_call_webhook, issue #14 part 5): the rule the
header's "saves call a webhook" notice follows (tests/ui/test_webhook_notice.py shows one screen
following it). Each service is rendered by the emulator, as the app reads it over the wire."""

from __future__ import annotations

import json

import pytest

from syncmap_tui.emulator import DEFAULT_ACCOUNT_SID
from syncmap_tui.emulator.services import render_service
from syncmap_tui.emulator.store import SyncStore
from syncmap_tui.sync.models import Service

WEBHOOK = "https://example.com/sync-webhook"


def service_as_read(**settings) -> Service:
    with SyncStore(":memory:") as store:
        record = store.create_service(DEFAULT_ACCOUNT_SID, unique_name="svc", **settings)
        return Service.from_api(json.loads(render_service(record, "http://emulator.test")))


def test_a_webhook_called_from_rest_writes_is_called_by_saves():
    assert service_as_read(webhook_url=WEBHOOK, webhooks_from_rest_enabled=True).saves_call_webhook


@pytest.mark.parametrize(
    "settings",
    [
        pytest.param({"reachability_webhooks_enabled": True}, id="reachability-webhooks-alone"),
        # they fire on client connections, not saves
        pytest.param({"reachability_webhooks_enabled": True, "webhook_url": WEBHOOK}, id="reachability-with-a-url"),
        pytest.param({"webhook_url": WEBHOOK, "webhooks_from_rest_enabled": False}, id="url-without-webhooks-from-rest"),
        pytest.param({"webhooks_from_rest_enabled": True}, id="webhooks-from-rest-without-a-url"),
        pytest.param({}, id="no-webhook"),
    ],
)
def test_no_webhook_called_from_rest_writes_is_not_called_by_saves(settings):
    assert not service_as_read(**settings).saves_call_webhook
