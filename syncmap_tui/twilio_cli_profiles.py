"""twilio-cli's profiles, read (never written) from its ``config.json``. Headless.

twilio-cli keeps them in ``$TWILIO_CONFIG_DIR/config.json``, by default ``~/.twilio-cli/config.json``::

    {"profiles": {"NAME": {"accountSid": "AC…", "apiKey": "SK…", "apiSecret": "…",
                           "region": "ie1", "edge": "dublin"}},
     "activeProject": "NAME"}

The API key and secret are in plain text, so the file gets this app's own rule for its config: a
file the group or others can read is refused until ``chmod 600`` (twilio-cli itself writes it with
the umask's mode, often 0644). An edge set for all profiles (a top-level ``edge``, older
twilio-cli) applies to a profile that names none. Profiles of older twilio-cli versions kept their
secret in the system keychain, which this app does not read: such a profile is reported as
having no API key. Every profile is checked with the rules of this app's own profiles.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from syncmap_tui.config import ConfigError, Profile, read_secret_file, validate_profile

CONFIG_DIR_ENV = "TWILIO_CONFIG_DIR"
DEFAULT_CONFIG_DIR = "~/.twilio-cli"
CONFIG_FILE_NAME = "config.json"
LABEL_SUFFIX = " (twilio-cli)"
"""Added to the header's label, so that it says whose profile is open."""


@dataclass(frozen=True)
class TwilioCliConfig:
    active_profile: str | None = None
    profiles: Mapping[str, Profile] = field(default_factory=dict)


def twilio_cli_config_path(environ: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    folder = environ.get(CONFIG_DIR_ENV) or DEFAULT_CONFIG_DIR
    return Path(folder).expanduser() / CONFIG_FILE_NAME


def load_twilio_cli_config(path: Path) -> TwilioCliConfig:
    """twilio-cli's profiles, checked; an empty config when the file does not exist."""
    text = read_secret_file(path, "twilio-cli's config file")
    if text is None:
        return TwilioCliConfig()
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise ConfigError(f"twilio-cli's config file {path} is not valid JSON.", path=path) from None
    if not isinstance(data, dict):
        raise ConfigError(f"twilio-cli's config file {path} is not a JSON object.", path=path)
    tables = data.get("profiles", {})
    if not isinstance(tables, dict):
        raise ConfigError(f"{path}: 'profiles' is not an object of profiles by name.", path=path)
    shared_edge = data.get("edge") if isinstance(data.get("edge"), str) else None
    profiles = {str(name): _profile(str(name), table, shared_edge, path) for name, table in tables.items()}
    active = data.get("activeProject")
    return TwilioCliConfig(active if isinstance(active, str) and active in profiles else None, profiles)


def _profile(name: str, table: Any, shared_edge: str | None, path: Path) -> Profile:
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: twilio-cli profile {name!r} is not an object.", path=path)
    if not table.get("apiKey") or not table.get("apiSecret"):
        raise ConfigError(
            f"{path}: twilio-cli profile {name!r} has no apiKey and apiSecret (older twilio-cli versions "
            "kept them in the system keychain, which syncmap-tui does not read).", path=path
        )
    profile = Profile(
        # Values straight from JSON, of any type: validate_profile checks each one next.
        account_sid=table.get("accountSid"),  # type: ignore[arg-type]
        api_key=table.get("apiKey"),
        api_secret=table.get("apiSecret"),
        region=table.get("region") or None,
        edge=table.get("edge") or shared_edge or None,
    )
    try:
        return validate_profile(f"{name}{LABEL_SUFFIX}", profile, str(path))
    except ConfigError as exc:
        raise ConfigError(exc.message, path=path) from None
