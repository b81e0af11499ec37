"""Config cleanup: drop pending configs that expired, and those never applied within their max age."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from core.config_keys import read_int
from core.db.models.base import utcnow
from core.db.models.platform import PendingConfig

__all__ = ["delete_expired_configs", "delete_stale_pending_configs"]


def delete_expired_configs(session: Session) -> int:
    """Pending configs whose ``expires_at`` has passed, applied or not: they can never apply again."""
    result = session.execute(delete(PendingConfig).where(
        PendingConfig.expires_at.is_not(None), PendingConfig.expires_at <= utcnow()))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def delete_stale_pending_configs(session: Session) -> int:
    """Never-applied pending configs older than ``cleanup.pending_config_max_age_hours``."""
    hours = read_int(session, "cleanup.pending_config_max_age_hours")
    cutoff = utcnow() - timedelta(hours=hours)
    result = session.execute(delete(PendingConfig).where(
        PendingConfig.applied_at.is_(None), PendingConfig.created_at < cutoff))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
