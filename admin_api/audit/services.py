"""Write and read audit entries. Every changing route calls :func:`audit` inside its transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from admin_api.audit.schemas import AuditEntry
from admin_api.context import Principal
from core.db.models.auth import AuditLog

__all__ = ["audit", "list_audit"]


def audit(session: Session, who: Principal, action: str, target: str | None, details: dict[str, Any]) -> None:
    """Record one change in the caller's transaction (so it is logged exactly when it happens)."""
    session.add(AuditLog(actor=who.name, action=action, target=target, details=details))


def list_audit(session: Session, limit: int, before_id: int | None) -> list[AuditEntry]:
    """Newest entries first; ``before_id`` pages further back."""
    stmt = select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)
    if before_id is not None:
        stmt = stmt.where(AuditLog.id < before_id)
    return [AuditEntry(id=r.id, at=r.at, actor=r.actor, action=r.action, target=r.target, details=r.details or {})
            for r in session.scalars(stmt)]
