"""The worker heartbeat: JSON at ``integramon:worker:<id>`` (with a TTL), written by every worker
process, read by the controller's health watch, the admin API, the container health check and the
host-metrics dispatcher. One typed record, so writer and readers cannot drift apart."""

from __future__ import annotations

import time
from enum import StrEnum

import msgspec

__all__ = ["Heartbeat", "WorkerStatus", "decode_heartbeat", "encode_heartbeat"]


class WorkerStatus(StrEnum):
    """A worker_process row: its heartbeat is live, or expired (gone)."""

    LIVE = "live"
    GONE = "gone"


class Heartbeat(msgspec.Struct, kw_only=True):
    """One worker process's heartbeat; times are Unix seconds."""

    worker_id: str
    group: str = ""
    queues: list[str] = msgspec.field(default_factory=list)
    concurrency: int = 0
    running: list[str] = msgspec.field(default_factory=list)  # job ids holding a slot
    host: str | None = None
    pid: int | None = None
    version: str | None = None
    started_at: float | None = None
    last_seen: float | None = None
    # "ok", or "degraded: <dependency> unavailable" while the worker rides out an outage (jobs wait)
    state: str = "ok"

    @property
    def slots_used(self) -> int:
        return len(self.running)

    def age_s(self, now: float | None = None) -> float | None:
        """Seconds since this heartbeat was written (None when it carries no time)."""
        if self.last_seen is None:
            return None
        return (time.time() if now is None else now) - self.last_seen

    def is_fresh(self, ttl_s: float, now: float | None = None) -> bool:
        """Written less than ``ttl_s`` ago."""
        age = self.age_s(now)
        return age is not None and age < ttl_s


_ENCODER = msgspec.json.Encoder()


def encode_heartbeat(beat: Heartbeat) -> bytes:
    return _ENCODER.encode(beat)


def decode_heartbeat(raw: bytes | str | None, worker_id: str | None = None) -> Heartbeat | None:
    """The heartbeat in ``raw``, or None when it is missing or unreadable. ``worker_id`` (the index
    member the record was found under) fills a record that does not name its worker."""
    if not raw:
        return None
    try:
        data = msgspec.json.decode(raw)
        if not isinstance(data, dict):
            return None
        if worker_id is not None:
            data.setdefault("worker_id", worker_id)
        return msgspec.convert(data, Heartbeat)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
