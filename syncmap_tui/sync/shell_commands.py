"""The open item's update as a command for a POSIX shell: curl, or twilio-cli. Copied to the clipboard
(OSC 52) so that an engineer on a remote machine can hand it on or run it elsewhere.

Both update with If-Match on the revision the editor loaded, so a command run after someone else's
change is refused (412) rather than writing over it. Neither holds a secret: the shell supplies the
credentials from the same environment variables twilio-python and twilio-cli read. Every piece of
remote text is quoted with shlex.quote, and characters that a terminal would act on when the command
is pasted or echoed (ESC, C1 controls, bidi overrides) are never in it: in the data they are JSON
escapes (the same value), and a key or revision holding them is refused for twilio-cli and the header.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from syncmap_tui.sync.models import url_segment
from syncmap_tui.sync.urls import TWILIO_SYNC_URL
from syncmap_tui.sync.validation import check_size, encode_data, escape_unprintable

ACCOUNT_SID_VARIABLE = "TWILIO_ACCOUNT_SID"
AUTH_TOKEN_VARIABLE = "TWILIO_AUTH_TOKEN"
API_KEY_VARIABLE = "TWILIO_API_KEY"
API_SECRET_VARIABLE = "TWILIO_API_SECRET"

TWILIO_CLI_UPDATE = "twilio api:sync:v1:services:maps:items:update"
"""twilio-cli's command for POST /v1/Services/{ServiceSid}/Maps/{MapSid}/Items/{Key}. Its flags are the
OpenAPI parameter names in kebab case (twilio-cli's get-flag-config.js): --service-sid, --map-sid,
--key, --data, --item-ttl, --collection-ttl, and --if-match for the If-Match header."""


class NotExpressible(ValueError):
    """The command cannot be built; the message says why, for the user."""


@dataclass(frozen=True)
class ItemUpdate:
    """One update of one item, as the editor would send it."""

    service_sid: str
    map_sid: str
    key: str
    loaded_revision: str
    data: dict[str, Any]
    item_ttl: int | None = None
    collection_ttl: int | None = None


def credential_variables(uses_api_key: bool) -> tuple[str, str]:
    """The environment variables that hold the username and the secret, as the app authenticates."""
    return (API_KEY_VARIABLE, API_SECRET_VARIABLE) if uses_api_key else (ACCOUNT_SID_VARIABLE, AUTH_TOKEN_VARIABLE)


def _wire_data(update: ItemUpdate) -> str:
    """The Data field: the compact JSON a save sends, with characters that do not print as JSON escapes
    (an equal value; what is counted against 16 KiB is this text, as it is what curl sends)."""
    wire = escape_unprintable(encode_data(update.data), keep="")
    check_size(wire)
    return wire


def _header_safe(revision: str) -> str:
    if not revision or not all(" " <= char <= "~" for char in revision):
        raise NotExpressible(
            f"the loaded revision {revision!r} holds characters an HTTP header cannot carry as typed"
        )
    return revision


def curl_command(base_url: str, update: ItemUpdate, *, uses_api_key: bool) -> str:
    """A curl command that sends `update` to `base_url`.

    The credentials go to curl on its standard input (`--config -`, written by the shell's printf
    builtin), not as `-u user:secret`: arguments are visible to every user of the machine in `ps`
    while curl runs, and curl's blanking of them is neither immediate nor portable. (In curl's config
    syntax a `"` or `\\` in the value would need escaping; Twilio's SIDs, tokens and API secrets hold
    neither.)
    """
    user, secret = credential_variables(uses_api_key)
    path = f"/v1/Services/{url_segment(update.service_sid)}/Maps/{url_segment(update.map_sid)}/Items/{url_segment(update.key)}"
    url = base_url.rstrip("/") + path
    fields = [f"Data={_wire_data(update)}"]
    if update.item_ttl is not None:
        fields.append(f"ItemTtl={update.item_ttl}")
    if update.collection_ttl is not None:
        fields.append(f"CollectionTtl={update.collection_ttl}")
    lines = [
        f"printf 'user = \"%s:%s\"\\n' \"${user}\" \"${secret}\" |",
        "  curl --config - --silent --show-error --fail-with-body -X POST",
        f"  {shlex.quote(url)}",
        f"  -H {shlex.quote('If-Match: ' + _header_safe(update.loaded_revision))}",
        *(f"  --data-urlencode {shlex.quote(field)}" for field in fields),
    ]
    return " \\\n".join(lines)


def twilio_cli_offered(base_url: str | None) -> str | None:
    """None when twilio-cli reaches the same server as the app; else why it does not."""
    if base_url is None:
        return "this session uses the embedded emulator, which twilio-cli cannot reach: use Copy as curl with `syncmap-tui emulator`"
    if base_url.rstrip("/") != TWILIO_SYNC_URL:
        host = urlsplit(base_url).hostname or base_url
        return f"twilio-cli has no base-URL setting and would go to sync.twilio.com, not {host}: use Copy as curl"
    return None


def twilio_cli_command(update: ItemUpdate) -> str:
    """The twilio-cli command for `update`. twilio-cli reads the credentials itself (its active
    profile, or TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN or TWILIO_API_KEY and TWILIO_API_SECRET)."""
    if not update.key.isprintable():
        raise NotExpressible("the key holds characters that do not print; a terminal could act on them: use Copy as curl")
    revision = _header_safe(update.loaded_revision)
    parts = [
        TWILIO_CLI_UPDATE,
        # --flag=value: a key or revision starting with "-" must not read as another flag.
        f"--service-sid={shlex.quote(update.service_sid)}",
        f"--map-sid={shlex.quote(update.map_sid)}",
        f"--key={shlex.quote(update.key)}",
        f"--if-match={shlex.quote(revision)}",
        f"--data={shlex.quote(_wire_data(update))}",
    ]
    if update.item_ttl is not None:
        parts.append(f"--item-ttl={update.item_ttl}")
    if update.collection_ttl is not None:
        parts.append(f"--collection-ttl={update.collection_ttl}")
    return " \\\n  ".join(parts)
