"""Date and value parsing of CPI replies: ``/Date(ms)/`` forms, filter literals, strings-as-numbers, flags."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.cpi.dates import (
    format_filter_datetime,
    from_epoch_ms,
    parse_filter_datetime,
    parse_odata_date,
    to_epoch_ms,
    to_odata_date,
)
from core.cpi.values import as_bool, as_int, as_str

MS = 1765786792442
EXPECTED = datetime(2025, 12, 15, 8, 19, 52, 442000, tzinfo=UTC)


@pytest.mark.parametrize(
    "raw",
    [f"/Date({MS})/", f"/Date({MS}+0000)/", f"/Date({MS}+0100)/", str(MS), MS, "2025-12-15T08:19:52.442Z"],
)
def test_every_date_form_cpi_sends_parses_to_the_same_utc_instant(raw: object) -> None:
    assert parse_odata_date(raw) == EXPECTED


@pytest.mark.parametrize("raw", [None, ""])
def test_missing_dates_are_none(raw: object) -> None:
    assert parse_odata_date(raw) is None


@pytest.mark.parametrize("raw", ["/Date(abc)/", "yesterday", True, 1.5])
def test_garbage_dates_raise_value_error(raw: object) -> None:
    with pytest.raises(ValueError, match="not a date"):
        parse_odata_date(raw)


def test_naive_iso_text_is_taken_as_utc() -> None:
    assert parse_odata_date("2025-12-15T08:19:52.442") == EXPECTED


@given(st.integers(min_value=0, max_value=4_102_444_800_000))
def test_epoch_ms_round_trips_exactly(ms: int) -> None:
    assert to_epoch_ms(from_epoch_ms(ms)) == ms
    assert parse_odata_date(to_odata_date(ms)) == from_epoch_ms(ms)


def test_filter_literal_is_utc_without_zone_and_with_milliseconds() -> None:
    local = EXPECTED.astimezone(timezone(timedelta(hours=2)))
    assert format_filter_datetime(local) == "datetime'2025-12-15T08:19:52.442'"
    assert parse_filter_datetime("2025-12-15T08:19:52.442") == EXPECTED
    assert parse_filter_datetime("2025-12-15T08:19") == EXPECTED.replace(second=0, microsecond=0)
    with pytest.raises(ValueError, match="no zone"):
        parse_filter_datetime("2025-12-15T08:19:52Z")


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)))
def test_filter_literal_round_trips_to_the_millisecond(value: datetime) -> None:
    text = format_filter_datetime(value)[len("datetime'") : -1]
    assert parse_filter_datetime(text) == value.replace(microsecond=value.microsecond // 1000 * 1000)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(True, True), (False, False), ("false", False), ("TRUE", True), ("0", False), (1, True), (None, None)],
)
def test_flags_as_booleans_or_strings(raw: object, expected: bool | None) -> None:
    assert as_bool(raw) is expected


def test_numbers_as_strings() -> None:
    assert as_int("26") == 26
    assert as_int(26) == 26
    assert as_int(" 7 ") == 7
    assert as_int(None) is None
    assert as_str(166) == "166"
    with pytest.raises(ValueError, match="not an integer"):
        as_int("26kB")
    with pytest.raises(ValueError, match="not a boolean"):
        as_bool("maybe")
