"""Tenant poll dispatch against real PostgreSQL and Redis: what is enqueued, when, and never twice."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from controller.dispatch import POLL_FUNCTIONS, PollDispatcher
from core.db.models.base import utcnow
from core.db.models.ledger import WorkerJobRun
from core.db.models.scheduling import ConfigExt
from core.queues.keys import CONTROLLER_POLL_STATE
from core.queues.serialization import decode_job
from core.resources import Resources
from tests.integration.controller.conftest import add_tenants

KINDS = len(POLL_FUNCTIONS)  # hot, cold, payloads, packages, deep_sync, settle

def _runs(sessions: sessionmaker[Session]) -> list[WorkerJobRun]:
    with sessions() as session:
        return list(session.execute(select(WorkerJobRun).order_by(WorkerJobRun.id)).scalars())


def _finish_all(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        session.execute(update(WorkerJobRun).values(status="succeeded", finished_at=utcnow()))


async def test_first_tick_enqueues_every_kind_of_every_active_tenant(resources: Resources) -> None:
    sessions = resources.sessions
    active = add_tenants(sessions, 3)
    add_tenants(sessions, 1, active=False, start=10)

    result = await PollDispatcher(sessions, resources.redis, resources.enqueuer).tick()

    assert (result.due, result.enqueued) == (3 * KINDS, 3 * KINDS)
    runs = _runs(sessions)
    assert {(r.tenant_id, r.function) for r in runs} == {(t, f) for t in active for f in POLL_FUNCTIONS.values()}
    hot = next(r for r in runs if r.tenant_id == active[0] and r.function == "read_message_logs")
    assert hot.dedup_key == f"poll:{active[0]}:hot"
    assert hot.args_redacted == {"tenant_id": active[0]}
    job = decode_job(await resources.redis.get(f"arq:job:{hot.arq_job_id}"))
    assert (job["f"], job["k"]) == ("read_message_logs", {"tenant_id": active[0]})
    assert await resources.redis.zscore("arq:queue:messagelog_read", hot.arq_job_id) is not None


async def test_nothing_is_enqueued_again_until_due_and_finished(resources: Resources) -> None:
    sessions = resources.sessions
    add_tenants(sessions, 2)
    dispatcher = PollDispatcher(sessions, resources.redis, resources.enqueuer)
    now = utcnow()
    assert (await dispatcher.tick(now)).enqueued == 2 * KINDS

    assert (await dispatcher.tick(now + timedelta(seconds=30))).due == 0
    blocked = await dispatcher.tick(now + timedelta(seconds=61))
    assert (blocked.due, blocked.enqueued) == (2, 0)  # hot is due but its previous job is still queued
    assert len(_runs(sessions)) == 2 * KINDS

    _finish_all(sessions)
    resumed = await dispatcher.tick(now + timedelta(seconds=62))
    assert (resumed.due, resumed.enqueued) == (2, 2)
    hot_runs = [r for r in _runs(sessions) if r.function == "read_message_logs"]
    assert len(hot_runs) == 4


async def test_tenant_interval_overrides_global_config(resources: Resources) -> None:
    sessions = resources.sessions
    first, second = add_tenants(sessions, 2)
    with sessions() as session, session.begin():
        session.execute(
            insert(ConfigExt),
            [
                {"tenant_id": None, "key": "poll.hot.interval_s", "value": 600},
                {"tenant_id": first, "key": "poll.hot.interval_s", "value": 20},
                {"tenant_id": second, "key": "poll.deep_sync.interval_s", "value": 0},
            ],
        )
    dispatcher = PollDispatcher(sessions, resources.redis, resources.enqueuer)
    now = utcnow()
    assert (await dispatcher.tick(now)).enqueued == 2 * KINDS - 1  # deep sync disabled for the second tenant
    _finish_all(sessions)

    later = await dispatcher.tick(now + timedelta(seconds=25))
    assert later.enqueued == 1
    assert [r.tenant_id for r in _runs(sessions) if r.status == "queued"] == [first]


async def test_restarted_controller_never_doubles_a_slot(resources: Resources) -> None:
    sessions = resources.sessions
    add_tenants(sessions, 2)
    now = utcnow().replace(minute=0, second=10, microsecond=0)  # one second later is still the same slot
    assert (await PollDispatcher(sessions, resources.redis, resources.enqueuer).tick(now)).enqueued == 2 * KINDS
    _finish_all(sessions)
    await resources.redis.delete(CONTROLLER_POLL_STATE)  # as if it crashed after enqueueing, before recording

    again = await PollDispatcher(sessions, resources.redis, resources.enqueuer).tick(now + timedelta(seconds=1))

    assert again.enqueued == 0
    assert len(_runs(sessions)) == 2 * KINDS
    assert await resources.redis.hlen(CONTROLLER_POLL_STATE) == 2  # recorded from the ledger this time


async def test_large_tick_crosses_enqueue_chunks_without_loss(resources: Resources) -> None:
    sessions = resources.sessions
    add_tenants(sessions, 1100)  # 1,100 x KINDS jobs: several pipelined enqueue chunks, ledger writes in flight

    result = await PollDispatcher(sessions, resources.redis, resources.enqueuer).tick()

    assert (result.due, result.enqueued) == (1100 * KINDS, 1100 * KINDS)
    with sessions() as session:
        queued_runs = session.execute(select(WorkerJobRun.id).where(WorkerJobRun.status == "queued")).all()
        assert len(queued_runs) == 1100 * KINDS
    queued = sum([await resources.redis.zcard(f"arq:queue:{q}") for q in
                  ("messagelog_read", "messagelog_read_cold", "payload_read", "package_read")])
    assert queued == 1100 * KINDS
    assert await resources.redis.hlen(CONTROLLER_POLL_STATE) == 1100
