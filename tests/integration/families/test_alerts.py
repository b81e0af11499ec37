"""check_and_create_alerts: open once per rule and scope, update counts, resolve; events, notifications,
details fetching; the "deployed artifact in ERROR" condition against the CPI simulator."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from core.db.models.alerting import Alert, AlertNotification, AlertRule
from core.db.models.base import utcnow
from core.db.models.ledger import WorkerJobRun
from core.db.models.messages import MessageLog
from core.db.models.outbox import OutboxEvent
from core.db.models.tenants import Tenant
from core.resources import Resources
from core.secrets import SecretBox
from functions.alerting.jobs import check_and_create_alerts
from functions.runner.context import JobContext
from simulator.config import SimulatorConfig
from simulator.server import SimulatorServer
from tests.integration.families.conftest import add_logs
from tests.stand_ins import HttpReceiver, SmtpSink, http_receiver, smtp_sink


def _rule(db: sessionmaker[Session], tenant_id: int, **fields: Any) -> int:
    with db.begin() as s:
        rule = AlertRule(name=fields.pop("name", "failures"), tenant_id=tenant_id, **fields)
        s.add(rule)
        s.flush()
        return rule.id


def _alerts(db: sessionmaker[Session]) -> list[Alert]:
    with db() as s:
        return list(s.scalars(select(Alert).order_by(Alert.id)))


def _events(db: sessionmaker[Session]) -> list[str]:
    with db() as s:
        return list(
            s.scalars(
                select(OutboxEvent.routing_key).where(OutboxEvent.routing_key.like("alert.%")).order_by(OutboxEvent.id)
            )
        )


@pytest.fixture
def hook() -> Iterator[HttpReceiver]:
    with http_receiver() as receiver:
        yield receiver


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with smtp_sink() as smtp:
        yield smtp


@pytest.fixture
def mail_ctx(resources: Resources, sink: SmtpSink, job_ctx: Callable[..., JobContext]) -> Callable[[], JobContext]:
    res = dataclasses.replace(
        resources, settings=dataclasses.replace(resources.settings, smtp_host="127.0.0.1", smtp_port=sink.port)
    )
    return lambda: job_ctx("check_and_create_alerts", res=res)


async def test_alert_opens_once_updates_then_resolves(
    db: sessionmaker[Session], tenant_id: int, hook: HttpReceiver, sink: SmtpSink, mail_ctx: Callable[[], JobContext]
) -> None:
    _rule(
        db,
        tenant_id,
        condition="failed_messages",
        threshold=3,
        window_minutes=15,
        channels=[{"type": "webhook", "url": hook.url + "/alerts"}, {"type": "email", "to": ["ops@example.com"]}],
    )
    add_logs(
        db,
        tenant_id,
        [
            {"status": "FAILED"},
            {"status": "ESCALATED"},
            {"status": "COMPLETED"},
            {"status": "FAILED", "log_end": utcnow() - timedelta(hours=1)},
        ],
    )
    quiet = await check_and_create_alerts(mail_ctx())
    assert quiet["opened"] == 0
    assert _alerts(db) == []

    guids = add_logs(db, tenant_id, [{"status": "FAILED"}, {"status": "FAILED"}])
    opened = await check_and_create_alerts(mail_ctx())
    assert (opened["opened"], opened["notified"], opened["details_enqueued"]) == (1, 2, 1)
    (alert,) = _alerts(db)
    assert (alert.status, alert.current_count, alert.scope_key) == ("open", 4, f"tenant:{tenant_id}")
    assert set(guids) <= set(alert.sample_guids)
    assert hook.requests[0][1]["event"] == "alert.opened"
    assert hook.requests[0][1]["count"] == 4
    assert "Subject: [IntegraMon] alert opened: failures" in sink.messages[0]["data"]
    with db() as s:
        details = s.scalar(select(WorkerJobRun).where(WorkerJobRun.function == "get_message_details_alert"))
    assert details is not None
    assert details.queue == "messagelog_get_details_alert"
    assert set(guids) <= set(details.args_redacted["message_guids"])

    same = await check_and_create_alerts(mail_ctx())  # nothing changed: no event, no notification
    assert (same["opened"], same["updated"], same["notified"]) == (0, 0, 0)
    add_logs(db, tenant_id, [{"status": "FAILED"}])
    grown = await check_and_create_alerts(mail_ctx())
    assert (grown["updated"], grown["notified"]) == (1, 0)  # counts updated, no flood
    assert _alerts(db)[0].current_count == 5
    assert _alerts(db)[0].evaluations == 3

    with db.begin() as s:  # the failures age out of the window
        s.execute(update(MessageLog).values(log_end=utcnow() - timedelta(hours=2)))
    cleared = await check_and_create_alerts(mail_ctx())
    assert (cleared["resolved"], cleared["notified"]) == (1, 2)
    assert _alerts(db)[0].status == "resolved"
    assert _alerts(db)[0].peak_count == 5
    assert _events(db) == ["alert.opened", "alert.updated", "alert.resolved"]
    assert [r[1]["event"] for r in hook.requests] == ["alert.opened", "alert.resolved"]
    assert len(sink.messages) == 2

    add_logs(db, tenant_id, [{"status": "FAILED"} for _ in range(3)])
    reopened = await check_and_create_alerts(mail_ctx())
    assert reopened["opened"] == 1
    assert [a.status for a in _alerts(db)] == ["resolved", "open"]


async def test_iflow_scope_and_package_filter(
    db: sessionmaker[Session], tenant_id: int, job_ctx: Callable[..., JobContext]
) -> None:
    _rule(db, tenant_id, scope="iflow", condition="failed_messages", threshold=2, package_id="PkgA")
    add_logs(
        db,
        tenant_id,
        [
            {"status": "FAILED", "iflow_id": "A1"},
            {"status": "FAILED", "iflow_id": "A1"},
            {"status": "FAILED", "iflow_id": "A2"},
            {"status": "FAILED", "iflow_id": "A2"},
            {"status": "FAILED", "iflow_id": "A3"},
            {"status": "FAILED", "iflow_id": "B1", "package_id": "PkgB"},
            {"status": "FAILED", "iflow_id": "B1", "package_id": "PkgB"},
        ],
    )
    bad = _rule(db, tenant_id, condition="moon_phase")
    result = await check_and_create_alerts(job_ctx("check_and_create_alerts"))
    assert result["opened"] == 2
    assert result["skipped_rules"] == [bad]
    assert sorted(a.scope_key for a in _alerts(db)) == [f"iflow:{tenant_id}:A1", f"iflow:{tenant_id}:A2"]
    assert {a.package_id for a in _alerts(db)} == {"PkgA"}


async def test_no_messages_condition(
    db: sessionmaker[Session], tenant_id: int, job_ctx: Callable[..., JobContext]
) -> None:
    _rule(db, tenant_id, name="silence", scope="iflow", condition="no_messages", window_minutes=10)
    now = utcnow()
    add_logs(
        db,
        tenant_id,
        [
            {"iflow_id": "Quiet", "log_end": now - timedelta(minutes=30)},
            {"iflow_id": "Busy", "log_end": now - timedelta(minutes=1)},
        ],
    )
    result = await check_and_create_alerts(job_ctx("check_and_create_alerts"))
    assert result["opened"] == 1
    (alert,) = _alerts(db)
    assert alert.iflow_id == "Quiet"
    assert alert.current_count >= 30
    assert "no messages" in alert.summary
    add_logs(db, tenant_id, [{"iflow_id": "Quiet"}])
    assert (await check_and_create_alerts(job_ctx("check_and_create_alerts")))["resolved"] == 1


async def test_failed_notification_retried_by_next_run(
    db: sessionmaker[Session], tenant_id: int, job_ctx: Callable[..., JobContext]
) -> None:
    with http_receiver(fail_first=3) as flaky:
        _rule(db, tenant_id, condition="failed_messages", channels=[{"type": "webhook", "url": flaky.url}])
        add_logs(db, tenant_id, [{"status": "FAILED"}])
        first = await check_and_create_alerts(job_ctx("check_and_create_alerts"))
        assert (first["notified"], first["notify_failed"]) == (0, 1)
        second = await check_and_create_alerts(job_ctx("check_and_create_alerts"))
        assert (second["notified"], second["notify_failed"]) == (1, 0)
        assert len(flaky.requests) == 4
    with db() as s:
        note = s.scalar(select(AlertNotification))
    assert note is not None
    assert (note.status, note.attempts, note.last_error) == ("sent", 2, None)


async def test_deployed_artifact_in_error_from_simulator(
    db: sessionmaker[Session], resources: Resources, job_ctx: Callable[..., JobContext]
) -> None:
    with SimulatorServer(SimulatorConfig(tenants=1, seed=11, history_days=0, rate=0)) as sim:
        endpoint = sim.tenant("tenant1")
        with db.begin() as s:
            tenant = Tenant(
                name="sim",
                api_url=endpoint.api_url,
                token_url=endpoint.token_url,
                client_id=endpoint.client_id,
                client_secret_encrypted=SecretBox(resources.settings).encrypt(endpoint.client_secret),
            )
            s.add(tenant)
            s.flush()
            tid = tenant.id
        _rule(db, tid, name="deploy", scope="iflow", condition="artifact_error")
        result = await check_and_create_alerts(job_ctx("check_and_create_alerts"))
        assert result["opened"] == 1
        assert result["skipped_rules"] == []
        (alert,) = _alerts(db)
        assert alert.iflow_id
        assert alert.iflow_id in alert.summary
        assert "ERROR" in alert.summary

    # the tenant is unreachable now: its artifact alerts are kept, not resolved
    down = await check_and_create_alerts(job_ctx("check_and_create_alerts"))
    assert down["skipped_rules"]
    assert down["resolved"] == 0
    assert _alerts(db)[0].status == "open"
    with db() as s:
        assert s.scalar(select(func.count()).select_from(OutboxEvent)) == 1


async def test_per_tenant_jobs_side_by_side_notify_each_alert_once(
    db: sessionmaker[Session], tenant_id: int, hook: HttpReceiver, job_ctx: Callable[..., JobContext]
) -> None:
    """The default alerts schedule runs one job per tenant at once: each sends only its tenant's notifications."""
    from tests.integration.families.conftest import add_tenant

    other = add_tenant(db, name="other")
    for tid in (tenant_id, other):
        _rule(db, tid, condition="failed_messages", channels=[{"type": "webhook", "url": hook.url + f"/t{tid}"}])
        add_logs(db, tid, [{"status": "FAILED"}])

    results = await asyncio.gather(check_and_create_alerts(job_ctx("check_and_create_alerts"), tenant_id=tenant_id),
                                   check_and_create_alerts(job_ctx("check_and_create_alerts"), tenant_id=other))

    assert [r["opened"] for r in results] == [1, 1]
    assert [r["notified"] for r in results] == [1, 1]
    assert sorted(path for path, _, _ in hook.requests) == sorted([f"/t{tenant_id}", f"/t{other}"])
