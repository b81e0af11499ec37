"""List unresolved dead letters, discard one, replay many by filter."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from admin_api.audit.services import audit
from admin_api.context import ApiContext, Principal
from admin_api.dead_letters.schemas import BulkReplayResult, DeadLetterSummary, DiscardResult, Refusal
from admin_api.errors import Conflict
from admin_api.jobs.actions import replay_run
from admin_api.jobs.queries import LIST_COLUMNS, filtered, load_run, page
from admin_api.jobs.schemas import RunFilter
from core.db.models.dead_letters import DeadLetterResolution
from core.db.models.ledger import WorkerJobRun
from core.ledger.states import RunStatus

__all__ = ["bulk_replay", "discard", "list_dead_letters"]

R = WorkerJobRun
D = DeadLetterResolution


def list_dead_letters(session: Session, flt: RunFilter, include_resolved: bool
                      ) -> tuple[list[DeadLetterSummary], str | None]:
    stmt = select(*LIST_COLUMNS, R.error_message.label("error_message"))
    if not include_resolved:
        stmt = stmt.where(~exists().where(D.run_id == R.id))
    rows, cursor = page(list(session.execute(filtered(stmt, flt))), flt.limit)
    return [DeadLetterSummary(**{**row._mapping, "error_message": (row.error_message or "")[:500]})
            for row in rows], cursor


def discard(session: Session, who: Principal, run_id: int) -> DiscardResult:
    """Mark a dead letter as dealt with; the ledger row stays for history."""
    run = load_run(session, run_id)
    if run.status != RunStatus.DEAD:
        raise Conflict(f"job run {run_id} is {run.status}, not a dead letter")
    session.add(D(run_id=run.id, action="discarded", resolved_by=who.name))
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(f"dead letter {run_id} was already replayed or discarded") from exc
    audit(session, who, "dead_letter.discard", f"run:{run_id}", {"function": run.function, "queue": run.queue})
    return DiscardResult(run_id=run.id, action="discarded")


async def bulk_replay(ctx: ApiContext, who: Principal, flt: RunFilter) -> BulkReplayResult:
    """Replay each matching dead letter; one that cannot be replayed is reported, not fatal."""
    items, _ = await ctx.read(lambda s: list_dead_letters(s, flt, include_resolved=False))
    replayed, refused = [], []
    for item in items[: flt.limit]:
        try:
            replayed.append(await replay_run(ctx, who, item.id))
        except Conflict as exc:
            refused.append(Refusal(run_id=item.id, reason=exc.detail))
    await ctx.write(lambda s: audit(s, who, "dead_letter.bulk_replay", None, {
        "queue": flt.queue, "function": flt.function, "tenant_id": flt.tenant_id,
        "replayed": len(replayed), "refused": len(refused)}))
    return BulkReplayResult(replayed=replayed, refused=refused)
