"""The rules for keys, unique names, data and TTLs: written once, used by the editor and by the emulator.

Every rule raises `ValidationError`, which carries the Twilio code that the emulator answers with
and a message the editor shows as is.
"""

from __future__ import annotations

import json
import math
import re
import sys
import threading
from dataclasses import dataclass
from typing import Any

from syncmap_tui.sync.errors import TwilioCode

MAX_DATA_BYTES = 16_384
"""Twilio's 16 KiB item limit, counted on the UTF-8 bytes of the `Data` form value as sent."""

DEEPEST_NESTING = MAX_DATA_BYTES // 2
"""The deepest JSON an item can hold: `{"":[[[…]]]}` spends two bytes a level, so 16 KiB holds
about 8,190 levels. Twilio documents no depth limit, so the app lists, opens, edits, diffs, merges
and drafts data this deep, and the emulator accepts it (decision: any depth that fits in
MAX_DATA_BYTES; deeper than that cannot fit). Everything that walks data (json's C parser and
encoder, ==, repr, the merge's walks) takes one recursion level per level of nesting:
`ensure_nesting_headroom` makes room for this depth once, for the whole process."""
CALLER_FRAMES = 3_000
"""Recursion levels for whatever calls into a walk: Textual's and asyncio's frames (~200 in a
worker), a test runner's, the walks' own few. Python's default limit is 1,000 in all."""
RECURSION_LIMIT = DEEPEST_NESTING + CALLER_FRAMES
"""About 11,200. Data deeper than any item (a hostile server's megabyte of `[`) still meets a
RecursionError, which the client reports as a bad answer."""
STACK_BYTES_PER_LEVEL = 512
"""C stack that one recursion level may take. Measured (CPython 3.11, x86-64): json.loads,
json.dumps, == and repr of 8,192 levels need 1.0-1.5 MB, at most ~190 bytes a level; pure-Python
recursion (the merge's walks) takes none. 512 leaves a margin of 2.7x for C paths not measured.
The recursion limit is never set above what the stack holds at this rate, so that a walk too
deep meets Python's RecursionError, never a segfault."""
THREAD_STACK_BYTES = 16 * 1024 * 1024
"""C stack for threads started from now on (asyncio.to_thread's, the emulator's workers): room
for 32,768 levels at STACK_BYTES_PER_LEVEL. Glibc's default for a thread is the stack rlimit
(8 MB), or 2 MB when it is unlimited, which 8,192 levels of `==` overflow. Virtual memory: only
the pages a walk touches are used."""
MAIN_STACK_BYTES = THREAD_STACK_BYTES
"""The main thread's stack (the event loop: the editor parses on each keystroke) grows up to the
soft stack rlimit, which is raised to this when it is lower and the hard limit allows. Where the
hard limit is lower (`ulimit -s 1024` sets both), the recursion limit follows the stack: 1 MB
holds 2,048 levels, and deeper data is reported as nested too deeply."""
STACK_BYTES_WITHOUT_RLIMIT = 2 * 1024 * 1024
"""Where there is no rlimit to read (Windows), python.exe's main thread has about 2 MB."""
INDENTED_LEVELS = 32
"""`format_data` indents this many levels and writes anything deeper on one line. Indented,
8,190 levels of `[` are 134 MB of text (each line indented by its depth): the editor would take
minutes to show it. So deep data shows indented at the top, compact below, and stays about
the size of its wire form; data no deeper than this (all real data seen) shows exactly as
json.dumps(indent=2) writes it."""


def ensure_nesting_headroom() -> None:
    """Room for DEEPEST_NESTING in every walk, as far as the stack allows (see
    STACK_BYTES_PER_LEVEL). Called once, when this module is first imported: every module that
    reads or writes item data (the client, the editor, the merge, drafts' recovery, the emulator)
    imports it first. Never lowers a limit that someone set higher."""
    if threading.stack_size() < THREAD_STACK_BYTES:
        threading.stack_size(THREAD_STACK_BYTES)
    stack = min(_main_stack_bytes(), THREAD_STACK_BYTES)
    limit = min(RECURSION_LIMIT, stack // STACK_BYTES_PER_LEVEL)
    if sys.getrecursionlimit() < limit:
        sys.setrecursionlimit(limit)


def _main_stack_bytes() -> int:
    """The main thread's stack, after raising the soft rlimit towards MAIN_STACK_BYTES."""
    try:
        import resource
    except ImportError:
        return STACK_BYTES_WITHOUT_RLIMIT
    soft, hard = resource.getrlimit(resource.RLIMIT_STACK)
    wanted = MAIN_STACK_BYTES if hard == resource.RLIM_INFINITY else min(MAIN_STACK_BYTES, hard)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_STACK, (wanted, hard))
        soft = wanted
    return MAIN_STACK_BYTES if soft == resource.RLIM_INFINITY else soft


