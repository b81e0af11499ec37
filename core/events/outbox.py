"""Record events in the outbox inside the caller's transaction (never publish directly)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert
from sqlalchemy.orm import Session

from core.db.models.base import utcnow
from core.db.models.outbox import OutboxEvent
from core.events.topics import EVENT_TOPICS

__all__ = ["EVENT_TOPICS", "record_event", "record_events"]



def record_event(session: Session, routing_key: str, payload: dict[str, Any]) -> None:
    """Add one event to the outbox; it is committed (or rolled back) with the caller's change."""
    record_events(session, [(routing_key, payload)])


def record_events(session: Session | Connection, events: list[tuple[str, dict[str, Any]]]) -> None:
    """Add several events in one statement (the worker's ledger flush uses this)."""
    if not events:
        return
    for key, _ in events:
        if key not in EVENT_TOPICS:
            raise ValueError(f"unknown event topic {key!r}")
    now = utcnow()
    session.execute(
        insert(OutboxEvent),
        [{"routing_key": key, "payload": payload, "created_at": now, "attempts": 0} for key, payload in events],
    )
