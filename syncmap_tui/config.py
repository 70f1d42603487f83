"""Where syncmap-tui connects, and with which credentials. Headless: this module never imports Textual.

Choosing the target
-------------------
The first of these that applies wins:

1. Flags. ``--profile NAME`` picks a profile from the config file, else from twilio-cli's.
   ``--base-url URL`` replaces the URL of whatever target is chosen (by ``--profile``, the
   environment or the active profile); with
   no credentials anywhere it is accepted only for a loopback URL, and then uses the local
   emulator's documented pair (start one with ``syncmap-tui emulator``). ``--demo`` forces the
   embedded emulator and cannot be combined with the other two. ``--read-only`` adds to (never
   removes) a profile's ``read_only``.
2. The environment (twilio-cli's conventions): ``TWILIO_ACCOUNT_SID`` with ``TWILIO_API_KEY`` and
   ``TWILIO_API_SECRET`` when both are set, or else ``TWILIO_AUTH_TOKEN``. ``TWILIO_EDGE`` and
   ``TWILIO_REGION`` choose the host ``https://sync.{edge}.{region}.twilio.com`` (an edge without a
   region means region ``us1``; a region without an edge gives ``https://sync.{region}.twilio.com``);
   by default ``https://sync.twilio.com``. Half-set credentials (a SID without a secret, or a secret
   without a SID) are an error rather than silently falling through to a profile.
3. The active profile of the config file (below), else twilio-cli's active profile.
4. The embedded local emulator, its database at ``embedded_db_path()``.

The config file
---------------
``config.toml`` in the user config directory (``~/.config/syncmap-tui/config.toml`` on Linux, or
under ``$XDG_CONFIG_HOME``; ``syncmap-tui`` prints it): ``active_profile = "NAME"`` (optional)
and ``[profiles.NAME]`` tables of ``_STR_FIELDS`` and ``_BOOL_FIELDS``; README.md ("Config file")
has the annotated example. It holds secrets, so it must be readable by you alone: a file that
the group or others can read is refused until you run ``chmod 600 <path>``.

When both an API key pair and an auth token are given, the API key is used. Unknown keys are
refused (so that a typo such as ``api_secert`` is not silently ignored). ``base_url`` must use
https unless its host is loopback (``localhost``, ``127.0.0.0/8``, ``::1``). The app only reads
this file; you write it.

twilio-cli's profiles
---------------------
A profile name this file does not define, and the active profile when it names none, come from
twilio-cli's own ``config.json`` (see ``twilio_cli_profiles``), read under the same rules.
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

import platformdirs

from syncmap_tui.sync.auth import LOCAL_EMULATOR_ACCOUNT_SID, LOCAL_EMULATOR_AUTH_TOKEN, Credentials
from syncmap_tui.sync.urls import TWILIO_SYNC_URL, is_loopback_host, is_loopback_url

__all__ = [
    "APP_NAME",
    "CONFIG_FILE_NAME",
    "EMBEDDED_DB_NAME",
    "TWILIO_SYNC_URL",
    "Config",
    "ConfigError",
    "Profile",
    "Target",
    "config_path",
    "data_dir",
    "embedded_db_path",
    "is_loopback_url",
    "load_config",
    "resolve_target",
    "shorten_sid",
    "state_dir",
    "sync_base_url",
]


APP_NAME = "syncmap-tui"
CONFIG_FILE_NAME = "config.toml"
EMBEDDED_DB_NAME = "emulator.sqlite3"
MAX_CONFIG_BYTES = 1024 * 1024
"""A config of a few profiles is a few KB; a path to something huge is a mistake, read no further."""
DEFAULT_EDGE_REGION = "us1"  # twilio-python: an edge without a region means us1

ENV_ACCOUNT_SID = "TWILIO_ACCOUNT_SID"
ENV_AUTH_TOKEN = "TWILIO_AUTH_TOKEN"
ENV_API_KEY = "TWILIO_API_KEY"
ENV_API_SECRET = "TWILIO_API_SECRET"
ENV_EDGE = "TWILIO_EDGE"
ENV_REGION = "TWILIO_REGION"

_ACCOUNT_SID_RE = re.compile(r"AC[0-9a-fA-F]{32}")
_API_KEY_RE = re.compile(r"SK[0-9a-fA-F]{32}")
_HOST_LABEL_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


class ConfigError(Exception):
    """A user-facing problem with the chosen target or the config file. Never contains a secret."""

    def __init__(self, message: str, *, path: Path | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path

    def __str__(self) -> str:
        return self.message


# ---------------------------------------------------------------------------------------------
# Paths (computed on each call, never created on import)


def config_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME)) / CONFIG_FILE_NAME


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME))


def state_dir() -> Path:
    """Where drafts live."""
    return Path(platformdirs.user_state_dir(APP_NAME))


def embedded_db_path() -> Path:
    return data_dir() / EMBEDDED_DB_NAME


# ---------------------------------------------------------------------------------------------
# URLs


def sync_base_url(edge: str | None, region: str | None) -> str:
    """The Sync host for an edge and region, as twilio-python builds it."""
    edge = _host_label(edge, "edge")
    region = _host_label(region, "region")
    if edge and not region:
        region = DEFAULT_EDGE_REGION
    if edge:
        return f"https://sync.{edge}.{region}.twilio.com"
    if region:
        return f"https://sync.{region}.twilio.com"
    return TWILIO_SYNC_URL


def _host_label(value: str | None, what: str) -> str | None:
    if value is None or value.strip() == "":
        return None
    label = value.strip().lower()
    if not _HOST_LABEL_RE.fullmatch(label):
        raise ConfigError(f"The {what} must be a host name part such as 'ie1' or 'dublin' (letters, digits, '-').")
    return label


def _check_base_url(url: str, what: str) -> str:
    """Validate a base URL and return it without a trailing slash. Messages never echo the URL whole
    (it could carry a password or a token); they name the host at most."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ConfigError(f"{what} is not a valid URL.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{what} must be an http:// or https:// URL with a host, e.g. http://127.0.0.1:8777.")
    if parts.username is not None or parts.password is not None:
        raise ConfigError(f"{what} must not contain a user name or password; credentials come from a profile or the environment.")
    if parts.query or parts.fragment:
        raise ConfigError(f"{what} must not contain a query or a fragment.")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise ConfigError(
            f"{what} uses plain http for the non-loopback host {parts.hostname!r}: "
            "credentials would travel unencrypted. Use https://."
        )
    return parts.geturl().rstrip("/")


