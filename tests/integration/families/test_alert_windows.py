"""Alert windows are ``now - W < LogEnd <= now`` at the job's own time: every edge, for every condition."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from core.db.models.alerting import AlertRule
from functions.alerting.conditions import failed_messages, group_artifacts, no_messages
from tests.integration.families.conftest import add_logs

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
MS = timedelta(milliseconds=1)
W = timedelta(minutes=15)


def _rule(db: sessionmaker[Session], tenant_id: int, **fields: Any) -> AlertRule:
    with db.begin() as session:
        rule = AlertRule(name="edge", tenant_id=tenant_id, **{"window_minutes": 15, "threshold": 1, **fields})
        session.add(rule)
    return rule


def _failed_count(db: sessionmaker[Session], rule: AlertRule) -> int:
    with db() as session:
        return sum(f.count for f in failed_messages(session, rule, NOW))


@pytest.mark.parametrize(("log_end", "counted"), [
    (NOW - W, False),  # the lower edge is open
    (NOW - W + MS, True),
    (NOW, True),  # the upper edge is closed
    (NOW + MS, False),  # a future LogEnd is not in this window
])
def test_failed_messages_edges(db: sessionmaker[Session], tenant_id: int, log_end: datetime, counted: bool) -> None:
    rule = _rule(db, tenant_id, condition="failed_messages")
    guids = add_logs(db, tenant_id, [{"log_end": log_end, "status": "FAILED"}])
    assert _failed_count(db, rule) == (1 if counted else 0)
    with db() as session:
        findings = failed_messages(session, rule, NOW)
    assert [g for f in findings for g in f.guids] == (guids if counted else [])


def test_failed_messages_threshold_edge(db: sessionmaker[Session], tenant_id: int) -> None:
    rule = _rule(db, tenant_id, condition="failed_messages", threshold=3)
    add_logs(db, tenant_id, [{"log_end": NOW - timedelta(minutes=m), "status": "FAILED"} for m in (1, 2)])
    add_logs(db, tenant_id, [{"log_end": NOW - W, "status": "FAILED"}])  # just outside: not the third
    assert _failed_count(db, rule) == 0
    add_logs(db, tenant_id, [{"log_end": NOW, "status": "ESCALATED"}])
    assert _failed_count(db, rule) == 3


def test_future_log_end_is_logged(db: sessionmaker[Session], tenant_id: int, caplog: pytest.LogCaptureFixture) -> None:
    rule = _rule(db, tenant_id, condition="failed_messages")
    add_logs(db, tenant_id, [{"log_end": NOW + timedelta(minutes=5), "status": "FAILED"}])
    with caplog.at_level(logging.WARNING, logger="functions.alerting.conditions"):
        assert _failed_count(db, rule) == 0
    assert "1 message(s) with LogEnd after 2026-11-20T12:00:00+00:00" in caplog.text


def _silent(db: sessionmaker[Session], rule: AlertRule) -> list[int]:
    with db() as session:
        return [f.count for f in no_messages(session, rule, NOW)]


@pytest.mark.parametrize(("last", "fires"), [
    (NOW - W, True),  # the last message sits on the open edge: nothing in (now - W, now]
    (NOW - W + MS, False),
    (NOW, False),
    (NOW + timedelta(minutes=5), False),  # clamped to now: the scope is not silent
    (NOW - timedelta(days=7), False),  # not known: the week's lower edge is open too
    (NOW - timedelta(days=7) + MS, True),
])
def test_no_messages_edges(db: sessionmaker[Session], tenant_id: int, last: datetime, fires: bool) -> None:
    rule = _rule(db, tenant_id, condition="no_messages")
    add_logs(db, tenant_id, [{"log_end": last}])
    silent = _silent(db, rule)
    assert len(silent) == (1 if fires else 0)
    if fires:
        assert silent == [int((NOW - last).total_seconds() // 60)]


def test_artifact_error_threshold_edge(db: sessionmaker[Session], tenant_id: int) -> None:
    rule = _rule(db, tenant_id, condition="artifact_error", threshold=2)
    packages = {"A": "P", "B": "P"}
    assert group_artifacts(rule, {"A": "boom"}, packages) == []
    [finding] = group_artifacts(rule, {"A": "boom", "B": "bang"}, packages)
    assert finding.count == 2
