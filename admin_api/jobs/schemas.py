"""Request bodies and the query filter of the jobs area."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec

from admin_api.errors import BadInput

__all__ = ["EnqueueBody", "RunFilter", "RunPage", "RunSummary", "utc_bound"]


class EnqueueBody(msgspec.Struct, forbid_unknown_fields=True):
    """Enqueue a catalogued function; ``kwargs`` are its keyword arguments (JSON object)."""

    function: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    kwargs: dict[str, Any] = msgspec.field(default_factory=dict)
    tenant_id: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)] | None = None
    defer_s: Annotated[float, msgspec.Meta(ge=0, le=86_400)] = 0.0
    dedup_key: Annotated[str, msgspec.Meta(min_length=1, max_length=255)] | None = None


@dataclass(frozen=True, slots=True)
class RunFilter:
    """Ledger search: every field narrows the result; the cursor continues a previous page."""

    queue: str | None = None
    function: str | None = None
    statuses: tuple[str, ...] = ()
    tenant_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 50
    cursor: tuple[datetime, int] | None = None

    def __post_init__(self) -> None:
        # Every way in (API, console, bulk replay) builds this filter: dates are checked here once.
        for name in ("since", "until"):
            object.__setattr__(self, name, utc_bound(name, getattr(self, name)))


def utc_bound(field: str, value: datetime | None) -> datetime | None:
    """``value`` in UTC (naive = UTC); a date whose UTC form leaves years 1-9999 (such as
    ``9999-12-31T23:59:59-14:00``) is a 400 naming the field, not an OverflowError."""
    if value is None:
        return None
    try:
        return (value.replace(tzinfo=UTC) if value.tzinfo is None else value).astimezone(UTC)
    except (OverflowError, ValueError):
        raise BadInput(field, "date is out of range once converted to UTC (years 1 to 9999)") from None


class RunSummary(msgspec.Struct):
    """One ledger row in a search result (documentation of the response; the page is built as JSON)."""

    id: int
    job_id: str
    queue: str
    function: str
    tenant_id: int | None
    status: str
    attempt: int
    max_attempts: int
    enqueued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: int | None
    worker_id: str | None
    error_type: str | None
    replay_of_id: int | None


class RunPage(msgspec.Struct):
    """A page of runs, newest first; pass ``next_cursor`` back as ``cursor`` for the next (older) page."""

    items: list[RunSummary]
    next_cursor: str | None
