"""How an operator resolved a dead-lettered run (replayed or discarded).

The ledger row itself stays ``dead`` (terminal states never change); this side table records the
decision so the dead-letter list shows only what still needs attention.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db.models.base import Base, BigId, UtcDateTime, utcnow

__all__ = ["DeadLetterResolution"]


class DeadLetterResolution(Base):
    """One resolved dead letter; ``new_run_id`` is the replay's run when ``action`` is ``replayed``."""

    __tablename__ = "dead_letter_resolution"

    run_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("worker_job_run.id", ondelete="CASCADE"), primary_key=True)
    action: Mapped[str] = mapped_column(String(16))
    new_run_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("worker_job_run.id", ondelete="SET NULL"), nullable=True)
    resolved_by: Mapped[str] = mapped_column(String(128))
    resolved_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    # deleting an old ledger run (retention) must not scan this table for its SET NULL
    __table_args__ = (Index("ix_dead_letter_resolution_new_run_id", "new_run_id",
                            postgresql_where=text("new_run_id IS NOT NULL"),
                            sqlite_where=text("new_run_id IS NOT NULL")),)
