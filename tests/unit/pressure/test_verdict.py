"""The bottleneck rules: each verdict, their order, and the backpressure cap on DesiredWorkers."""

from __future__ import annotations

import pytest

from core.pressure.database import DatabasePressure
from core.pressure.redis_info import RedisPressure
from core.pressure.verdict import (
    CPI_GROUPS,
    GroupFacts,
    StoreFacts,
    ThrottledTenant,
    VerdictCode,
    desired_workers,
    judge,
)
from core.queues.catalog import GROUPS

CALM = StoreFacts(DatabasePressure(dialect="postgresql", lock_waits=0, active_connections=10, max_connections=100,
                                   slow_statements=0),
                  RedisPressure(ops_per_s=100, used_memory=1, maxmemory=0, connected_clients=5, cpu_percent=10.0))
THROTTLED = StoreFacts(CALM.database, CALM.redis, (ThrottledTenant(1, "acme", 0.02), ThrottledTenant(2, "globex", 0.4)))


def facts(group: str = "light", ready: int = 500, running: int = 4, slots: int = 4, workers: int = 2) -> GroupFacts:
    return GroupFacts(group, ready, 12.0, running, slots, workers)


def test_cpi_groups_are_catalog_groups() -> None:
    assert set(CPI_GROUPS) <= set(GROUPS)


def test_idle_group() -> None:
    assert judge(facts(ready=0, running=0), CALM).code is VerdictCode.IDLE
    assert judge(facts(group="periodic", ready=0, running=0), THROTTLED).code is VerdictCode.IDLE


def test_a_cpi_group_idle_between_polls_still_says_cpi_throttles() -> None:
    assert judge(facts(ready=0, running=0), THROTTLED).code is VerdictCode.CPI_THROTTLED


def test_saturated_workers_with_headroom_add_workers() -> None:
    verdict = judge(facts(), CALM)
    assert verdict.code is VerdictCode.ADD_WORKERS
    assert verdict.text == "workers saturated, headroom available → add workers"


def test_free_slots_mean_the_backlog_is_draining() -> None:
    assert judge(facts(running=1, slots=4), CALM).code is VerdictCode.KEEPING_UP


def test_no_worker_at_all_asks_for_workers() -> None:
    verdict = judge(facts(running=0, slots=0, workers=0), CALM)
    assert verdict.code is VerdictCode.ADD_WORKERS
    assert "no live worker" in verdict.text


def test_cpi_throttling_names_the_worst_tenant_and_holds_workers() -> None:
    verdict = judge(facts(), THROTTLED)
    assert verdict.code is VerdictCode.CPI_THROTTLED
    assert verdict.text == "CPI throttling tenant globex (40% of requests answered 429) → do not add workers"


def test_cpi_throttling_does_not_concern_groups_that_never_call_cpi() -> None:
    assert judge(facts(group="messagelog-process-batch"), THROTTLED).code is VerdictCode.ADD_WORKERS


@pytest.mark.parametrize(("db", "reason"), [
    (DatabasePressure(dialect="postgresql", lock_waits=7), "7 sessions wait on locks"),
    (DatabasePressure(dialect="postgresql", active_connections=95, max_connections=100), "95 of 100 connections"),
    (DatabasePressure(dialect="postgresql", slow_statements=4), "4 statements running longer"),
    (DatabasePressure(dialect="sqlite", write_lock_wait_ms=450.0), "450 ms for SQLite's write lock"),
])
def test_database_write_bound(db: DatabasePressure, reason: str) -> None:
    verdict = judge(facts(group="periodic"), StoreFacts(db, CALM.redis))
    assert verdict.code is VerdictCode.DATABASE_BOUND
    assert reason in verdict.text
    assert verdict.text.endswith("→ do not add workers")


@pytest.mark.parametrize(("redis", "reason"), [
    (RedisPressure(ops_per_s=1, used_memory=1, maxmemory=0, connected_clients=1, cpu_percent=93.0), "93% of its"),
    (RedisPressure(ops_per_s=1, used_memory=95, maxmemory=100, connected_clients=1), "95% of maxmemory"),
    (RedisPressure(ops_per_s=1, used_memory=1, maxmemory=0, connected_clients=1, evictions_per_s=3.0), "evicting"),
])
def test_redis_bound(redis: RedisPressure, reason: str) -> None:
    verdict = judge(facts(), StoreFacts(CALM.database, redis))
    assert verdict.code is VerdictCode.REDIS_BOUND
    assert reason in verdict.text


def test_below_thresholds_nothing_is_a_limit() -> None:
    db = DatabasePressure(dialect="postgresql", lock_waits=4, active_connections=89, max_connections=100,
                          slow_statements=2)
    redis = RedisPressure(ops_per_s=1, used_memory=89, maxmemory=100, connected_clients=1, cpu_percent=79.0,
                          evictions_per_s=0.0)
    assert judge(facts(), StoreFacts(db, redis)).code is VerdictCode.ADD_WORKERS


def test_desired_workers_follow_the_backlog_within_bounds() -> None:
    calm = judge(facts(ready=950), CALM)
    assert desired_workers(facts(ready=950), calm, ready_per_worker=100) == 10
    assert desired_workers(facts(ready=950), calm, ready_per_worker=100, maximum=4) == 4
    assert desired_workers(facts(ready=0, running=0), judge(facts(ready=0, running=0), CALM),
                           ready_per_worker=100, minimum=1) == 1


def test_desired_workers_are_capped_while_a_limit_outside_the_workers_holds() -> None:
    throttled = judge(facts(ready=950, workers=2), THROTTLED)
    assert desired_workers(facts(ready=950, workers=2), throttled, ready_per_worker=100) == 2
    assert desired_workers(facts(ready=950, workers=0), throttled, ready_per_worker=100, minimum=1) == 1
