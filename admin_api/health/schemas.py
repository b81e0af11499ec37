"""Health responses: liveness, and readiness with what each dependency said."""

from __future__ import annotations

from typing import Literal

import msgspec

from core.pressure.redis_info import RedisDurability

__all__ = ["ControllerReadiness", "Liveness", "Readiness", "WorkersReadiness"]


class Liveness(msgspec.Struct):
    status: Literal["ok"]


class ControllerReadiness(msgspec.Struct):
    """A leader holds the lease and none of its loops stalled (``detail`` says what is wrong).
    Fields that do not apply (e.g. loops while Redis is unreachable) are left out."""

    ok: bool
    leader: str | msgspec.UnsetType | None = msgspec.UNSET
    loops: int | msgspec.UnsetType = msgspec.UNSET
    unhealthy_loops: list[str] | msgspec.UnsetType = msgspec.UNSET
    detail: str | msgspec.UnsetType = msgspec.UNSET


class WorkersReadiness(msgspec.Struct):
    """At least one registered worker still has a heartbeat (``detail`` only when none has)."""

    ok: bool
    live: int | msgspec.UnsetType = msgspec.UNSET
    detail: str | msgspec.UnsetType = msgspec.UNSET


class Readiness(msgspec.Struct):
    status: Literal["ready", "not ready"]
    database: bool
    redis: bool
    controller: ControllerReadiness
    workers: WorkersReadiness
    # the seed's warnings about this Redis (no persistence, evicting policy); None while Redis is unreachable
    redis_durability: RedisDurability | None = None