ensure_nesting_headroom()

SIZE_WARNING_BYTES = 14_746
"""The editor warns from 90 % of the limit (16,384 × 0.9 = 14,745.6, rounded up)."""
MAX_KEY_LENGTH = 320
"""The OpenAPI spec says 320; Twilio's error page for 54209 says 256. We accept 320 and warn above 256."""
KEY_WARNING_LENGTH = 256
MAX_TTL_SECONDS = 31_536_000
"""One year. 0 means no expiry."""
MAX_UNIQUE_NAME_LENGTH = 320
"""Decision: Twilio publishes no limit for unique names; the key limit (320) is used."""

LOOKS_LIKE_SID = re.compile(r"[A-Z]{2}[0-9a-fA-F]{32}")
"""Two capitals and 32 hex digits. Looser than a real SID (lowercase hex), so that a unique name
can never be mistaken for one in the URL slot they share."""


class ValidationError(ValueError):
    def __init__(self, code: TwilioCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _compact_json(value: Any, *, allow_nan: bool) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=allow_nan)


def encode_data(value: Any) -> str:
    """The exact `Data` string this project sends: compact, UTF-8, no ASCII escaping.

    NaN and ±Infinity are refused (json.dumps would write the non-JSON tokens `NaN`, `Infinity`,
    which Twilio refuses and other clients cannot read back).
    """
    try:
        return _compact_json(value, allow_nan=False)
    except ValueError:
        path = _non_finite_path(value)
        if path is None:
            raise  # not a NaN: a circular reference or the like, a bug in the caller
        where, number = path
        raise ValidationError(
            TwilioCode.DATA_INVALID,
            f"data holds {_compact_json(number, allow_nan=True)} at {where}, which is not JSON",
        ) from None


def _non_finite_path(value: Any) -> tuple[str, float] | None:
    """Where the first NaN or ±Infinity in `value` is, as (`$.a[0]`, the float), or None.

    Only called once json.dumps has failed, so the walk costs nothing on the usual path.
    Iterative, because the value may be nested as deeply as json.dumps allows; each container is
    visited once, because json.dumps also fails (with the same ValueError) on a circular value.
    """
    stack: list[tuple[str, Any]] = [("$", value)]
    seen: set[int] = set()
    while stack:
        path, node = stack.pop()
        if isinstance(node, float) and not math.isfinite(node):
            return path, node
        if isinstance(node, (dict, list, tuple)):
            if id(node) in seen:
                continue
            seen.add(id(node))
        if isinstance(node, dict):
            stack.extend((f"{path}.{key}", child) for key, child in reversed(node.items()))
        elif isinstance(node, (list, tuple)):
            stack.extend((f"{path}[{index}]", child) for index, child in reversed(list(enumerate(node))))
    return None


def escape_unprintable(json_text: str, keep: str = "\n") -> str:
    """JSON text with every character that does not print written as a `\\u` escape.

    json.dumps escapes C0 controls but not DEL, C1 (U+009B is a one-byte CSI on some terminals),
    bidi overrides, zero-width characters or lone surrogates. Outside strings JSON text holds only
    ASCII, so every such character is inside a string, where the escape means the same value.
    Newlines are kept: in indented JSON they are structure (`keep` names every character kept).
    """
    return "".join(char if char.isprintable() or char in keep else _json_escape(char) for char in json_text)


