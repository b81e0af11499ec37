"""DB-stored schedules (``job_config`` -> ``job_run``) and periodic/polling configuration (``config_ext``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db.models.base import Base, BigId, JsonType, UtcDateTime, utcnow

__all__ = ["ConfigExt", "JobConfig", "JobRun"]


class JobConfig(Base):
    """A scheduled job: a catalogued function with arguments, run by cron or every N seconds."""

    __tablename__ = "job_config"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    function: Mapped[str] = mapped_column(String(128))
    # the redacted copy; the real arguments, when they differ, Fernet-encrypted in ``args_sealed``.
    # Read and write both only through ``core.schedules.arguments``.
    args: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    args_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), nullable=True)
    cron: Mapped[str | None] = mapped_column(String(128), nullable=True)
    interval_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # One row, one job per active tenant per firing (``tenant_id`` passed to the function): a tenant added
    # later is covered from its first firing, with no per-tenant row to keep in sync.
    per_tenant: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    next_run_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_run_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (Index("ix_job_config_enabled_next_run_at", "enabled", "next_run_at"),)


class JobRun(Base):
    """One firing of a JobConfig, linked to the ledger row of the job it enqueued."""

    __tablename__ = "job_run"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    job_config_id: Mapped[int] = mapped_column(ForeignKey("job_config.id", ondelete="CASCADE"), index=True)
    worker_job_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("worker_job_run.id", ondelete="SET NULL"), nullable=True)
    scheduled_for: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    __table_args__ = (  # retention: find old rows directly; deleting a ledger run must not scan this table
        Index("ix_job_run_created_at", "created_at"),
        Index("ix_job_run_worker_job_run_id", "worker_job_run_id",
              postgresql_where=text("worker_job_run_id IS NOT NULL"),
              sqlite_where=text("worker_job_run_id IS NOT NULL")),
    )


class ConfigExt(Base):
    """Periodic and polling configuration, global (tenant_id NULL) or per tenant.

    Keys such as ``poll.hot.interval_s`` hold JSON values; readers fall back to documented defaults.
    """

    __tablename__ = "config_ext"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"), nullable=True)
    key: Mapped[str] = mapped_column(String(128))
    value: Mapped[Any] = mapped_column(JsonType)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (UniqueConstraint("tenant_id", "key"),)
