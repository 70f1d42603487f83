"""A local Twilio Sync v1 emulator: a Starlette app over SQLite, faithful to Twilio's wire format.

Importing this package is cheap (no Starlette, no uvicorn): the editor imports it for its
embedded default and must start fast. The pieces live in submodules:
`app` (the ASGI app: authentication, path and body reading, faults, the control endpoint),
`api` (the routes and their dispatch) over one module per resource (`services`, `maps`, `items`)
and what they share (`wire`, `params`, `paging`), `store` (SQLite, a package of the same shape),
`faults` (fault injection and rate limiting), `inprocess` (an httpx transport for the app),
`seed` (demo data) and `cli` (`syncmap-tui emulator`).
"""

from __future__ import annotations

from syncmap_tui.sync.auth import LOCAL_EMULATOR_ACCOUNT_SID, LOCAL_EMULATOR_AUTH_TOKEN

DEFAULT_ACCOUNT_SID = LOCAL_EMULATOR_ACCOUNT_SID
"""The documented local account: used when no credentials are given. Not a real Twilio account."""

DEFAULT_AUTH_TOKEN = LOCAL_EMULATOR_AUTH_TOKEN
"""The documented local auth token that goes with DEFAULT_ACCOUNT_SID. Safe to print."""

__all__ = ["DEFAULT_ACCOUNT_SID", "DEFAULT_AUTH_TOKEN"]
