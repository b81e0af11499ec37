"""Schedule bodies and responses: a catalogued function run by cron or every N seconds."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

__all__ = ["LastRun", "RunNowResult", "ScheduleCreate", "ScheduleList", "ScheduleRun", "ScheduleUpdate",
           "ScheduleView"]

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
Cron = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
Interval = Annotated[int, msgspec.Meta(ge=10, le=31 * 86_400)]


class ScheduleCreate(msgspec.Struct, forbid_unknown_fields=True):
    """``per_tenant``: each firing runs the function once per active tenant (``tenant_id`` passed)."""

    name: Name
    function: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    args: dict[str, Any] = msgspec.field(default_factory=dict)
    tenant_id: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)] | None = None
    cron: Cron | None = None
    interval_seconds: Interval | None = None
    enabled: bool = True
    per_tenant: bool = False


class ScheduleUpdate(msgspec.Struct, forbid_unknown_fields=True):
    """Change when (give ``cron`` or ``interval_seconds``; the other is cleared) or with what arguments."""

    cron: Cron | None = None
    interval_seconds: Interval | None = None
    args: dict[str, Any] | None = None


class LastRun(msgspec.Struct):
    """The job of the schedule's latest firing (of one tenant, for a per-tenant schedule)."""

    run_id: int | None
    job_id: str | None
    status: str | None
    tenant_id: int | None
    scheduled_for: datetime
    finished_at: datetime | None
    error_message: str | None


class ScheduleView(msgspec.Struct):
    id: int
    name: str
    function: str
    args: dict[str, Any]
    tenant_id: int | None
    per_tenant: bool
    cron: str | None
    interval_seconds: int | None
    enabled: bool
    next_run_at: datetime | None
    last_run_at: datetime | None
    last_run: LastRun | None
    last_success_at: datetime | None  # when a job of this schedule last finished successfully


class ScheduleList(msgspec.Struct):
    items: list[ScheduleView]


class ScheduleRun(msgspec.Struct):
    run_id: int | None
    job_id: str
    tenant_id: int | None


class RunNowResult(msgspec.Struct):
    """``run_id`` / ``job_id``: the first (or only) job; ``runs``: every job (one per tenant when fanned out)."""

    schedule_id: int
    run_id: int | None
    job_id: str
    runs: list[ScheduleRun]
