"""The run ledger: one ``worker_job_run`` row per job from enqueue to its end, and one
``worker_job_attempt`` row per try, so the console can draw an attempt timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db.models.base import Base, BigId, JsonType, UtcDateTime, utcnow
from core.ledger.states import ACTIVE_DEDUP_SQL, ACTIVE_STATUSES_SQL

__all__ = ["ACTIVE_STATUSES_SQL", "WorkerJobAttempt", "WorkerJobRun"]


class WorkerJobRun(Base):
    """One job's life: queued -> running -> a terminal state (see core.ledger.states)."""

    __tablename__ = "worker_job_run"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    arq_job_id: Mapped[str] = mapped_column(String(128), unique=True)
    queue: Mapped[str] = mapped_column(String(64))
    function: Mapped[str] = mapped_column(String(128))
    tenant_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    args_redacted: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    # The real kwargs for replay, encrypted, when args_redacted is not an exact copy of them
    # (core.ledger.arguments); NULL means args_redacted is exact.
    args_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    dedup_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=1)
    enqueued_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    duration_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    worker_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    error_type: Mapped[str | None] = mapped_column(String(255), nullable=True)
    error_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    result_summary: Mapped[dict[str, Any] | None] = mapped_column(JsonType, nullable=True)
    reconcile_meta: Mapped[dict[str, Any] | None] = mapped_column(JsonType, nullable=True)
    replay_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("worker_job_run.id", ondelete="SET NULL"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        Index("ix_worker_job_run_status_enqueued_at", "status", "enqueued_at"),
        Index("ix_worker_job_run_queue_enqueued_at", "queue", "enqueued_at"),
        Index("ix_worker_job_run_function_enqueued_at", "function", "enqueued_at"),
        Index("ix_worker_job_run_tenant_id_enqueued_at", "tenant_id", "enqueued_at"),
        Index("ix_worker_job_run_enqueued_at_id", "enqueued_at", "id"),
        # retention deletes old runs; the self-reference's SET NULL must not scan the ledger per row
        Index("ix_worker_job_run_replay_of_id", "replay_of_id", postgresql_where=text("replay_of_id IS NOT NULL"),
              sqlite_where=text("replay_of_id IS NOT NULL")),
        # At most one unfinished run per dedup key: the controller's "never enqueue twice" rule. Runs
        # without a key are left out (NULLs never conflict): one index insertion less per enqueue.
        Index("uq_worker_job_run_active_dedup", "dedup_key", unique=True,
              postgresql_where=text(ACTIVE_DEDUP_SQL), sqlite_where=text(ACTIVE_DEDUP_SQL)),
    )


class WorkerJobAttempt(Base):
    """One try of a job on one worker."""

    __tablename__ = "worker_job_attempt"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    arq_job_id: Mapped[str] = mapped_column(
        ForeignKey("worker_job_run.arq_job_id", ondelete="CASCADE"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    worker_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    duration_ms: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error_type: Mapped[str | None] = mapped_column(String(255), nullable=True)
    error_message: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (Index("ix_worker_job_attempt_started_at", "started_at"),)  # retention by age
