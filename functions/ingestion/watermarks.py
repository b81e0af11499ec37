"""Per-tenant ingestion watermarks (``ingest_watermark``), always written inside the transaction that
stored the rows they cover, so a crash can never leave a watermark ahead of the data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db.models.base import utcnow
from core.db.models.messages import IngestWatermark

__all__ = ["Watermark", "read_watermark", "write_watermark"]


@dataclass(frozen=True, slots=True)
class Watermark:
    kind: str
    position: datetime | None
    cursor: dict[str, Any]


def read_watermark(session: Session, tenant_id: int, kind: str, *, lock: bool = False) -> Watermark:
    """The stored watermark (position None when this kind never ran). ``lock`` takes a row lock on
    PostgreSQL, so two writers of the same watermark serialise instead of overwriting each other."""
    query = select(IngestWatermark).where(IngestWatermark.tenant_id == tenant_id, IngestWatermark.kind == kind)
    if lock:
        query = query.with_for_update()
    row = session.scalars(query).first()
    if row is None:
        return Watermark(kind, None, {})
    return Watermark(kind, row.position, dict(row.cursor or {}))


def write_watermark(session: Session, tenant_id: int, kind: str, position: datetime | None,
                    cursor: dict[str, Any] | None = None, *, monotonic: bool = False) -> Watermark:
    """Set the watermark in the caller's transaction. With ``monotonic`` it never moves backwards
    (the hot path: two overlapping runs must not rewind each other)."""
    query = select(IngestWatermark).where(IngestWatermark.tenant_id == tenant_id, IngestWatermark.kind == kind)
    row = session.scalars(query.with_for_update()).first()
    if row is None:
        row = IngestWatermark(tenant_id=tenant_id, kind=kind, position=position, cursor=cursor or {})
        session.add(row)
        session.flush()
    else:
        if not (monotonic and row.position is not None and position is not None and position <= row.position):
            row.position = position
        if cursor is not None:
            row.cursor = cursor
        row.updated_at = utcnow()
    return Watermark(kind, row.position, dict(row.cursor or {}))
