"""The one error the emulator raises internally, and the Twilio codes the shared table lacks.

`syncmap_tui.sync.errors` holds the project's code → status table; the codes below are ones the
emulator answers with that the table does not (yet) have. They are Twilio's own codes where
Twilio publishes one (the 5445x paging codes, 20004, 20503); BAD_REQUEST is Twilio's generic 400.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any, Iterable, Mapping

from syncmap_tui.sync.errors import HTTP_STATUS, TwilioCode, error_body


class EmulatorCode(IntEnum):
    BAD_REQUEST = 400
    """Twilio's generic "Bad Request" code, for parameters Sync has no own code for."""
    METHOD_NOT_ALLOWED = 20004
    SERVICE_UNAVAILABLE = 20503
    INVALID_ORDER = 54451
    INVALID_BOUNDS = 54452
    INVALID_PAGE_TOKEN = 54453
    INVALID_PAGE_SIZE = 54454


EMULATOR_HTTP_STATUS: dict[EmulatorCode, int] = {
    EmulatorCode.BAD_REQUEST: 400,
    EmulatorCode.METHOD_NOT_ALLOWED: 405,
    EmulatorCode.SERVICE_UNAVAILABLE: 503,
    EmulatorCode.INVALID_ORDER: 400,
    EmulatorCode.INVALID_BOUNDS: 400,
    EmulatorCode.INVALID_PAGE_TOKEN: 400,
    EmulatorCode.INVALID_PAGE_SIZE: 400,
}

Code = TwilioCode | EmulatorCode


def status_of(code: Code) -> int:
    if isinstance(code, TwilioCode):
        return HTTP_STATUS[code]
    return EMULATOR_HTTP_STATUS[code]


def twilio_error_body(code: Code, message: str, status: int | None = None) -> dict[str, Any]:
    """Exactly `error_body(...)`, for the shared codes and the emulator's extra ones alike."""
    return error_body(code, message, status if status is not None else status_of(code))  # type: ignore[arg-type]


class EmulatorError(Exception):
    """A refusal the emulator answers with a Twilio error body. `headers` go on the response."""

    def __init__(self, code: Code, message: str, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status_of(code)
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return twilio_error_body(self.code, self.message, self.status)


def method_not_allowed(method: str, allowed: Iterable[str]) -> EmulatorError:
    return EmulatorError(
        EmulatorCode.METHOD_NOT_ALLOWED, f"Method {method} not allowed", headers={"Allow": ", ".join(sorted(allowed))}
    )
