"""The tuning advisor's estimates and warnings, on hand-made reports."""

from __future__ import annotations

from datetime import UTC, datetime

from core.cpi.metrics_store import CpiPressure
from core.pressure.advisor import advise
from core.pressure.database import DatabasePressure
from core.pressure.redis_info import RedisPressure
from core.pressure.report import BottleneckReport, GroupReport
from core.pressure.verdict import GroupFacts, StoreFacts, Verdict, VerdictCode

AT = datetime(2026, 12, 1, tzinfo=UTC)


def cpi(rate: float, throttled: int = 0, requests: int = 100) -> CpiPressure:
    return CpiPressure(tenant_id=1, family="monitoring", requests=requests, requests_per_s=rate, throttled=throttled,
                       server_errors=0, timeouts=0, retries=throttled, retry_wait_ms=0.0, latency_avg_ms=50.0,
                       latency_p50_ms=50.0, latency_p95_ms=100.0, latency_p99_ms=200.0)


def report(*, active: int = 10, max_conn: int = 100, cpi_rows: list[CpiPressure] | None = None,
           redis_cpu: float = 10.0) -> BottleneckReport:
    groups = [GroupReport(GroupFacts("light", 100, 5.0, 2, 2, 1), Verdict(VerdictCode.ADD_WORKERS, ""), 1),
              GroupReport(GroupFacts("periodic", 0, None, 0, 1, 1), Verdict(VerdictCode.IDLE, "idle"), 1)]
    stores = StoreFacts(DatabasePressure(dialect="postgresql", active_connections=active, max_connections=max_conn),
                        RedisPressure(ops_per_s=1000, used_memory=1, maxmemory=0, connected_clients=3,
                                      cpu_percent=redis_cpu))
    return BottleneckReport(AT, groups, stores, cpi_rows or [], {1: "acme"})


def test_raising_a_group_estimates_its_extra_load() -> None:
    advice = advise(report(cpi_rows=[cpi(4.0)]), {"light": 2, "periodic": 1}, {"light": 6, "periodic": 1}, {1: None})
    (estimate,) = advice.estimates
    assert estimate.group == "light"
    assert estimate.added_slots == 4
    assert estimate.extra_db_connections == 4
    assert estimate.extra_cpi_requests_per_s == 8.0  # 4 req/s over 2 busy CPI slots, times 4 more slots
    assert estimate.extra_redis_ops_per_s == 2000.0
    assert advice.warnings == []


def test_lowering_or_keeping_concurrency_needs_no_advice() -> None:
    advice = advise(report(active=99), {"light": 4}, {"light": 2}, {})
    assert advice.estimates == []
    assert advice.warnings == []


def test_warns_when_the_database_has_no_connections_left() -> None:
    advice = advise(report(active=88), {"light": 2}, {"light": 6}, {1: None})
    assert advice.warnings == ["database: up to 4 more connections, but only 2 remain below 90% of "
                               "max_connections (100)"]


def test_warns_against_raising_a_cpi_group_while_a_tenant_throttles() -> None:
    advice = advise(report(cpi_rows=[cpi(4.0, throttled=30)]), {"light": 2}, {"light": 3}, {1: None})
    assert advice.warnings == ["CPI is throttling tenant acme (30% of requests answered 429): raising light adds "
                               "requests it will refuse"]


def test_warns_near_the_tenants_own_cap() -> None:
    advice = advise(report(cpi_rows=[cpi(4.0)]), {"light": 2}, {"light": 4}, {1: 8.0})
    assert advice.warnings == ["CPI tenant acme: 4.0 req/s now plus about 4.0 would pass 80% of its monitoring "
                               "limit (8/s)"]


def test_warns_when_redis_would_run_out_of_core() -> None:
    advice = advise(report(redis_cpu=50.0), {"light": 2}, {"light": 4}, {})
    assert advice.warnings == ["Redis: about 1000 more ops/s would take its core from 50% to about 100%"]
