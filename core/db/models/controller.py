"""Tables the controller maintains: queue depth samples and the worker registry.

The admin API reads both (queue charts, live workers); only the controller writes them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db.models.base import Base, BigId, JsonType, UtcDateTime, utcnow

__all__ = ["QueueSample", "WorkerProcess"]


class QueueSample(Base):
    """One queue's depth at one instant: a point of the queue depth / age time series."""

    __tablename__ = "queue_sample"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    sampled_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    queue: Mapped[str] = mapped_column(String(64))
    group_name: Mapped[str] = mapped_column(String(64))
    ready: Mapped[int] = mapped_column(Integer, default=0)
    deferred: Mapped[int] = mapped_column(Integer, default=0)
    running: Mapped[int] = mapped_column(Integer, default=0)
    oldest_ready_age_s: Mapped[float | None] = mapped_column(Float, nullable=True)

    __table_args__ = (
        Index("ix_queue_sample_queue_sampled_at", "queue", "sampled_at"),
        Index("ix_queue_sample_sampled_at", "sampled_at"),
    )


class WorkerProcess(Base):
    """A worker process seen through its heartbeat; kept after it is gone so the console can show it."""

    __tablename__ = "worker_process"

    worker_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    group_name: Mapped[str] = mapped_column(String(64))
    queues: Mapped[list[str]] = mapped_column(JsonType, default=list)
    host: Mapped[str | None] = mapped_column(String(255), nullable=True)
    pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    concurrency: Mapped[int] = mapped_column(Integer, default=1)
    running: Mapped[list[str]] = mapped_column(JsonType, default=list)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_seen: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(8), default="live")
    gone_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    __table_args__ = (Index("ix_worker_process_status_last_seen", "status", "last_seen"),)

