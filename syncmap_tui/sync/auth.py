"""Credentials for HTTP Basic auth against Sync. The secret never appears in a repr or a log line."""

from __future__ import annotations

from dataclasses import dataclass, field


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
