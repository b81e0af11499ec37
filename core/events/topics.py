"""The outbox's routing keys, importable without SQLAlchemy (the worker's ledger flush checks them)."""

from __future__ import annotations

__all__ = ["EVENT_TOPICS"]

# Routing keys published on the topic exchange (settings.rabbitmq_exchange).
EVENT_TOPICS = frozenset({
    "run.failed", "run.dead", "run.reconciled", "run.cancelled", "run.replayed",
    "alert.opened", "alert.updated", "alert.resolved",
    "tuning.changed",
})
