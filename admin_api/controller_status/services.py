"""Read the controller's leader lease and loop records from Redis.

The records are written by the controller's supervisor (one JSON value per loop in
``CONTROLLER_LOOPS``). The admin API may not import the controller, so the record is decoded here
with the same rule as ``--status``: a loop with no successful run for ``STALL_INTERVALS`` intervals
is unhealthy, whatever it last wrote, because a dead controller cannot mark its own loops unhealthy.
A record that cannot be decoded is reported as an unhealthy loop rather than hidden.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import msgspec
from redis.asyncio import Redis

from admin_api.controller_status.schemas import ControllerStatus, LoopStatus
from core.queues.keys import CONTROLLER_LEADER, CONTROLLER_LOOPS

__all__ = ["STALL_INTERVALS", "controller_status"]

STALL_INTERVALS = 3  # the controller's own rule (controller/loop_state.py)


class _LoopRecord(msgspec.Struct):
    """The stored record (times in Unix seconds); unknown fields are ignored, missing ones defaulted."""

    name: str
    interval_s: float
    controller_id: str = ""
    started_at: float | None = None
    last_run_at: float | None = None
    last_ok_at: float | None = None
    last_error: str | None = None
    last_error_at: float | None = None
    restarts: int = 0
    healthy: bool = True


_decoder = msgspec.json.Decoder(_LoopRecord)


def _moment(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _is_stalled(record: _LoopRecord, now: float) -> bool:
    reference = record.last_ok_at if record.last_ok_at is not None else record.started_at
    if reference is None:
        reference = record.last_run_at or 0.0
    return now - reference > STALL_INTERVALS * record.interval_s


def _loop(field: str, raw: Any, leader: str | None, now: float) -> LoopStatus:
    try:
        record = _decoder.decode(raw)
    except msgspec.DecodeError as exc:
        record = _LoopRecord(name=field, interval_s=0.0, healthy=False, last_error=f"unreadable record: {exc}")
    stalled = _is_stalled(record, now)
    return LoopStatus(
        name=record.name, healthy=record.healthy and not stalled, stalled=stalled, interval_s=record.interval_s,
        controller_id=record.controller_id, from_leader=leader is not None and record.controller_id == leader,
        started_at=_moment(record.started_at), last_run_at=_moment(record.last_run_at),
        last_ok_at=_moment(record.last_ok_at), last_error=record.last_error,
        last_error_at=_moment(record.last_error_at), restarts=record.restarts)


async def controller_status(redis: Redis) -> ControllerStatus:
    """The leader, its lease's remaining time and every loop, sorted by name."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.get(CONTROLLER_LEADER)
        pipe.pttl(CONTROLLER_LEADER)
        pipe.hgetall(CONTROLLER_LOOPS)
        leader_raw, ttl_ms, records = await pipe.execute()
    leader = _text(leader_raw) if leader_raw is not None else None
    now = time.time()
    loops = sorted((_loop(_text(k), v, leader, now) for k, v in records.items()), key=lambda loop: loop.name)
    return ControllerStatus(
        leader=leader, lease_ttl_s=ttl_ms / 1000 if leader is not None and ttl_ms and ttl_ms > 0 else None,
        healthy=leader is not None and bool(loops) and all(loop.healthy for loop in loops),
        checked_at=datetime.fromtimestamp(now, UTC), loops=loops)
