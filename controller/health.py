"""Worker health watch: mirror the workers' Redis heartbeats into ``worker_process``.

Live heartbeats are upserted (with the job ids they are running, so the admin API can show slots
in use); a worker whose heartbeat key has expired is marked ``gone`` and dropped from the
``integramon:workers`` index. The last heartbeat seen stays in the table, which is what
reconciliation quotes once the Redis key is gone.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from redis.asyncio import Redis
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from controller.sql import upsert
from core.db.models.base import utcnow
from core.db.models.controller import WorkerProcess
from core.queues.keys import HANDED_OFFERS, OFFERS, WORKERS_INDEX, worker_key
from core.records.heartbeat import Heartbeat, WorkerStatus, decode_heartbeat

__all__ = ["GONE_RETENTION", "HealthResult", "WorkerHealthWatch", "heartbeat_row"]

log = logging.getLogger(__name__)
GONE_RETENTION = timedelta(days=7)  # gone workers stay visible this long, then their row is deleted
_UPDATED = ["group_name", "queues", "host", "pid", "concurrency", "running", "started_at", "last_seen", "status",
            "gone_at"]


@dataclass(frozen=True, slots=True)
class HealthResult:
    live: list[str]
    gone: list[str]


def _time(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


def heartbeat_row(record: Heartbeat | dict[str, Any]) -> dict[str, Any]:
    """A worker_process row from one heartbeat record."""
    beat = record if isinstance(record, Heartbeat) else msgspec.convert(record, Heartbeat)
    return {
        "worker_id": beat.worker_id,
        "group_name": beat.group,
        "queues": list(beat.queues),
        "host": beat.host,
        "pid": beat.pid,
        "concurrency": beat.concurrency,
        "running": list(beat.running),
        "started_at": _time(beat.started_at),
        "last_seen": _time(beat.last_seen) or utcnow(),
        "status": WorkerStatus.LIVE.value,
        "gone_at": None,
    }


class WorkerHealthWatch:
    """One ``tick`` = read every heartbeat, upsert the live, retire the gone."""

    def __init__(self, sessions: sessionmaker[Session], redis: Redis) -> None:
        self._sessions = sessions
        self._redis = redis

    async def tick(self) -> HealthResult:
        members = sorted(m.decode() if isinstance(m, bytes) else str(m)
                         for m in await self._redis.smembers(WORKERS_INDEX))
        records = await self._redis.mget([worker_key(m) for m in members]) if members else []
        live_rows: list[dict[str, Any]] = []
        stale: list[str] = []
        for member, raw in zip(members, records, strict=True):
            row = self._parse(member, raw)
            if row is None:
                stale.append(member)
            else:
                live_rows.append(row)
        gone = await asyncio.to_thread(self._store, live_rows)
        if stale:  # gone without a clean exit: its index entry and any hand-off offer it left open
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.srem(WORKERS_INDEX, *stale)
                pipe.hdel(OFFERS, *stale)
                pipe.hdel(HANDED_OFFERS, *stale)
                await pipe.execute()
        return HealthResult([r["worker_id"] for r in live_rows], gone)

    @staticmethod
    def _parse(member: str, raw: bytes | None) -> dict[str, Any] | None:
        if raw is None:
            return None
        beat = decode_heartbeat(raw, worker_id=member)
        if beat is None:
            log.warning("unreadable heartbeat of worker %s", member)
            return None
        return heartbeat_row(beat)

    def _store(self, live_rows: list[dict[str, Any]]) -> list[str]:
        """Upsert live workers, mark every other 'live' row gone; returns the ids newly marked gone."""
        now = utcnow()
        live_ids = {r["worker_id"] for r in live_rows}
        with self._sessions() as session, session.begin():
            upsert(session, WorkerProcess, live_rows, ["worker_id"], _UPDATED)
            was_live = set(session.execute(select(WorkerProcess.worker_id)
                                           .where(WorkerProcess.status == WorkerStatus.LIVE.value)).scalars())
            gone = sorted(was_live - live_ids)
            if gone:
                session.execute(update(WorkerProcess).where(WorkerProcess.worker_id.in_(gone))
                                .values(status=WorkerStatus.GONE.value, gone_at=now, running=[]))
            session.execute(delete(WorkerProcess).where(WorkerProcess.status == WorkerStatus.GONE.value,
                                                        WorkerProcess.gone_at < now - GONE_RETENTION))
        if gone:
            log.warning("workers gone (heartbeat expired): %s", ", ".join(gone))
        return gone
