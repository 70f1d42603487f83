"""The rules for keys, data and TTLs: written once, used by the editor and by the emulator.

Every rule raises `ValidationError`, which carries the Twilio code that the emulator answers with
and a message the editor shows as is.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from syncmap_tui.sync.errors import TwilioCode

MAX_DATA_BYTES = 16_384
"""Twilio's 16 KiB item limit, counted on the UTF-8 bytes of the `Data` form value as sent."""

SIZE_WARNING_BYTES = 14_746
"""The editor warns from 90 % of the limit (16,384 × 0.9 = 14,745.6, rounded up)."""
MAX_KEY_LENGTH = 320
"""The OpenAPI spec says 320; Twilio's error page for 54209 says 256. We accept 320 and warn above 256."""
KEY_WARNING_LENGTH = 256
MAX_TTL_SECONDS = 31_536_000
"""One year. 0 means no expiry."""


class ValidationError(ValueError):
    def __init__(self, code: TwilioCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def encode_data(value: Any) -> str:
    """The exact `Data` string this project sends: compact, UTF-8, no ASCII escaping."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def escape_unprintable(json_text: str) -> str:
    """JSON text with every character that does not print written as a `\\u` escape.

    json.dumps escapes C0 controls but not DEL, C1 (U+009B is a one-byte CSI on some terminals),
    bidi overrides, zero-width characters or lone surrogates. Outside strings JSON text holds only
    ASCII, so every such character is inside a string, where the escape means the same value.
    Newlines are kept: in indented JSON they are structure.
    """
    return "".join(char if char.isprintable() or char == "\n" else _json_escape(char) for char in json_text)


def _json_escape(char: str) -> str:
    code = ord(char)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000  # JSON spells characters beyond the BMP as a surrogate pair
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def format_data(value: Any, *, compact: bool = False) -> str:
    """The editor's form of item data: two-space indent (or compact), non-ASCII kept literal."""
    text = encode_data(value) if compact else json.dumps(value, indent=2, ensure_ascii=False)
    return escape_unprintable(text)


def wire_size(wire_text: str) -> int:
    """Bytes of a `Data` string on the wire. A lone surrogate cannot be sent, so it is refused here."""
    try:
        return len(wire_text.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise ValidationError(
            TwilioCode.DATA_INVALID,
            f"data holds an unpaired surrogate (\\u{ord(wire_text[exc.start]):04x}), "
            "which is not valid UTF-8",
        ) from None


def check_size(wire_text: str) -> int:
    size = wire_size(wire_text)
    if size > MAX_DATA_BYTES:
        raise ValidationError(
            TwilioCode.DATA_TOO_LARGE,
            f"data is {size:,} bytes; the limit is {MAX_DATA_BYTES:,} bytes",
        )
    return size


def parse_data(text: str) -> dict[str, Any]:
    """Parse item data; the top level must be a JSON object. Errors name line:column."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            TwilioCode.DATA_INVALID, f"invalid JSON at {exc.lineno}:{exc.colno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise ValidationError(TwilioCode.DATA_INVALID, "JSON is nested too deeply") from None
    if not isinstance(value, dict):
        raise ValidationError(
            TwilioCode.DATA_INVALID,
            f"the top level must be a JSON object, not {_json_type_name(value)}",
        )
    return value


def _json_type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array"


@dataclass(frozen=True)
class DataCheck:
    """What the editor knows about its text: the parsed object, the wire form and its size."""

    value: dict[str, Any] | None
    wire: str | None
    size: int | None
    error: ValidationError | None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def near_limit(self) -> bool:
        return self.size is not None and self.size >= SIZE_WARNING_BYTES


def check_data(text: str) -> DataCheck:
    """Every data rule at once, never raising: for live validation in the editor."""
    try:
        value = parse_data(text)
    except ValidationError as exc:
        return DataCheck(None, None, None, exc)
    try:
        wire = encode_data(value)
    except RecursionError:
        return DataCheck(None, None, None, ValidationError(TwilioCode.DATA_INVALID, "JSON is nested too deeply"))
    try:
        size = wire_size(wire)
    except ValidationError as exc:
        return DataCheck(value, wire, None, exc)
    error = None
    if size > MAX_DATA_BYTES:
        error = ValidationError(
            TwilioCode.DATA_TOO_LARGE, f"data is {size:,} bytes; the limit is {MAX_DATA_BYTES:,} bytes"
        )
    return DataCheck(value, wire, size, error)


def check_key(key: str) -> str:
    if not key:
        raise ValidationError(TwilioCode.KEY_INVALID, "the key must not be empty")
    if len(key) > MAX_KEY_LENGTH:
        raise ValidationError(
            TwilioCode.KEY_INVALID,
            f"the key is {len(key)} characters; the limit is {MAX_KEY_LENGTH}",
        )
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(TwilioCode.KEY_INVALID, "the key holds an unpaired surrogate") from None
    return key


def key_warning(key: str) -> str | None:
    if len(key) > KEY_WARNING_LENGTH:
        return (
            f"the key is {len(key)} characters: Twilio documents 256 in one place and 320 in another"
        )
    return None


_DURATION_PART = re.compile(r"(\d+)\s*([smhd])", re.IGNORECASE)
_DURATION = re.compile(r"(?:\d+\s*[smhd]\s*)+", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def check_ttl(seconds: int) -> int:
    if not 0 <= seconds <= MAX_TTL_SECONDS:
        raise ValidationError(
            TwilioCode.TTL_INVALID,
            f"a TTL is 0 (no expiry) to {MAX_TTL_SECONDS:,} seconds (one year), not {seconds:,}",
        )
    return seconds


def parse_wire_ttl(text: str) -> int:
    """A TTL as the API takes it: a decimal integer of seconds."""
    stripped = text.strip()
    if not re.fullmatch(r"[+-]?\d+", stripped):
        raise ValidationError(TwilioCode.TTL_INVALID, f"a TTL must be a whole number of seconds, not {text!r}")
    return check_ttl(int(stripped))


def parse_ttl(text: str) -> int:
    """A TTL as a person types it: seconds, or `90s`, `15m`, `2h`, `7d`, `1h30m`."""
    stripped = text.strip()
    if re.fullmatch(r"[+-]?\d+", stripped):
        return check_ttl(int(stripped))
    if not _DURATION.fullmatch(stripped):
        raise ValidationError(
            TwilioCode.TTL_INVALID,
            f"{text!r} is not a TTL: use seconds or a duration like 90s, 15m, 2h, 7d or 1h30m",
        )
    seconds = sum(int(n) * _UNIT_SECONDS[unit.lower()] for n, unit in _DURATION_PART.findall(stripped))
    return check_ttl(seconds)
