"""OData v2 date handling shared by the CPI client and the simulator.

CPI sends instants as ``/Date(<ms since epoch UTC>)/`` and sometimes ``/Date(<ms>+0000)/``; some
entities (IntegrationPackage) send bare epoch-millisecond strings. ``$filter`` literals are the
other way round: ``datetime'2024-01-01T00:00:00.000'`` in UTC with no zone suffix (CPI rejects one).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

__all__ = [
    "EPOCH",
    "format_filter_datetime",
    "from_epoch_ms",
    "parse_filter_datetime",
    "parse_odata_date",
    "to_epoch_ms",
    "to_odata_date",
]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ODATA_DATE = re.compile(r"/Date\((-?\d+)(?:([+-])(\d{2})(\d{2}))?\)/")
_FILTER_LITERAL = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?")


def from_epoch_ms(ms: int) -> datetime:
    """An aware UTC datetime for epoch milliseconds (exact: no float rounding)."""
    return EPOCH + timedelta(milliseconds=ms)


def to_epoch_ms(value: datetime) -> int:
    """Epoch milliseconds of an aware datetime (naive values are taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value - EPOCH) // timedelta(milliseconds=1)


def parse_odata_date(raw: object) -> datetime | None:
    """Parse ``/Date(ms)/``, ``/Date(ms+hhmm)/``, an epoch-ms string/number or ISO text; None stays None.

    The offset of ``/Date(ms+hhmm)/`` only says in which zone the value was shown: ``ms`` is UTC already.
    Raises ValueError for text that is none of these.
    """
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        raise ValueError(f"not a date: {raw!r}")
    if isinstance(raw, int):
        return from_epoch_ms(raw)
    if not isinstance(raw, str):
        raise ValueError(f"not a date: {raw!r}")
    if raw.startswith("/Date(") and raw.endswith(")/") and raw[6:-2].isdigit():
        return EPOCH + timedelta(milliseconds=int(raw[6:-2]))  # the common case, without the regex
    match = _ODATA_DATE.fullmatch(raw)
    if match:
        return from_epoch_ms(int(match.group(1)))
    if raw.lstrip("-").isdigit():
        return from_epoch_ms(int(raw))
    return _parse_iso(raw)


def _parse_iso(raw: str) -> datetime:
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"not a date: {raw!r}") from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def to_odata_date(value: datetime | int) -> str:
    """``/Date(ms)/`` for a datetime or epoch milliseconds."""
    ms = value if isinstance(value, int) else to_epoch_ms(value)
    return f"/Date({ms})/"


def format_filter_datetime(value: datetime) -> str:
    """A ``$filter`` literal: ``datetime'YYYY-MM-DDTHH:MM:SS.mmm'`` in UTC without a zone suffix."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return f"datetime'{value.strftime('%Y-%m-%dT%H:%M:%S')}.{value.microsecond // 1000:03d}'"


def parse_filter_datetime(text: str) -> datetime:
    """Inverse of :func:`format_filter_datetime` for the text between the quotes (UTC, ms precision)."""
    match = _FILTER_LITERAL.fullmatch(text)
    if not match:
        raise ValueError(f"datetime literal {text!r} is not YYYY-MM-DDTHH:MM[:SS[.fff]] (UTC, no zone)")
    year, month, day, hour, minute = (int(match.group(i)) for i in range(1, 6))
    second = int(match.group(6) or 0)
    fraction = (match.group(7) or "0").ljust(6, "0")[:6]
    return datetime(year, month, day, hour, minute, second, int(fraction), tzinfo=UTC)
