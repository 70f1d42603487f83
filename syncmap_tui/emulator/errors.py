"""The one error the emulator raises internally.

Codes, statuses and the body all come from `syncmap_tui.sync.errors`, the project's single
code → status table, so the emulator and the client cannot disagree about a status.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from syncmap_tui.sync.errors import HTTP_STATUS, TwilioCode, error_body


class EmulatorError(Exception):
    """A refusal the emulator answers with a Twilio error body. `headers` go on the response."""

    def __init__(self, code: TwilioCode, message: str, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = HTTP_STATUS[code]
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.message, self.status)


def method_not_allowed(method: str, allowed: Iterable[str]) -> EmulatorError:
    return EmulatorError(
        TwilioCode.METHOD_NOT_ALLOWED, f"Method {method} not allowed", headers={"Allow": ", ".join(sorted(allowed))}
    )
