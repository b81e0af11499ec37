"""Assembling the bottleneck view from the report the controller's facts give (``core.pressure``)."""

from __future__ import annotations

from redis.asyncio import Redis
from sqlalchemy.orm import Session

from admin_api.bottlenecks.schemas import BottlenecksOut, CpiTenantOut, GroupOut
from core.pressure.redis_info import RedisDurability, redis_durability
from core.pressure.report import CPI_WINDOW, BottleneckReport, bottleneck_report
from core.settings import Settings

__all__ = ["bottlenecks", "durability", "report"]


def report(session: Session, settings: Settings) -> BottleneckReport:
    return bottleneck_report(session, backlog_per_slot=settings.scaling_backlog_per_slot)


async def durability(redis: Redis) -> RedisDurability:
    return await redis_durability(redis)


def bottlenecks(rep: BottleneckReport, durable: RedisDurability) -> BottlenecksOut:
    groups = [GroupOut(group=g.facts.group, ready=g.facts.ready, oldest_ready_age_s=g.facts.oldest_ready_age_s,
                       running=g.facts.running, slots=g.facts.slots, workers=g.facts.workers,
                       slot_use=g.facts.running / g.facts.slots if g.facts.slots else None,
                       verdict=g.verdict.code.value, verdict_text=g.verdict.text, desired_workers=g.desired_workers)
              for g in rep.groups]
    cpi = [CpiTenantOut(tenant_id=p.tenant_id, tenant=rep.tenant_names.get(p.tenant_id, str(p.tenant_id)),
                        family=p.family, requests=p.requests, requests_per_s=p.requests_per_s, throttled=p.throttled,
                        throttle_ratio=p.throttle_ratio, server_errors=p.server_errors, timeouts=p.timeouts,
                        retries=p.retries, retry_wait_ms=p.retry_wait_ms, latency_p50_ms=p.latency_p50_ms,
                        latency_p95_ms=p.latency_p95_ms, latency_p99_ms=p.latency_p99_ms) for p in rep.cpi]
    return BottlenecksOut(at=rep.at, cpi_window_s=CPI_WINDOW.total_seconds(), groups=groups, cpi=cpi,
                          database=rep.stores.database, redis=rep.stores.redis, redis_durability=durable)
