"""Why a worker group's queue grows, in one line, and how many workers it should have.

Pure rules over observed facts (queue depth, slot use, CPI answers, database and Redis pressure), so
the API's Bottlenecks page, the controller's ``DesiredWorkers`` metric and the tuning advisor cannot
disagree. The order matters: a limit outside the workers (CPI throttling, a
write-bound database, a busy Redis) wins over "add workers", because more workers would only press
harder on that limit; only then do saturated slots ask for more workers. CPI throttling is said even
for a CPI group that is idle between polls: its next poll meets the same 429s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from core.pressure.database import DatabasePressure
from core.pressure.redis_info import RedisPressure

__all__ = [
    "CPI_GROUPS",
    "GroupFacts",
    "StoreFacts",
    "ThrottledTenant",
    "Verdict",
    "VerdictCode",
    "database_limit",
    "desired_workers",
    "judge",
    "redis_limit",
]

# Worker groups whose functions call CPI (the others only touch the database and object storage).
CPI_GROUPS = frozenset({"light", "light-cold", "api-details", "api-details-cold", "alert-details", "alerts",
                        "medium"})

THROTTLE_RATIO = 0.05  # share of a tenant's CPI requests answered 429 that marks it throttling
SATURATION = 0.9  # share of slots in use that counts as saturated
DB_LOCK_WAITS = 5
DB_CONNECTION_USE = 0.9
DB_SLOW_STATEMENTS = 3
SQLITE_LOCK_WAIT_MS = 200.0
REDIS_CPU_PERCENT = 80.0
REDIS_MEMORY_USE = 0.9


class VerdictCode(StrEnum):
    IDLE = "idle"
    KEEPING_UP = "keeping-up"
    ADD_WORKERS = "add-workers"
    CPI_THROTTLED = "cpi-throttled"
    DATABASE_BOUND = "database-bound"
    REDIS_BOUND = "redis-bound"

    @property
    def holds_workers(self) -> bool:
        """A limit outside the workers: adding workers would not help."""
        return self in (VerdictCode.CPI_THROTTLED, VerdictCode.DATABASE_BOUND, VerdictCode.REDIS_BOUND)


@dataclass(frozen=True, slots=True)
class GroupFacts:
    group: str
    ready: int
    oldest_ready_age_s: float | None
    running: int
    slots: int  # slots of the group's live workers
    workers: int  # live worker processes


@dataclass(frozen=True, slots=True)
class ThrottledTenant:
    tenant_id: int
    name: str
    throttle_ratio: float


@dataclass(frozen=True, slots=True)
class StoreFacts:
    database: DatabasePressure | None
    redis: RedisPressure | None
    throttled_tenants: tuple[ThrottledTenant, ...] = ()


@dataclass(frozen=True, slots=True)
class Verdict:
    code: VerdictCode
    text: str


def database_limit(db: DatabasePressure | None) -> str | None:
    """Why the database is the limit, or None."""
    if db is None:
        return None
    if db.lock_waits is not None and db.lock_waits >= DB_LOCK_WAITS:
        return f"{db.lock_waits} sessions wait on locks"
    use = db.connection_use
    if use is not None and use >= DB_CONNECTION_USE:
        return f"{db.active_connections} of {db.max_connections} connections in use"
    if db.slow_statements is not None and db.slow_statements >= DB_SLOW_STATEMENTS:
        return f"{db.slow_statements} statements running longer than a second"
    if db.write_lock_wait_ms is not None and db.write_lock_wait_ms >= SQLITE_LOCK_WAIT_MS:
        return f"writers wait {db.write_lock_wait_ms:.0f} ms for SQLite's write lock"
    return None


def redis_limit(redis: RedisPressure | None) -> str | None:
    """Why Redis is the limit, or None."""
    if redis is None:
        return None
    if redis.cpu_percent is not None and redis.cpu_percent >= REDIS_CPU_PERCENT:
        return f"Redis uses {redis.cpu_percent:.0f}% of its one core"
    use = redis.memory_use
    if use is not None and use >= REDIS_MEMORY_USE:
        return f"Redis memory at {use:.0%} of maxmemory"
    if redis.evictions_per_s:
        return "Redis is evicting keys"
    return None


def judge(facts: GroupFacts, stores: StoreFacts) -> Verdict:
    """The one-line verdict for a group (see the module docstring for the order of the rules)."""
    if facts.group in CPI_GROUPS and stores.throttled_tenants:
        worst = max(stores.throttled_tenants, key=lambda t: t.throttle_ratio)
        return Verdict(VerdictCode.CPI_THROTTLED, f"CPI throttling tenant {worst.name} ({worst.throttle_ratio:.0%} "
                                                  "of requests answered 429) → do not add workers")
    if facts.ready == 0 and facts.running == 0:
        return Verdict(VerdictCode.IDLE, "idle")
    db_reason = database_limit(stores.database)
    if db_reason is not None:
        return Verdict(VerdictCode.DATABASE_BOUND, f"database write-bound ({db_reason}) → do not add workers")
    redis_reason = redis_limit(stores.redis)
    if redis_reason is not None:
        return Verdict(VerdictCode.REDIS_BOUND, f"Redis-bound ({redis_reason}) → do not add workers")
    if facts.ready > 0 and (facts.slots == 0 or facts.running >= SATURATION * facts.slots):
        if facts.workers == 0:
            return Verdict(VerdictCode.ADD_WORKERS, "no live worker serves this group → start workers")
        return Verdict(VerdictCode.ADD_WORKERS, "workers saturated, headroom available → add workers")
    return Verdict(VerdictCode.KEEPING_UP, "workers have free slots; the backlog is draining")


def desired_workers(facts: GroupFacts, verdict: Verdict, *, ready_per_worker: float, minimum: int = 1,
                    maximum: int = 100) -> int:
    """Workers the group should run: its ready backlog over the per-worker target, within bounds,
    and never more than it has now while a limit outside the workers holds (the backpressure cap)."""
    wanted = math.ceil(facts.ready / ready_per_worker) if ready_per_worker > 0 else minimum
    wanted = max(minimum, min(maximum, wanted))
    if verdict.code.holds_workers:
        wanted = min(wanted, max(minimum, facts.workers))
    return wanted