# ---------------------------------------------------------------------------------------------
# Profiles and the config file


@dataclass(frozen=True)
class Profile:
    """One `[profiles.NAME]` table. The secrets are left out of the repr."""

    account_sid: str
    api_key: str | None = None
    api_secret: str | None = field(default=None, repr=False)
    auth_token: str | None = field(default=None, repr=False)
    region: str | None = None
    edge: str | None = None
    base_url: str | None = None
    read_only: bool = False
    production: bool = False
    watch: bool = True

    def credentials(self) -> Credentials:
        if self.api_key and self.api_secret:
            return Credentials.api_key(self.account_sid, self.api_key, self.api_secret)
        if self.auth_token:
            return Credentials.auth_token(self.account_sid, self.auth_token)
        raise ConfigError("This profile has no secret: set api_key with api_secret, or auth_token.")

    def url(self) -> str:
        return self.base_url if self.base_url else sync_base_url(self.edge, self.region)


_STR_FIELDS = ("account_sid", "api_key", "api_secret", "auth_token", "region", "edge", "base_url")
_BOOL_FIELDS = ("read_only", "production", "watch")


@dataclass(frozen=True)
class Config:
    active_profile: str | None = None
    profiles: Mapping[str, Profile] = field(default_factory=dict)


def validate_profile(name: str, p: Profile, where: str) -> Profile:
    """Check a profile; return it with base_url/region/edge normalised. Messages name fields, never values."""
    ctx = f"{where}: profile {name!r}"
    if not isinstance(name, str) or name == "":
        raise ConfigError(f"{where}: a profile name must be a non-empty string.")
    if p.account_sid is None:
        raise ConfigError(f"{ctx}: account_sid is missing.")
    for key in _STR_FIELDS:
        value = getattr(p, key)
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"{ctx}: {key} must be a string.")
        if value == "":
            raise ConfigError(f"{ctx}: {key} is empty; remove it or give it a value.")
    for key in _BOOL_FIELDS:
        if not isinstance(getattr(p, key), bool):
            raise ConfigError(f"{ctx}: {key} must be true or false.")
    if not _ACCOUNT_SID_RE.fullmatch(p.account_sid):
        raise ConfigError(f"{ctx}: account_sid must be 'AC' followed by 32 hex digits.")
    if p.api_key is not None and not _API_KEY_RE.fullmatch(p.api_key):
        raise ConfigError(f"{ctx}: api_key must be an API Key SID: 'SK' followed by 32 hex digits.")
    if (p.api_key is None) != (p.api_secret is None):
        raise ConfigError(f"{ctx}: api_key and api_secret go together; set both, or use auth_token.")
    if p.api_key is None and p.auth_token is None:
        raise ConfigError(f"{ctx}: no secret; set api_key with api_secret, or auth_token.")
    try:
        region = _host_label(p.region, "region")
        edge = _host_label(p.edge, "edge")
        base_url = _check_base_url(p.base_url, "base_url") if p.base_url is not None else None
    except ConfigError as exc:
        raise ConfigError(f"{ctx}: {exc.message}") from None
    return replace(p, region=region, edge=edge, base_url=base_url)


