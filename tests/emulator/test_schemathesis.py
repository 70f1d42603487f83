"""Schemathesis against Twilio's OpenAPI description of Sync v1, on the in-process emulator.

Every operation the emulator serves (services, maps, map items) is fuzzed with valid and
invalid input, and every answer must be what the spec allows: no 5xx, a status the operation
declares, a body that matches its schema (`webhook_url` is `format: uri`), and valid input
accepted. The spec declares only 2xx answers and leaves some limits to prose, so
`overlay()` adds what sync-api-notes.md says: Twilio's error body for the 4xx statuses, and
the prose limits (TTL range, debounce window, key and unique-name length, data as a JSON
object of at most 16 KiB, an update that names something to update).

The default run is short (`SHORT` examples per operation, about 6 s in all); `pytest -m fuzz`
runs `LONG` (under a minute). The calls go to the ASGI app in-process: no network.
"""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest
import schemathesis
from emulator_support import ACCOUNT_SID, AUTH_TOKEN, BASE_URL, FakeClock, load_spec
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from syncmap_tui.emulator.app import create_app
from syncmap_tui.emulator.store import SyncStore
from syncmap_tui.sync.validation import (
    LOOKS_LIKE_SID,
    MAX_DATA_BYTES,
    MAX_KEY_LENGTH,
    MAX_TTL_SECONDS,
    MAX_UNIQUE_NAME_LENGTH,
)

SHORT = 10
LONG = 250

SERVED_PATHS = (
    "/v1/Services",
    "/v1/Services/{Sid}",
    "/v1/Services/{ServiceSid}/Maps",
    "/v1/Services/{ServiceSid}/Maps/{Sid}",
    "/v1/Services/{ServiceSid}/Maps/{MapSid}/Items",
    "/v1/Services/{ServiceSid}/Maps/{MapSid}/Items/{Key}",
)
"""The emulator serves these; Documents, Lists, Streams and Permissions are unknown routes (404)."""

ERROR_STATUSES = ("400", "401", "404", "405", "409", "412", "413", "429")
"""sync-api-notes.md, "Fuzzing against the OpenAPI file": the statuses Twilio's errors travel with."""

