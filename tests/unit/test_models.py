"""Reading Twilio's datetimes: exactly one form, every other value a BadResponse naming the field."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from syncmap_tui.sync.errors import BadResponse
from syncmap_tui.sync.models import DATETIME_FORMAT, MapItem, SyncMap, parse_datetime

ITEM = {
    "key": "k",
    "account_sid": "AC" + "0" * 32,
    "service_sid": "IS" + "0" * 32,
    "map_sid": "MP" + "0" * 32,
    "url": "https://sync.twilio.com/v1/Services/IS/Maps/MP/Items/k",
    "revision": "0",
    "data": {},
    "date_expires": None,
    "date_created": "2025-03-04T05:06:07Z",
    "date_updated": "2025-03-04T05:06:07Z",
    "created_by": "system",
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-04T05:06:07Z", datetime(2025, 3, 4, 5, 6, 7, tzinfo=timezone.utc)),
        ("2024-02-29T23:59:59Z", datetime(2024, 2, 29, 23, 59, 59, tzinfo=timezone.utc)),
        ("0001-01-01T00:00:00Z", datetime(1, 1, 1, tzinfo=timezone.utc)),
        ("9999-12-31T23:59:59Z", datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc)),
    ],
)
def test_a_twilio_datetime_reads_as_aware_utc(text: str, expected: datetime) -> None:
    parsed = parse_datetime(text)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(0)


@given(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)))
def test_parsing_agrees_with_strptime_on_every_second(moment: datetime) -> None:
    text = f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}Z"  # strftime's %Y does not zero-pad years before 1000
    parsed = parse_datetime(text)
    assert parsed == datetime.strptime(text, DATETIME_FORMAT).replace(tzinfo=timezone.utc)
    assert parsed == moment.replace(microsecond=0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2025-03-04",
        "2025-03-04 05:06:07Z",  # a space for the T
        "2025-03-04T05:06:07",  # no Z
        "2025-03-04T05:06:07z",
        "2025-03-04T05:06:07+00:00",  # fromisoformat alone would take these three
        "2025-03-04T05:06:07.5Z",
        "20250304T050607Z",
        "2025-3-4T5:6:7Z",  # not zero-padded
        " 2025-03-04T05:06:07Z",
        "2025-03-04T05:06:07Z\n",
        "２０２５-03-04T05:06:07Z",  # fullwidth digits, which int() would read
        "2025-13-04T05:06:07Z",  # month 13
        "2025-02-29T05:06:07Z",  # not a leap year
        "2025-03-04T24:00:00Z",
        "2025-03-04T05:60:07Z",
        "2025-03-04T05:06:60Z",
        "0000-03-04T05:06:07Z",
    ],
)
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_datetime(text)
    with pytest.raises(BadResponse, match="'date_created' that is not a Twilio datetime"):
        MapItem.from_api({**ITEM, "date_created": text})


@pytest.mark.parametrize("value", [1741064767, 1741064767.0, ["2025-03-04T05:06:07Z"], {"date": "x"}, True])
def test_a_datetime_that_is_not_a_string_is_refused(value: Any) -> None:
    with pytest.raises(BadResponse, match="'date_updated' that is not a string"):
        MapItem.from_api({**ITEM, "date_updated": value})


def test_null_is_read_only_where_twilio_sends_it() -> None:
    assert MapItem.from_api(ITEM).date_expires is None
    with pytest.raises(BadResponse, match="'date_created' that is not a string"):
        MapItem.from_api({**ITEM, "date_created": None})


def test_a_missing_datetime_is_refused_by_name() -> None:
    payload = {**ITEM}
    del payload["date_updated"]
    with pytest.raises(BadResponse, match="no 'date_updated' field"):
        MapItem.from_api(payload)


def test_a_map_reads_its_datetimes_the_same_way() -> None:
    payload = {
        "sid": "MP" + "0" * 32,
        "unique_name": "m",
        "account_sid": "AC" + "0" * 32,
        "service_sid": "IS" + "0" * 32,
        "url": "https://sync.twilio.com/v1/Services/IS/Maps/MP",
        "revision": "3",
        "date_expires": "2025-03-04T06:06:07Z",
        "date_created": "2025-03-04T05:06:07Z",
        "date_updated": "2025-03-04T05:06:07Z",
        "created_by": "system",
    }
    assert SyncMap.from_api(payload).date_expires == datetime(2025, 3, 4, 6, 6, 7, tzinfo=timezone.utc)
    with pytest.raises(BadResponse, match="'date_expires' that is not a Twilio datetime"):
        SyncMap.from_api({**payload, "date_expires": "2025-03-04T06:06:07.000Z"})