def _sanitize_toml_error(message: str) -> str:
    # tomllib quotes the offending character ("Illegal character '\x01'"): it may be part of a secret.
    return re.sub(r"(character) (?:'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")", r"\1", message)


def load_config(path: Path | None = None) -> Config:
    """Read and check the config file. A missing file is an empty config."""
    path = config_path() if path is None else path
    text = read_secret_file(path, "The config file")
    if text is None:
        return Config()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"The config file {path} is not valid TOML: {_sanitize_toml_error(str(exc))}.", path=path
        ) from None
    return _config_from_data(data, path)


def read_secret_file(path: Path, what: str) -> str | None:
    """The text of a file that holds secrets (this app's config, twilio-cli's), or None if there is
    none. Refused, with the fix, when the group or others can read it."""
    try:
        # Non-blocking: opening a FIFO for reading would otherwise wait for a writer, forever.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"Cannot read {what.lower()} {path}: {exc.strerror}.", path=path) from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise ConfigError(f"{what} {path} is not a regular file (a FIFO, a device or a folder).", path=path)
    with os.fdopen(fd, "rb") as file:
        if os.name == "posix" and st.st_mode & 0o077:
            raise ConfigError(
                f"{what} {path} holds secrets but others can read it "
                f"(mode {st.st_mode & 0o777:o}). Fix it with: chmod 600 {path}",
                path=path,
            )
        try:
            raw = file.read(MAX_CONFIG_BYTES + 1)
        except OSError as exc:
            raise ConfigError(f"Cannot read {what.lower()} {path}: {exc.strerror}.", path=path) from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{what} {path} is larger than {MAX_CONFIG_BYTES:,} bytes: not a config.", path=path)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{what} {path} is not valid UTF-8.", path=path) from None


def _config_from_data(data: dict[str, Any], path: Path) -> Config:
    where = str(path)
    unknown = sorted(set(data) - {"active_profile", "profiles"})
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {', '.join(map(repr, unknown))}; "
                          "expected active_profile and [profiles.NAME] tables.", path=path)
    active = data.get("active_profile")
    if active is not None and not isinstance(active, str):
        raise ConfigError(f"{where}: active_profile must be a string naming a profile.", path=path)
    tables = data.get("profiles", {})
    if not isinstance(tables, dict):
        raise ConfigError(f"{where}: profiles must be tables: [profiles.NAME].", path=path)
    profiles: dict[str, Profile] = {}
    allowed = set(_STR_FIELDS) | set(_BOOL_FIELDS)
    for name, table in tables.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: profile {name!r} must be a table: [profiles.NAME].", path=path)
        extra = sorted(set(table) - allowed)
        if extra:
            raise ConfigError(f"{where}: profile {name!r}: unknown setting(s) {', '.join(map(repr, extra))}; "
                              f"known: {', '.join(_STR_FIELDS + _BOOL_FIELDS)}.", path=path)
        try:
            # Values straight from TOML, of any type: _validate_profile checks each one next.
            profile = Profile(
                account_sid=table.get("account_sid"),  # type: ignore[arg-type]
                **{k: table.get(k) for k in _STR_FIELDS if k != "account_sid"},  # type: ignore[arg-type]
                **{k: table.get(k, getattr(Profile, k)) for k in _BOOL_FIELDS},
            )
            profiles[name] = validate_profile(name, profile, where)
        except ConfigError as exc:
            raise ConfigError(exc.message, path=path) from None
    if active is not None and active not in profiles:
        raise ConfigError(f"{where}: active_profile is {active!r}, but there is no such profile "
                          f"({_known(profiles)}).", path=path)
    return Config(active_profile=active, profiles=profiles)


