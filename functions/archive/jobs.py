"""``archive_cpi_day`` (queue ``archive_data``, no retries, as in the seed)."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from core.db.models.tenants import Tenant
from core.errors import PermanentJobError
from core.queues.catalog import ARCHIVE_CPI_DAY
from functions.archive.export import archive_day
from functions.registry import JobFunction, implemented_in, implements
from functions.runner.context import JobContext

__all__ = ["JOBS", "archive_cpi_day", "parse_day"]


def parse_day(value: str) -> date:
    """``YYYY-MM-DD`` or a PermanentJobError naming the bad value."""
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise PermanentJobError(f"day {value!r} is not a date (YYYY-MM-DD)") from exc


@implements(ARCHIVE_CPI_DAY)
async def archive_cpi_day(ctx: JobContext, tenant_id: int, day: str, prune: bool | None = None) -> dict[str, Any]:
    """Archive one tenant-day to object storage; prune the rows once verified if past retention."""
    the_day = parse_day(day)

    def run() -> dict[str, Any]:
        with ctx.resources.sessions() as session:
            if session.get(Tenant, int(tenant_id)) is None:
                raise PermanentJobError(f"tenant {tenant_id} does not exist")
        result = archive_day(ctx.settings, ctx.resources.sessions, int(tenant_id), the_day, prune)
        return {"tenant_id": int(tenant_id), "day": the_day.isoformat(), **result.as_dict()}

    return await asyncio.to_thread(run)


JOBS: dict[str, JobFunction] = implemented_in(__name__)  # the table, derived from @implements
