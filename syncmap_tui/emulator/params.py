"""Form and query parameters that more than one resource reads. The wire rules themselves (key,
unique name, data, TTL) come from `syncmap_tui.sync.validation`; the resource modules say which
parameter each rule applies to."""

from __future__ import annotations

from typing import Mapping

from syncmap_tui.emulator.errors import EmulatorError
from syncmap_tui.sync.errors import TwilioCode
from syncmap_tui.sync.validation import check_unique_name, parse_wire_ttl


def is_utf8(value: str) -> bool:
    """False if `value` holds a lone surrogate: no UTF-8 for the store, the response or the wire."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def utf8_text(value: str, name: str) -> str:
    if not is_utf8(value):
        raise EmulatorError(TwilioCode.BAD_REQUEST, f"{name} is not valid UTF-8")
    return value


def ttl(form: Mapping[str, str], name: str, alias: str | None = None) -> int | None:
    """A TTL parameter, or its alias when the parameter itself is absent (the alias is then ignored)."""
    if name in form:
        return parse_wire_ttl(form[name])
    if alias is not None and alias in form:
        return parse_wire_ttl(form[alias])
    return None


def unique_name(form: Mapping[str, str]) -> str | None:
    name = form.get("UniqueName")
    return None if name is None else check_unique_name(name)

