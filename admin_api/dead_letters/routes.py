"""``/api/v1/dead-letters``: list, replay, discard, bulk replay by filter."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from admin_api.auth.middleware import require_admin
from admin_api.context import Ctx, Principal
from admin_api.dead_letters.schemas import BulkReplayBody, BulkReplayResult, DeadLetterPage, DiscardResult
from admin_api.dead_letters.services import bulk_replay, discard, list_dead_letters
from admin_api.errors import Conflict
from admin_api.jobs.actions import replay_run
from admin_api.jobs.queries import decode_cursor, load_run
from admin_api.jobs.schemas import ReplayResult, RunFilter
from admin_api.params import Cursor, FunctionName, Limit, QueueName, RunId, Since, TenantQ, Until, check_names
from core.ledger.states import RunStatus

__all__ = ["DeadLettersController"]

DEAD = (RunStatus.DEAD.value,)


class DeadLettersController(Controller):
    path = "/api/v1/dead-letters"
    tags = ["dead-letters"]

    @get("/", summary="Dead-lettered runs (unresolved unless include_resolved)")
    async def list_items(self, ctx: Ctx, queue: QueueName = None, function: FunctionName = None,
                         tenant_id: TenantQ = None, since: Since = None, until: Until = None, limit: Limit = 50,
                         cursor: Cursor = None, include_resolved: FromQuery[bool] = False) -> DeadLetterPage:
        check_names(queue, function)
        flt = RunFilter(queue=queue, function=function, statuses=DEAD, tenant_id=tenant_id, since=since,
                        until=until, limit=limit, cursor=decode_cursor(cursor) if cursor else None)
        items, next_cursor = await ctx.read(lambda s: list_dead_letters(s, flt, include_resolved))
        return DeadLetterPage(items=items, next_cursor=next_cursor)

    @post("/{run_id:int}/replay", guards=[require_admin], status_code=HTTP_201_CREATED,
          summary="Replay one dead letter as a new run linked to it")
    async def replay(self, ctx: Ctx, request: Request[Principal, Any, Any], run_id: RunId) -> ReplayResult:
        run = await ctx.read(lambda s: load_run(s, run_id))
        if run.status != RunStatus.DEAD:
            raise Conflict(f"job run {run_id} is {run.status}, not a dead letter")
        return await replay_run(ctx, request.user, run_id)

    @post("/{run_id:int}/discard", guards=[require_admin], status_code=HTTP_200_OK,
          summary="Discard a dead letter (kept in the ledger, hidden from this list)")
    async def discard_item(self, ctx: Ctx, request: Request[Principal, Any, Any], run_id: RunId
                           ) -> DiscardResult:
        return await ctx.write(lambda s: discard(s, request.user, run_id))

    @post("/replay", guards=[require_admin], status_code=HTTP_200_OK,
          summary="Replay every unresolved dead letter matching a filter")
    async def replay_many(self, ctx: Ctx, request: Request[Principal, Any, Any], data: JSONBody[BulkReplayBody]
                          ) -> BulkReplayResult:
        check_names(data.queue, data.function)
        flt = RunFilter(queue=data.queue, function=data.function, statuses=DEAD, tenant_id=data.tenant_id,
                        since=data.since, until=data.until, limit=data.limit)
        return await bulk_replay(ctx, request.user, flt)