def _json_escape(char: str) -> str:
    code = ord(char)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000  # JSON spells characters beyond the BMP as a surrogate pair
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def format_data(value: Any, *, compact: bool = False) -> str:
    """The editor's form of item data: two-space indent (or compact), non-ASCII kept literal;
    levels deeper than INDENTED_LEVELS on one line, so that the deepest data stays small.

    For display, so it never refuses: a NaN that reached us (Python's JSON parser reads one from
    a misbehaving server) is shown as `NaN`, and the editor's `check_data` then names it.
    """
    if compact:
        text = _compact_json(value, allow_nan=True)
    else:
        pieces: list[str] = []
        _write_indented(value, 0, pieces)
        text = "".join(pieces)
    return escape_unprintable(text)


def _write_indented(value: Any, depth: int, pieces: list[str]) -> None:
    """json.dumps(indent=2, ensure_ascii=False) for the first INDENTED_LEVELS levels; below
    them each value on one line, as json.dumps writes it without indent."""
    if depth >= INDENTED_LEVELS or not isinstance(value, (dict, list)) or not value:
        pieces.append(json.dumps(value, ensure_ascii=False))
        return
    inner = "\n" + "  " * (depth + 1)
    if isinstance(value, dict):
        pieces.append("{")
        separator = inner
        for key, item in value.items():
            pieces.append(separator)
            pieces.append(json.dumps(key, ensure_ascii=False))
            pieces.append(": ")
            _write_indented(item, depth + 1, pieces)
            separator = "," + inner
        pieces.append("\n" + "  " * depth + "}")
    else:
        pieces.append("[")
        separator = inner
        for item in value:
            pieces.append(separator)
            _write_indented(item, depth + 1, pieces)
            separator = "," + inner
        pieces.append("\n" + "  " * depth + "]")


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


class _UnreadableNumber(Exception):
    """Raised from inside json.loads at a token that is not a JSON number we can keep as it was."""

    def __init__(self, token: str, problem: str) -> None:
        super().__init__(token)
        self.token = token
        self.problem = problem


def _refuse_constant(token: str) -> Any:
    raise _UnreadableNumber(token, f"{token} is not JSON (JSON has no NaN or Infinity)")


def _finite_float(token: str) -> float:
    value = float(token)
    if not math.isfinite(value):  # 1e999 and the like: valid JSON text, but Python reads it as inf
        raise _UnreadableNumber(token, f"the number {token} is too large (it would be Infinity)")
    return value


def _readable_int(token: str) -> int:
    try:
        return int(token)
    except ValueError:  # Python's limit on digits (sys.get_int_max_str_digits, 4300 by default)
        shown = token if len(token) <= 20 else f"{token[:10]}…"
        raise _UnreadableNumber(token, f"the number {shown} has {len(token.lstrip('-'))} digits, too many to read") from None


# Strings are matched whole so that a token inside one is skipped; the rest finds number-like tokens.
_STRING_OR_NUMBER = re.compile(r'"(?:[^"\\]|\\.)*"|-?(?:NaN|Infinity)|-?[0-9][0-9.eE+-]*')


def _token_position(text: str, token: str) -> tuple[int, int] | None:
    """Line and column (1-based, as JSONDecodeError counts) of the first `token` outside a string.

    json.loads tells its hooks the token but not where it is; the parser stops at the first bad
    one, and everything before it parsed, so the first occurrence outside a string is that one.
    """
    for match in _STRING_OR_NUMBER.finditer(text):
        if match.group() == token:
            start = match.start()
            return text.count("\n", 0, start) + 1, start - text.rfind("\n", 0, start)
    return None


def parse_data(text: str) -> dict[str, Any]:
    """Parse item data; the top level must be a JSON object. Errors name line:column.

    Stricter than json.loads: `NaN`, `Infinity`, `-Infinity` (which Python accepts) and numbers
    that overflow a float (`1e999`, which Python turns into inf) are refused, since no JSON
    parser elsewhere reads them back as they were meant; so are integers too long for Python to
    read, which would otherwise escape as a bare ValueError.
    """
    try:
        value = json.loads(
            text, parse_constant=_refuse_constant, parse_float=_finite_float, parse_int=_readable_int
        )
    except json.JSONDecodeError as exc:
        raise ValidationError(
            TwilioCode.DATA_INVALID, f"invalid JSON at {exc.lineno}:{exc.colno}: {exc.msg}"
        ) from None
    except _UnreadableNumber as exc:
        where = _token_position(text, exc.token)
        at = f" at {where[0]}:{where[1]}" if where is not None else ""
        raise ValidationError(TwilioCode.DATA_INVALID, f"invalid JSON{at}: {exc.problem}") from None
    except RecursionError:
        raise ValidationError(TwilioCode.DATA_INVALID, "JSON is nested too deeply") from None
    if not isinstance(value, dict):
        raise ValidationError(
            TwilioCode.DATA_INVALID,
            f"the top level must be a JSON object, not {_json_type_name(value)}",
        )
    return value


