"""The tuning advisor: what a concurrency change adds, set against the headroom measured now.

Raising a group's slots multiplies its load on everything it calls. Before an operator applies a change,
each changed group gets an estimate of the extra database connections (one per added slot, the worst
case: every slot in a transaction), extra CPI requests per second (the CPI rate one busy CPI-group slot
causes now, times the added slots) and extra Redis operations per second (likewise, per busy slot), and
warnings where that crosses what is left: the database's ``max_connections``, SAP's per-tenant limit of
a tenant already near it or throttling, or Redis's one core. Estimates from the last few minutes'
averages: rough, but on the right side of "will this help".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.cpi.ratelimit import EndpointFamily, effective_limits
from core.pressure.report import BottleneckReport
from core.pressure.verdict import CPI_GROUPS, DB_CONNECTION_USE, REDIS_CPU_PERCENT

__all__ = ["Advice", "GroupEstimate", "advise"]

CPI_LIMIT_USE = 0.8  # a tenant using this share of its limit has no room for more requests


@dataclass(frozen=True, slots=True)
class GroupEstimate:
    group: str
    added_slots: int  # over the group's live workers (at least one worker assumed)
    extra_db_connections: int
    extra_cpi_requests_per_s: float
    extra_redis_ops_per_s: float


@dataclass(frozen=True, slots=True)
class Advice:
    estimates: list[GroupEstimate]
    warnings: list[str] = field(default_factory=list)


def _busy_slots(report: BottleneckReport, groups: frozenset[str] | None = None) -> int:
    return sum(g.facts.running for g in report.groups if groups is None or g.facts.group in groups)


def advise(report: BottleneckReport, before: dict[str, int], after: dict[str, int],
           tenant_caps: dict[int, float | None]) -> Advice:
    """Estimates for every group whose concurrency rises, and the warnings they trigger."""
    workers = {g.facts.group: max(1, g.facts.workers) for g in report.groups}
    cpi_rate = sum(p.requests_per_s for p in report.cpi)
    cpi_per_slot = cpi_rate / max(1, _busy_slots(report, CPI_GROUPS))
    redis = report.stores.redis
    redis_per_slot = (redis.ops_per_s if redis else 0) / max(1, _busy_slots(report))
    estimates = []
    for group, new in sorted(after.items()):
        added = (new - before.get(group, new)) * workers.get(group, 1)
        if added <= 0:
            continue
        estimates.append(GroupEstimate(group, added, added, cpi_per_slot * added if group in CPI_GROUPS else 0.0,
                                       redis_per_slot * added))
    return Advice(estimates, _warnings(report, estimates, tenant_caps))


def _warnings(report: BottleneckReport, estimates: list[GroupEstimate], caps: dict[int, float | None]) -> list[str]:
    if not estimates:
        return []
    out: list[str] = []
    db = report.stores.database
    extra_conn = sum(e.extra_db_connections for e in estimates)
    if db is not None and db.max_connections and db.active_connections is not None:
        room = int(db.max_connections * DB_CONNECTION_USE) - db.active_connections
        if extra_conn > room:
            out.append(f"database: up to {extra_conn} more connections, but only {max(0, room)} remain below "
                       f"{DB_CONNECTION_USE:.0%} of max_connections ({db.max_connections})")
    cpi_groups = [e.group for e in estimates if e.extra_cpi_requests_per_s > 0 or e.group in CPI_GROUPS]
    if cpi_groups:
        out.extend(_cpi_warnings(report, cpi_groups, sum(e.extra_cpi_requests_per_s for e in estimates), caps))
    redis = report.stores.redis
    extra_ops = sum(e.extra_redis_ops_per_s for e in estimates)
    if redis is not None and redis.cpu_percent is not None and redis.ops_per_s:
        projected = redis.cpu_percent * (1 + extra_ops / redis.ops_per_s)
        if projected >= REDIS_CPU_PERCENT:
            out.append(f"Redis: about {extra_ops:.0f} more ops/s would take its core from "
                       f"{redis.cpu_percent:.0f}% to about {projected:.0f}%")
    return out


def _cpi_warnings(report: BottleneckReport, groups: list[str], extra_rate: float,
                  caps: dict[int, float | None]) -> list[str]:
    names = ", ".join(groups)
    out = []
    for p in report.cpi:
        tenant = report.tenant_names.get(p.tenant_id, str(p.tenant_id))
        if p.throttled:
            out.append(f"CPI is throttling tenant {tenant} ({p.throttle_ratio:.0%} of requests answered 429): "
                       f"raising {names} adds requests it will refuse")
            continue
        family = EndpointFamily(p.family) if p.family in EndpointFamily.__members__.values() else None
        if family is None:
            continue
        limit = effective_limits(caps.get(p.tenant_id))[family]
        if p.requests_per_s + extra_rate > CPI_LIMIT_USE * limit:
            out.append(f"CPI tenant {tenant}: {p.requests_per_s:.1f} req/s now plus about {extra_rate:.1f} would "
                       f"pass {CPI_LIMIT_USE:.0%} of its {p.family} limit ({limit:g}/s)")
    return out
