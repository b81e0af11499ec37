"""Data of each console page, built from the same services as the JSON API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import Request

from admin_api.bottlenecks.services import bottlenecks, durability, report
from admin_api.context import ApiContext
from admin_api.dead_letters.services import list_dead_letters
from admin_api.errors import BadInput
from admin_api.jobs.queries import decode_cursor, run_detail, search_runs
from admin_api.jobs.schemas import RunFilter
from admin_api.metrics.history import duration_percentiles, queue_series, throughput, window_start
from admin_api.metrics.live_depth import queue_depths
from admin_api.metrics.platform import platform_series
from admin_api.redis_metrics.services import redis_overview
from admin_api.tuning.services import current_tuning
from admin_api.workers.overview import workers_overview
from admin_api.workers.services import job_progress
from core.ledger.states import RunStatus
from core.queues.catalog import FUNCTIONS, GROUPS, QUEUES

__all__ = ["bottlenecks_context", "dead_letters_context", "job_context", "jobs_context", "queues_context",
           "redis_context", "tuning_context", "workers_context"]


def _when(raw: str) -> datetime | None:
    return datetime.fromisoformat(raw) if raw else None


def _filter_from(request: Request[Any, Any, Any], statuses: tuple[str, ...] | None = None) -> RunFilter:
    """The filter form's values; a bad one raises BadInput, shown on the page instead of results."""
    q = request.query_params
    queue, function, status = q.get("queue") or None, q.get("function") or None, q.get("status") or None
    tenant = q.get("tenant_id") or ""
    if queue and queue not in QUEUES:
        raise BadInput("queue", f"unknown queue {queue!r}")
    if function and function not in FUNCTIONS:
        raise BadInput("function", f"unknown function {function!r}")
    if status and status not in {s.value for s in RunStatus}:
        raise BadInput("status", f"unknown status {status!r}")
    if tenant and not tenant.isdigit():
        raise BadInput("tenant_id", "must be a number")
    try:
        since, until = _when(q.get("since", "")), _when(q.get("until", ""))
    except ValueError as exc:
        raise BadInput("since/until", "use ISO dates like 2026-11-26T10:00") from exc
    cursor = q.get("cursor")
    return RunFilter(queue=queue, function=function, statuses=statuses or ((status,) if status else ()),
                     tenant_id=int(tenant) if tenant else None, since=since, until=until, limit=50,
                     cursor=decode_cursor(cursor) if cursor else None)


def _form(request: Request[Any, Any, Any]) -> dict[str, Any]:
    values = {k: request.query_params.get(k, "") for k in ("queue", "function", "status", "tenant_id", "since",
                                                           "until")}
    return {"form": values, "queues": list(QUEUES), "functions": sorted(FUNCTIONS),
            "statuses": [s.value for s in RunStatus]}


async def jobs_context(ctx: ApiContext, request: Request[Any, Any, Any]) -> dict[str, Any]:
    page: dict[str, Any] = _form(request)
    try:
        flt = _filter_from(request)
    except BadInput as exc:
        return {**page, "items": [], "next_cursor": None, "error": exc.detail}
    items, cursor = await ctx.read(lambda s: search_runs(s, flt))
    return {**page, "items": msgspec.to_builtins(items), "next_cursor": cursor, "error": None}


async def dead_letters_context(ctx: ApiContext, request: Request[Any, Any, Any]) -> dict[str, Any]:
    page: dict[str, Any] = _form(request)
    try:
        flt = _filter_from(request, statuses=(RunStatus.DEAD.value,))
    except BadInput as exc:
        return {**page, "items": [], "next_cursor": None, "error": exc.detail}
    items, cursor = await ctx.read(lambda s: list_dead_letters(s, flt, include_resolved=False))
    return {**page, "items": msgspec.to_builtins(items), "next_cursor": cursor, "error": None}


async def job_context(ctx: ApiContext, run_id: int) -> dict[str, Any]:
    job = msgspec.to_builtins(await ctx.read(lambda s: run_detail(s, run_id)))  # the template's plain values
    progress = await job_progress(ctx.resources.redis, [job["job_id"]])
    job["progress"] = progress.get(job["job_id"])
    return {"job": job, "can_retry": job["status"] in {"failed", "dead", "cancelled", "skipped", "succeeded"},
            "can_cancel": job["status"] in {"queued", "retrying", "running"}}


async def queues_context(ctx: ApiContext, request: Request[Any, Any, Any]) -> dict[str, Any]:
    since = window_start(60)
    series = msgspec.to_builtins(await ctx.read(lambda s: queue_series(s, since, None)))
    points = msgspec.to_builtins(await ctx.read(lambda s: throughput(s, since, 60, None)))
    durations = msgspec.to_builtins(await ctx.read(lambda s: duration_percentiles(s, since)))
    live = await queue_depths(ctx.resources.redis)
    return {"live": live, "durations": durations,
            "page_data": {"series": series, "throughput": points, "live": live}}


async def redis_context(ctx: ApiContext, request: Request[Any, Any, Any]) -> dict[str, Any]:
    return {"redis": await redis_overview(ctx.resources.redis)}


async def workers_context(ctx: ApiContext, request: Request[Any, Any, Any]) -> dict[str, Any]:
    data = msgspec.to_builtins(await workers_overview(ctx))
    return {"workers": data["workers"], "gone": data["recently_gone"]}


async def platform_context(ctx: ApiContext, request: Request[Any, Any, Any]) -> dict[str, Any]:
    data = msgspec.to_builtins(await ctx.read(lambda s: platform_series(s, window_start(24 * 60))))
    return {"storage": data["storage"], "page_data": {"platform": {"hosts": data["hosts"], "api": data["api"]}}}


async def tuning_context(ctx: ApiContext, request: Request[Any, Any, Any]) -> dict[str, Any]:
    tuning = await ctx.read(current_tuning)
    groups = [{"name": g, "queues": list(spec.queues), "effective": tuning["effective"][g],
               "override": tuning["overrides"].get(g)} for g, spec in GROUPS.items()]
    return {"tuning": tuning, "groups": groups, "page_data": {"profiles": tuning["profiles"]}}


async def bottlenecks_context(ctx: ApiContext, request: Request[Any, Any, Any]) -> dict[str, Any]:
    settings = ctx.resources.settings
    rep = await ctx.read(lambda s: report(s, settings))
    return {"view": bottlenecks(rep, await durability(ctx.resources.redis))}