def _parse_valid_data(text: str) -> dict[str, Any]:
    """`parse_data(text)`, faster when the text is valid: ~40 % of a keystroke's parse in a 16 KB item
    went to calling `_readable_int` for every integer. Without it json.loads reads integers in C
    and fails (ValueError) on exactly the integers `_readable_int` refuses; any failure is parsed
    again by `parse_data`, which says what is wrong."""
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except (ValueError, RecursionError, _UnreadableNumber):
        return parse_data(text)
    return value if isinstance(value, dict) else parse_data(text)


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
    def near_limit(self) -> bool:
        return self.size is not None and self.size >= SIZE_WARNING_BYTES


def check_data(text: str) -> DataCheck:
    """Every data rule at once, never raising: for live validation in the editor, on every keystroke."""
    try:
        value = _parse_valid_data(text)
    except ValidationError as exc:
        return DataCheck(None, None, None, exc)
    try:
        wire = encode_data(value)
    except RecursionError:
        return DataCheck(None, None, None, ValidationError(TwilioCode.DATA_INVALID, "JSON is nested too deeply"))
    except ValidationError as exc:  # parse_data refuses NaN already; kept so that this never raises
        return DataCheck(None, None, None, exc)
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


def check_unique_name(name: str) -> str:
    """A unique name must not be empty, too long, or look like a SID (it shares the SID's URL slot)."""
    if not name:
        raise ValidationError(TwilioCode.UNIQUE_NAME_INVALID, "the unique name must not be empty")
    if len(name) > MAX_UNIQUE_NAME_LENGTH:
        raise ValidationError(
            TwilioCode.UNIQUE_NAME_INVALID,
            f"the unique name is {len(name)} characters; the limit is {MAX_UNIQUE_NAME_LENGTH}",
        )
    if LOOKS_LIKE_SID.fullmatch(name):
        raise ValidationError(TwilioCode.UNIQUE_NAME_INVALID, f"the unique name {name!r} looks like a SID")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(TwilioCode.UNIQUE_NAME_INVALID, "the unique name is not valid UTF-8") from None
    return name


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


_MAX_TTL_DIGITS = len(str(MAX_TTL_SECONDS)) + 8
"""Longer digit strings are refused before int(), which raises a plain ValueError past 4,300 digits."""


def _seconds(digits: str, text: str) -> int:
    if len(digits.lstrip("+-")) > _MAX_TTL_DIGITS:
        raise ValidationError(
            TwilioCode.TTL_INVALID,
            f"a TTL is 0 (no expiry) to {MAX_TTL_SECONDS:,} seconds (one year), not a {len(digits)}-digit number",
        )
    return int(digits)


def parse_wire_ttl(text: str) -> int:
    """A TTL as the API takes it: a decimal integer of seconds."""
    stripped = text.strip()
    if not re.fullmatch(r"[+-]?\d+", stripped):
        raise ValidationError(TwilioCode.TTL_INVALID, f"a TTL must be a whole number of seconds, not {text!r}")
    return check_ttl(_seconds(stripped, text))


def parse_ttl(text: str) -> int:
    """A TTL as a person types it: seconds, or `90s`, `15m`, `2h`, `7d`, `1h30m`."""
    stripped = text.strip()
    if re.fullmatch(r"[+-]?\d+", stripped):
        return check_ttl(_seconds(stripped, text))
    if not _DURATION.fullmatch(stripped):
        raise ValidationError(
            TwilioCode.TTL_INVALID,
            f"{text!r} is not a TTL: seconds, or 90s, 15m, 2h, 7d, 1h30m",
        )
    seconds = sum(_seconds(n, text) * _UNIT_SECONDS[unit.lower()] for n, unit in _DURATION_PART.findall(stripped))
    return check_ttl(seconds)
