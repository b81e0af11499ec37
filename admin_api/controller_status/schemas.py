"""Response of ``GET /api/v1/controller``: the same facts ``integramon controller --status`` prints."""

from __future__ import annotations

from datetime import datetime

import msgspec

__all__ = ["ControllerStatus", "LoopStatus"]


class LoopStatus(msgspec.Struct, kw_only=True):
    """One supervised loop as its controller last recorded it; ``healthy`` is re-judged against the clock."""

    name: str
    healthy: bool
    stalled: bool
    interval_s: float
    controller_id: str
    from_leader: bool
    started_at: datetime | None
    last_run_at: datetime | None
    last_ok_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    restarts: int


class ControllerStatus(msgspec.Struct, kw_only=True):
    """``healthy``: a leader holds the lease, loops have reported and every one of them is healthy."""

    leader: str | None
    lease_ttl_s: float | None
    healthy: bool
    checked_at: datetime
    loops: list[LoopStatus]