def _known(profiles: Mapping[str, Profile]) -> str:
    return "profiles: " + ", ".join(map(repr, profiles)) if profiles else "no profiles are defined"


# ---------------------------------------------------------------------------------------------
# The target


@dataclass(frozen=True)
class Target:
    """Where to connect. `credentials` and `base_url` are None for the embedded emulator.

    `source` is "flag" when --profile, --base-url or --demo decided it, else "env", "profile" or
    "default" (the embedded emulator). The repr holds no secret (Credentials hides its own).
    """

    label: str
    base_url: str | None
    credentials: Credentials | None
    read_only: bool = False
    production: bool = False
    is_embedded_emulator: bool = False
    source: str = "default"
    """Where the credentials came from, for what a 401 tells the user to check: "env" (TWILIO_*),
    "profile" (the config's active one), "twilio-cli" (twilio-cli's active profile), "flag"
    (--profile, or the local pair for a loopback --base-url) or "default" (the embedded emulator)."""
    watch: bool = True
    """Re-read the open item and the table's page while the app has focus (sync/watch.py)."""


def shorten_sid(sid: str) -> str:
    return sid if len(sid) <= 10 else f"{sid[:4]}…{sid[-4:]}"


def _embedded_target(read_only: bool, source: str) -> Target:
    return Target(label="local emulator", base_url=None, credentials=None, read_only=read_only,
                  production=False, is_embedded_emulator=True, source=source)


def _profile_target(name: str, p: Profile, source: str) -> Target:
    return Target(label=name, base_url=p.url(), credentials=p.credentials(), read_only=p.read_only,
                  production=p.production, is_embedded_emulator=False, watch=p.watch, source=source)


def _env_target(environ: Mapping[str, str]) -> Target | None:
    def get(name: str) -> str | None:
        value = environ.get(name)
        return value if value else None

    sid, token = get(ENV_ACCOUNT_SID), get(ENV_AUTH_TOKEN)
    key, secret = get(ENV_API_KEY), get(ENV_API_SECRET)
    if sid is None:
        stray = [n for n, v in ((ENV_AUTH_TOKEN, token), (ENV_API_KEY, key), (ENV_API_SECRET, secret)) if v]
        if stray:
            raise ConfigError(f"{' and '.join(stray)} {'is' if len(stray) == 1 else 'are'} set but "
                              f"{ENV_ACCOUNT_SID} is not: set it too, or unset {' and '.join(stray)}.")
        return None
    if not _ACCOUNT_SID_RE.fullmatch(sid):
        raise ConfigError(f"{ENV_ACCOUNT_SID} must be 'AC' followed by 32 hex digits.")
    if key and secret:
        if not _API_KEY_RE.fullmatch(key):
            raise ConfigError(f"{ENV_API_KEY} must be an API Key SID: 'SK' followed by 32 hex digits.")
        credentials = Credentials.api_key(sid, key, secret)
    elif token:
        credentials = Credentials.auth_token(sid, token)
    else:
        raise ConfigError(f"{ENV_ACCOUNT_SID} is set but no secret is: set {ENV_AUTH_TOKEN}, "
                          f"or {ENV_API_KEY} with {ENV_API_SECRET}.")
    try:
        url = sync_base_url(get(ENV_EDGE), get(ENV_REGION))
    except ConfigError as exc:
        raise ConfigError(f"{ENV_EDGE}/{ENV_REGION}: {exc.message}") from None
    return Target(label=f"env: {shorten_sid(sid)}", base_url=url, credentials=credentials,
                  read_only=False, production=False, is_embedded_emulator=False, source="env")


