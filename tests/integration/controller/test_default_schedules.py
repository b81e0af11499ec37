"""Default-schedule behaviour of the schedule loop on real PostgreSQL and Redis: per-tenant fan-out from
one row, one path for agent reports (two controllers racing fire each report firing once, with its
``job_config_id``, ``period_end`` and tenant), seed function names, and settings changed through the API
taken by the next controller tick."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any, cast

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from admin_api.context import Principal
from admin_api.settings.services import set_tenant
from controller.dispatch import PollDispatcher
from controller.schedules import ScheduleRunner
from core.db.models.base import utcnow
from core.db.models.ledger import WorkerJobRun
from core.db.models.scheduling import JobConfig, JobRun
from core.queues.catalog import function
from core.resources import Resources
from core.secrets import SecretBox
from functions.platform.reports import dispatch_due_agent_reports_task
from functions.runner.context import JobContext
from tests.integration.controller.conftest import add_tenants


def _runner(resources: Resources) -> ScheduleRunner:
    return ScheduleRunner(resources.sessions, resources.enqueuer, SecretBox(resources.settings))


def _add(sessions: sessionmaker[Session], name: str, **values: Any) -> int:
    row = {"name": name, "function": "noop", "args": {}, "enabled": True} | values
    with sessions() as session, session.begin():
        return int(session.execute(insert(JobConfig).values(**row).returning(JobConfig.id)).scalar_one())


def _runs(sessions: sessionmaker[Session], fn: str) -> list[WorkerJobRun]:
    with sessions() as session:
        return list(session.scalars(select(WorkerJobRun).where(WorkerJobRun.function == fn)
                                    .order_by(WorkerJobRun.id)))


async def test_per_tenant_row_fans_out_to_every_active_tenant_including_new_ones(resources: Resources) -> None:
    sessions = resources.sessions
    active = add_tenants(sessions, 2)
    add_tenants(sessions, 1, active=False, start=10)
    now = utcnow()
    cid = _add(sessions, "default.alerts", function="check_and_create_alerts", interval_seconds=60,
               per_tenant=True, next_run_at=now)
    runner = _runner(resources)

    assert await runner.tick(now) == 1
    first = _runs(sessions, "check_and_create_alerts")
    assert sorted((r.tenant_id, r.args_redacted["tenant_id"]) for r in first) == [(t, t) for t in active]

    newcomer = add_tenants(sessions, 1, start=20)[0]
    with sessions() as session, session.begin():  # the first firing's jobs finished
        for run in session.scalars(select(WorkerJobRun)):
            run.status = "succeeded"
    assert await runner.tick(now + timedelta(seconds=61)) == 1
    second = _runs(sessions, "check_and_create_alerts")[len(first):]
    assert sorted(cast(int, r.tenant_id) for r in second) == [*active, newcomer]
    with sessions() as session:
        assert session.scalar(select(JobRun.id).where(JobRun.job_config_id == cid).order_by(JobRun.id.desc())
                              .limit(1)) is not None
        assert len(session.scalars(select(JobRun.id)).all()) == 5  # one job_run per tenant job


def _ctx(resources: Resources, n: int) -> JobContext:
    return JobContext(resources=resources, job_id=f"dispatch-{n}", spec=function("dispatch_due_agent_reports_task"),
                      attempt=1, worker_id=f"controller-{n}")


async def test_two_controllers_fire_each_agent_report_once_through_the_dispatch(resources: Resources) -> None:
    """Two schedule loops and two report dispatches at once on one database: each due report row is
    fired once, by the dispatch, with its firing identity and tenant; the schedule loops never touch it."""
    sessions = resources.sessions
    tenant = add_tenants(sessions, 1)[0]
    due = utcnow() - timedelta(seconds=5)
    reports = [_add(sessions, f"report-{i}", function="run_agent_report_task", interval_seconds=3600,
                    tenant_id=tenant if i % 2 else None, next_run_at=due,
                    args={"delivery": "webhook", "target": "http://127.0.0.1:9/hook"}) for i in range(6)]
    loops = [_runner(resources) for _ in range(2)]

    outcomes = await asyncio.gather(loops[0].tick(), loops[1].tick(),
                                    dispatch_due_agent_reports_task(_ctx(resources, 1)),
                                    dispatch_due_agent_reports_task(_ctx(resources, 2)),
                                    loops[0].tick(), loops[1].tick())

    assert outcomes[0] == outcomes[1] == outcomes[4] == outcomes[5] == 0
    assert outcomes[2]["dispatched"] + outcomes[3]["dispatched"] == len(reports)
    runs = _runs(sessions, "run_agent_report_task")
    assert len(runs) == len(reports)
    by_config = {r.args_redacted["job_config_id"]: r for r in runs}
    assert sorted(by_config) == reports
    for i, cid in enumerate(reports):
        run = by_config[cid]
        assert run.args_redacted["period_end"] == due.isoformat()
        assert run.tenant_id == (tenant if i % 2 else None)
        assert run.arq_job_id == f"agent_report:{cid}:{int(due.timestamp())}"
    with sessions() as session:
        assert sorted(session.scalars(select(JobRun.job_config_id))) == reports
        assert all(cast(datetime, c.next_run_at) > utcnow() for c in session.scalars(select(JobConfig)))
    # a retried dispatch of the same firing adds nothing
    assert (await dispatch_due_agent_reports_task(_ctx(resources, 3)))["dispatched"] == 0
    assert len(_runs(sessions, "run_agent_report_task")) == len(reports)


async def test_seed_function_names_run_the_api_metrics_functions(resources: Resources,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    sessions = resources.sessions
    now = utcnow()
    _add(sessions, "old-collect", function="django_metrics_collect_task", interval_seconds=60, next_run_at=now)
    _add(sessions, "old-dispatch", function="django_metrics_dispatch_task", interval_seconds=60, next_run_at=now)
    with caplog.at_level(logging.WARNING):
        assert await _runner(resources).tick(now) == 2
    assert len(_runs(sessions, "api_metrics_collect_task")) == 1
    assert len(_runs(sessions, "api_metrics_dispatch_task")) == 1
    lines = [r.getMessage() for r in caplog.records if "deprecated function name" in r.getMessage()]
    assert any("django_metrics_collect_task" in line for line in lines)
    assert any("django_metrics_dispatch_task" in line for line in lines)


async def test_setting_changed_through_the_api_is_taken_by_the_next_dispatch_tick(resources: Resources) -> None:
    """The poll dispatcher reads config_ext on every tick: no restart after a change."""
    sessions = resources.sessions
    tenant = add_tenants(sessions, 1)[0]
    dispatcher = PollDispatcher(sessions, resources.redis, resources.enqueuer)
    await dispatcher.tick()
    with sessions() as session, session.begin():
        for run in session.scalars(select(WorkerJobRun)):
            run.status, run.finished_at = "succeeded", utcnow()
    before = len(_runs(sessions, "read_message_logs"))
    with sessions() as session, session.begin():
        set_tenant(session, Principal("ops", "admin"), tenant, "poll.hot.interval_s", 0)  # hot polls off
    await dispatcher.tick(utcnow() + timedelta(seconds=120))
    assert len(_runs(sessions, "read_message_logs")) == before
    with sessions() as session, session.begin():
        set_tenant(session, Principal("ops", "admin"), tenant, "poll.hot.interval_s", 10)
    await dispatcher.tick(utcnow() + timedelta(seconds=240))
    assert len(_runs(sessions, "read_message_logs")) == before + 1


async def test_an_unplanned_report_row_is_planned_by_the_dispatch(resources: Resources) -> None:
    sessions = resources.sessions
    cid = _add(sessions, "sql-made", function="run_agent_report_task", interval_seconds=600,
               args={"delivery": "email", "target": "a@b.example"})
    assert (await dispatch_due_agent_reports_task(_ctx(resources, 7)))["dispatched"] == 0
    with sessions() as session:
        planned = session.get_one(JobConfig, cid).next_run_at
    assert planned is not None
    assert planned > utcnow() + timedelta(seconds=500)
