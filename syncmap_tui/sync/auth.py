"""Credentials for HTTP Basic auth against Sync. The secret never appears in a repr or a log line."""

from __future__ import annotations

from dataclasses import dataclass, field

LOCAL_EMULATOR_ACCOUNT_SID = "AC" + "0" * 32
"""The documented local account of syncmap-tui's emulator: used when no credentials are given to it,
and by the app for a loopback --base-url without credentials. Not a real Twilio account."""

LOCAL_EMULATOR_AUTH_TOKEN = "emulator-token"
"""The documented local auth token that goes with LOCAL_EMULATOR_ACCOUNT_SID. Safe to print."""


@dataclass(frozen=True)
class Credentials:
    """`username` is the Account SID (with an Auth Token) or an API Key SID `SK…` (with its secret)."""

    account_sid: str
    username: str
    secret: str = field(repr=False)

    @classmethod
    def auth_token(cls, account_sid: str, token: str) -> "Credentials":
        return cls(account_sid=account_sid, username=account_sid, secret=token)

    @classmethod
    def api_key(cls, account_sid: str, key_sid: str, key_secret: str) -> "Credentials":
        return cls(account_sid=account_sid, username=key_sid, secret=key_secret)

    @property
    def uses_api_key(self) -> bool:
        return self.username != self.account_sid
