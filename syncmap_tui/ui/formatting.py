"""How times, durations and sizes read on screen."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from syncmap_tui.sync.validation import MAX_DATA_BYTES


def now_utc() -> datetime:
    """The one clock the UI reads (tests pin it by patching this function in this module)."""
    return datetime.now(timezone.utc)


def format_when(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")


def format_short_when(moment: datetime | None, *, with_year: bool = True) -> str:
    """`2026-01-15 12:00`, or without the year `01-15 12:00` where columns are few."""
    if moment is None:
        return "—"
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M" if with_year else "%m-%d %H:%M")


def format_duration(seconds: float) -> str:
    """`1d 2h`, `3h 20m`, `5m 10s`, `42s`: the two largest units, enough to read at a glance."""
    seconds = int(seconds)
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size or (unit == "s" and not parts):
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
        if len(parts) == 2:
            break
    return " ".join(parts)


def format_time_left(expires: datetime | None, now: datetime) -> str:
    if expires is None:
        return "never"
    left = (expires - now).total_seconds()
    if left <= 0:
        return "expired"
    return f"in {format_duration(left)}"


def format_expiry(expires: datetime | None, now: datetime) -> str:
    if expires is None:
        return "never expires"
    return f"{format_short_when(expires)} ({format_time_left(expires, now)})"


def expiry_after(ttl_seconds: int, now: datetime) -> datetime | None:
    return None if ttl_seconds == 0 else now + timedelta(seconds=ttl_seconds)


def format_size(size: int) -> str:
    return f"{size:,} / {MAX_DATA_BYTES:,} bytes"
