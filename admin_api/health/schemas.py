"""Health responses: liveness, and readiness with what each dependency said."""

from __future__ import annotations

from typing import Literal

import msgspec

__all__ = ["ControllerReadiness", "Liveness", "Readiness", "WorkersReadiness"]


class Liveness(msgspec.Struct):
    status: Literal["ok"]


class ControllerReadiness(msgspec.Struct):
    """A leader holds the lease and none of its loops stalled (``detail`` says what is wrong)."""

    ok: bool
    leader: str | None = None
    loops: int | None = None
    unhealthy_loops: list[str] = msgspec.field(default_factory=list)
    detail: str | None = None


class WorkersReadiness(msgspec.Struct):
    """At least one registered worker still has a heartbeat."""

    ok: bool
    live: int = 0
    detail: str | None = None


class Readiness(msgspec.Struct):
    status: Literal["ready", "not ready"]
    database: bool
    redis: bool
    controller: ControllerReadiness
    workers: WorkersReadiness
