"""``/api/v1/jobs``: search, detail, retry, cancel, enqueue; ``/api/v1/catalog`` for the enqueue form."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from admin_api.auth.middleware import require_admin
from admin_api.context import Ctx, Principal
from admin_api.jobs.actions import cancel_run, replay_run
from admin_api.jobs.enqueue import enqueue_job
from admin_api.jobs.queries import decode_cursor, run_detail, search_runs
from admin_api.jobs.schemas import (
    CancelResult,
    CatalogView,
    EnqueueBody,
    EnqueueResult,
    JobProgress,
    ReplayResult,
    RunDetail,
    RunFilter,
    RunPage,
)
from admin_api.params import (
    Cursor,
    FunctionName,
    Limit,
    QueueName,
    RunId,
    Since,
    StatusQ,
    TenantQ,
    Until,
    check_names,
)
from admin_api.workers.services import job_progress
from core.queues.catalog import catalog_as_dict

__all__ = ["CatalogController", "JobsController", "build_filter"]


def build_filter(queue: str | None, function: str | None, status: str | None, tenant_id: int | None,
                 since: Any, until: Any, limit: int, cursor: str | None) -> RunFilter:
    check_names(queue, function)
    return RunFilter(queue=queue, function=function, statuses=(str(status),) if status else (),
                     tenant_id=tenant_id, since=since, until=until, limit=limit,
                     cursor=decode_cursor(cursor) if cursor else None)


class JobsController(Controller):
    path = "/api/v1/jobs"
    tags = ["jobs"]

    @get("/", summary="Search the run ledger (newest first, keyset pagination)",
         responses={200: ResponseSpec(data_container=RunPage, description="a page of runs")})
    async def list_jobs(self, ctx: Ctx, queue: QueueName = None, function: FunctionName = None,
                        status: StatusQ = None, tenant_id: TenantQ = None, since: Since = None,
                        until: Until = None, limit: Limit = 50, cursor: Cursor = None) -> Response[Any]:
        flt = build_filter(queue, function, status, tenant_id, since, until, limit, cursor)
        if ctx.ledger_pages is not None:
            return Response(await ctx.ledger_pages.page(flt), media_type=MediaType.JSON)
        items, next_cursor = await ctx.read(lambda s: search_runs(s, flt))
        return Response(RunPage(items=items, next_cursor=next_cursor), media_type=MediaType.JSON)

    @get("/{run_id:int}", summary="One run with its attempt timeline, error and live progress")
    async def get_job(self, ctx: Ctx, run_id: RunId) -> RunDetail:
        detail = await ctx.read(lambda s: run_detail(s, run_id))
        progress = (await job_progress(ctx.resources.redis, [detail.job_id])).get(detail.job_id)
        if progress is not None:
            detail.progress = msgspec.convert(progress, JobProgress, strict=False)
        return detail

    @post("/", guards=[require_admin], status_code=HTTP_201_CREATED, summary="Enqueue a catalogued function")
    async def enqueue(self, ctx: Ctx, request: Request[Principal, Any, Any], data: JSONBody[EnqueueBody]
                      ) -> EnqueueResult:
        return await enqueue_job(ctx, request.user, data)

    @post("/{run_id:int}/retry", guards=[require_admin], status_code=HTTP_201_CREATED,
          summary="Run a finished job again as a new run linked to this one")
    async def retry(self, ctx: Ctx, request: Request[Principal, Any, Any], run_id: RunId) -> ReplayResult:
        return await replay_run(ctx, request.user, run_id)

    @post("/{run_id:int}/cancel", guards=[require_admin], status_code=HTTP_200_OK,
          summary="Cancel a queued job, or ask the worker to abort a running one")
    async def cancel(self, ctx: Ctx, request: Request[Principal, Any, Any], run_id: RunId) -> CancelResult:
        return await cancel_run(ctx, request.user, run_id)


class CatalogController(Controller):
    path = "/api/v1/catalog"
    tags = ["jobs"]

    @get("/", summary="Queue catalog: groups, queues, functions, profiles")
    async def catalog(self) -> CatalogView:
        return msgspec.convert(catalog_as_dict(), CatalogView)
