"""Request bodies, the query filter and the responses of the jobs area (and of the catalog it enqueues from)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import msgspec

from admin_api.errors import BadInput
from core.ledger.states import RunStatus

__all__ = ["AttemptView", "CancelResult", "CatalogFunction", "CatalogGroup", "CatalogQueue", "CatalogView",
           "EnqueueBody", "EnqueueResult", "JobProgress", "ReplayRef", "ReplayResult", "Resolution", "RunDetail",
           "RunFilter", "RunPage", "RunSummary", "utc_bound"]


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
    """One ledger row in a search result. Its fields are also the column list of both search paths
    (the ORM query and the JSON built in SQL on PostgreSQL), so the two cannot drift apart."""

    id: int
    job_id: str
    queue: str
    function: str
    tenant_id: int | None
    status: RunStatus
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


class JobProgress(msgspec.Struct):
    """What a long job last reported through ``ctx.progress`` (``at``: epoch seconds)."""

    done: int | float | None = None
    total: int | float | None = None
    message: str | None = None
    at: float | None = None


class AttemptView(msgspec.Struct):
    attempt: int
    worker_id: str | None
    status: str
    started_at: datetime | None
    finished_at: datetime | None
    duration_ms: int | None
    error_type: str | None
    error_message: str | None


class ReplayRef(msgspec.Struct):
    """A later run replaying this one."""

    id: int
    status: RunStatus


class Resolution(msgspec.Struct):
    """How a dead letter was dealt with (``new_run_id``: the replay, if any)."""

    action: str
    new_run_id: int | None
    by: str
    at: datetime


class RunDetail(msgspec.Struct):
    """One run: ledger fields (arguments redacted), attempt timeline, replays, resolution, live progress."""

    id: int
    job_id: str
    queue: str
    function: str
    tenant_id: int | None
    args: dict[str, Any]
    status: RunStatus
    attempt: int
    max_attempts: int
    enqueued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    next_attempt_at: datetime | None
    duration_ms: int | None
    worker_id: str | None
    error_type: str | None
    error_message: str | None
    result_summary: dict[str, Any] | None
    reconcile_meta: dict[str, Any] | None
    replay_of_id: int | None
    dedup_key: str | None
    attempts: list[AttemptView]
    replays: list[ReplayRef]
    resolution: Resolution | None
    progress: JobProgress | None = None


class EnqueueResult(msgspec.Struct):
    run_id: int | None
    job_id: str
    function: str


class ReplayResult(msgspec.Struct):
    """``run_id`` / ``job_id``: the new run, linked to ``replayed_run_id``."""

    replayed_run_id: int
    run_id: int | None
    job_id: str


class CancelResult(msgspec.Struct):
    """``cancelled`` when the job left its queue; ``cancelling`` when its worker was asked to abort it."""

    run_id: int
    status: Literal["cancelled", "cancelling"]
    detail: str | None = None


class CatalogRetry(msgspec.Struct):
    max_retries: int
    backoff_base_s: float
    backoff_max_s: float
    permanent: list[str]


class CatalogFunction(msgspec.Struct):
    name: str
    timeout_s: float
    retry: CatalogRetry
    description: str


class CatalogQueue(msgspec.Struct):
    name: str
    group: str
    functions: list[CatalogFunction]


class CatalogGroup(msgspec.Struct):
    name: str
    queues: list[str]
    concurrency: int


class CatalogView(msgspec.Struct):
    """Groups, queues with their functions, and the tuning profiles (group -> concurrency)."""

    default_profile: str
    groups: list[CatalogGroup]
    queues: list[CatalogQueue]
    profiles: dict[str, dict[str, int]]