ERROR_BODY = {
    "type": "object",
    "required": ["code", "message", "more_info", "status"],
    "additionalProperties": False,
    "properties": {
        "code": {"type": "integer"},
        "message": {"type": "string"},
        "more_info": {"type": "string", "format": "uri"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
    },
}

TTL = {"type": "integer", "minimum": 0, "maximum": MAX_TTL_SECONDS}
JSON_SCALAR = r'(-?(0|[1-9][0-9]{0,5})|"[a-z ]{0,8}"|true|false|null)'
DATA = {
    # Data travels as JSON text in the form; the spec's `{}` says nothing of that.
    "type": "string",
    # The braces in groups of their own: Schemathesis's regex translation turns a closing brace
    # after a quantifier ("?}") into part of that quantifier ("{0,1}}").
    "pattern": rf'^([{{])("[a-z]{{0,8}}":{JSON_SCALAR}(,"[a-z]{{0,8}}":{JSON_SCALAR}){{0,20}})?([}}])$',
    # At most 21 members of at most 24 characters: far below 16 KiB (MAX_DATA_BYTES), which is
    # not a maxLength here because Schemathesis cannot merge one into this pattern.
}
PROSE_LIMITS: dict[str, dict[str, Any]] = {
    "Ttl": TTL,
    "ItemTtl": TTL,
    "CollectionTtl": TTL,
    "ReachabilityDebouncingWindow": {"type": "integer", "minimum": 1_000, "maximum": 30_000},
    "Key": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
    "UniqueName": {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_UNIQUE_NAME_LENGTH,
        "not": {"pattern": f"^{LOOKS_LIKE_SID.pattern}$"},  # the emulator refuses a whole SID, not a part
    },
    # The emulator's decision (api.py `_webhook_url`): empty, or an absolute http(s) URL with a
    # host. (It also takes IPv6 hosts, user info and 5-digit ports, which this leaves out.)
    "WebhookUrl": {
        "anyOf": [
            {"type": "string", "maxLength": 0},
            {"type": "string", "format": "uri", "pattern": r"^https?://[^/?#@:\[\]]+(:[0-9]{1,4})?([/?#].*)?$"},
        ]
    },
    "Data": DATA,
}
assert 2 + 21 * 24 < MAX_DATA_BYTES
TTL_ALIASES = {
    # Ttl is an alias, ignored (not even checked) beside the parameter it stands for.
    "CreateSyncMap": "CollectionTtl",
    "UpdateSyncMap": "CollectionTtl",
    "CreateSyncMapItem": "ItemTtl",
    "UpdateSyncMapItem": "ItemTtl",
}
NOTHING_TO_UPDATE = {
    # Twilio refuses an update that names nothing to change (54010).
    "UpdateSyncMap": ["Ttl", "CollectionTtl"],
    "UpdateSyncMapItem": ["Data", "Ttl", "ItemTtl"],
}
DROPPED_PARAMETERS = {
    # PageToken is opaque: any string Schemathesis makes up is a token the emulator never issued
    # (54453); tests/emulator/test_paging.py and the Hypothesis tests cover it.
    "PageToken",
}
DECISION_BOUNDS = {
    # Decision (sync-api-notes.md): a PageSize over 100 is clamped, not refused. The emulator's
    # decision: PageSize and Page have at most 9 digits.
    "PageSize": {"type": "integer", "minimum": 1, "maximum": 999_999_999},
    "Page": {"type": "integer", "minimum": 0, "maximum": 999_999_999},
}


def overlay(spec: dict[str, Any]) -> dict[str, Any]:
    """Twilio's spec with what it leaves to prose, for the paths the emulator serves."""
    spec = copy.deepcopy(spec)
    spec["paths"] = {path: spec["paths"][path] for path in SERVED_PATHS}
    spec.pop("security", None)
    for methods in spec["paths"].values():
        for method, operation in methods.items():
            if method not in ("get", "post", "delete"):
                continue
            operation.pop("security", None)
            for status in ERROR_STATUSES:
                operation["responses"][status] = {
                    "description": "Twilio's error body",
                    "content": {"application/json": {"schema": ERROR_BODY}},
                }
            parameters = [p for p in operation.get("parameters", []) if p["name"] not in DROPPED_PARAMETERS]
            for parameter in parameters:
                if parameter["name"] in DECISION_BOUNDS:
                    parameter["schema"] = DECISION_BOUNDS[parameter["name"]]
            operation["parameters"] = parameters
            body = operation.get("requestBody", {}).get("content", {}).get("application/x-www-form-urlencoded")
            if body is not None:
                schema = body["schema"]
                for name in schema["properties"]:
                    if name in PROSE_LIMITS:
                        schema["properties"][name] = {**PROSE_LIMITS[name]}
                if schema.get("required"):
                    operation["requestBody"]["required"] = True
                rules = []
                aliased = TTL_ALIASES.get(operation["operationId"])
                if aliased:
                    schema["properties"]["Ttl"] = {"type": "integer"}
                    rules.append({"anyOf": [{"required": [aliased]}, {"properties": {"Ttl": TTL}}]})
                required_one_of = NOTHING_TO_UPDATE.get(operation["operationId"])
                if required_one_of:
                    operation["requestBody"]["required"] = True
                    rules.append({"anyOf": [{"required": [name]} for name in required_one_of]})
                if rules:
                    schema["allOf"] = rules
    return spec


CONFIG = SchemathesisConfig.from_dict({
    # The app is called in-process (`schema.app`); this only keeps sync.twilio.com, the spec's
    # server, out of every URL Schemathesis builds or prints.
    "base-url": BASE_URL,
    # Twilio ignores parameters it does not know (so does the emulator): an extra one is no error.
    "generation": {"allow-extra-parameters": False},
    # Credentials on every request, and the spec's `security` dropped by overlay(): with both,
    # Schemathesis now and then sent its own credentials with a case it had made "without"
    # them, and then called the 201 a failure. Refusing bad credentials is tested in
    # test_limits_and_errors.py and test_hostile_property.py.
    "headers": {"Authorization": "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode("ascii")},
    # Made-up names alone reach little beyond 404: half the time a path names what the fixture
    # seeded. ("Sid" is a service in /v1/Services/{Sid} and a map below it: both are seeded under
    # the same name.)
    "dictionaries": {
        "services": {"values": ["svc"]},
        "maps": {"values": ["map"]},
        "keys": {"values": ["k", "a/b", "é"]},
        "sids": {"values": ["seeded"]},
    },
    "parameters": {
        "path.ServiceSid": {"dictionary": "services", "probability": 0.5},
        "path.MapSid": {"dictionary": "maps", "probability": 0.5},
        "path.Key": {"dictionary": "keys", "probability": 0.5},
        "path.Sid": {"dictionary": "sids", "probability": 0.5},
    },
    "checks": {
        # A valid update of an item whose revision is not the If-Match Schemathesis made up is
        # refused with 412, as it must be; valid credentials always go with valid data (no 401).
        "positive_data_acceptance": {"expected-statuses": ["2xx", "404", "409", "412"]},
        # Data over 16 KiB is refused with 413 (54006), as Twilio's code for it says.
        "negative_data_rejection": {"expected-statuses": ["400", "404", "405", "409", "412", "413"]},
    },
})


@pytest.fixture
def twilio_sync_schema():
    with SyncStore(":memory:", clock=FakeClock()) as store:
        for service in ("svc", "seeded"):
            store.create_service(ACCOUNT_SID, unique_name=service)
        for service, sync_map in (("svc", "map"), ("seeded", "seeded"), ("svc", "seeded")):
            store.create_map(ACCOUNT_SID, service, unique_name=sync_map)
        store.create_items(ACCOUNT_SID, "svc", "map", [(key, '{"v":1}', 0) for key in ("k", "a/b", "é")])
        schema = schemathesis.openapi.from_dict(overlay(load_spec()), config=CONFIG)
        schema.app = create_app(store, account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN)
        yield schema


schema = schemathesis.pytest.from_fixture("twilio_sync_schema")


@pytest.mark.long
@schema.parametrize()
@settings(max_examples=SHORT, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_emulator_keeps_twilios_contract(case):
    case.call_and_validate()


@pytest.mark.fuzz
@schema.parametrize()
@settings(max_examples=LONG, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_emulator_keeps_twilios_contract_long(case):
    case.call_and_validate()