def _named_profile_target(name: str, environ: Mapping[str, str]) -> Target:
    """--profile NAME: this app's profile, else twilio-cli's (whose file is read only then)."""
    from syncmap_tui.twilio_cli_profiles import LABEL_SUFFIX, load_twilio_cli_config, twilio_cli_config_path

    cfg = load_config()
    if name in cfg.profiles:
        return _profile_target(name, cfg.profiles[name], source="flag")
    cli_path = twilio_cli_config_path(environ)
    cli = load_twilio_cli_config(cli_path)
    if name in cli.profiles:
        return _profile_target(name + LABEL_SUFFIX, cli.profiles[name], source="flag")
    raise ConfigError(f"There is no profile {name!r} in {config_path()} ({_known(cfg.profiles)}) "
                      f"nor in twilio-cli's {cli_path} ({_known(cli.profiles)}).", path=config_path())


def _active_profile_target(environ: Mapping[str, str]) -> Target | None:
    """This app's active profile, else twilio-cli's (its file is read only when ours names none)."""
    # Imported here: twilio_cli_profiles builds on this module's Profile and file rules.
    from syncmap_tui.twilio_cli_profiles import LABEL_SUFFIX, load_twilio_cli_config, twilio_cli_config_path

    cfg = load_config()
    if cfg.active_profile is not None:
        return _profile_target(cfg.active_profile, cfg.profiles[cfg.active_profile], source="profile")
    cli = load_twilio_cli_config(twilio_cli_config_path(environ))
    if cli.active_profile is not None:
        return _profile_target(cli.active_profile + LABEL_SUFFIX, cli.profiles[cli.active_profile], source="twilio-cli")
    return None


def resolve_target(
    *,
    base_url: str | None = None,
    profile: str | None = None,
    demo: bool = False,
    read_only: bool = False,
    watch: bool = True,
    environ: Mapping[str, str] | None = None,
) -> Target:
    """Choose the target from the flags, the environment, the config file, or the embedded emulator.
    `watch=False` (--no-watch) turns the watch off whatever the profile says."""
    target = _resolve_target(base_url=base_url, profile=profile, demo=demo, read_only=read_only, environ=environ)
    return target if watch else replace(target, watch=False)


def _resolve_target(
    *,
    base_url: str | None,
    profile: str | None,
    demo: bool,
    read_only: bool,
    environ: Mapping[str, str] | None,
) -> Target:
    environ = os.environ if environ is None else environ
    if demo:
        if base_url is not None or profile is not None:
            raise ConfigError("--demo runs the embedded emulator; it cannot be combined with --base-url or --profile.")
        return _embedded_target(read_only, source="flag")
    override = _check_base_url(base_url, "--base-url") if base_url is not None else None

    if profile is not None:
        target: Target | None = _named_profile_target(profile, environ)
    else:
        target = _env_target(environ) or _active_profile_target(environ)

    if override is not None:
        if target is None:
            if not is_loopback_url(override):
                raise ConfigError(
                    "--base-url needs credentials for a non-loopback host: set TWILIO_ACCOUNT_SID and "
                    "TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and TWILIO_API_SECRET), or add --profile NAME."
                )
            return Target(label=f"emulator at {override}", base_url=override,
                          credentials=Credentials.auth_token(LOCAL_EMULATOR_ACCOUNT_SID, LOCAL_EMULATOR_AUTH_TOKEN), read_only=read_only,
                          production=False, is_embedded_emulator=False, source="flag")
        # The URL is the flag's; the credentials, which a 401 is about, keep their source.
        target = replace(target, label=f"{target.label} @ {override}", base_url=override)

    if target is None:
        return _embedded_target(read_only, source="default")
    return replace(target, read_only=target.read_only or read_only)
