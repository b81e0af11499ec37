"""Recover a run's real arguments from its ledger row (for retry and dead-letter replay), so a
replay does not depend on Redis still holding the job or its result."""

from __future__ import annotations

from typing import Any

from core.db.models.ledger import WorkerJobRun
from core.errors import ConfigError
from core.queues.serialization import PayloadError, unseal_arguments
from core.secrets import SecretBox

__all__ = ["ledger_kwargs"]


def ledger_kwargs(run: WorkerJobRun, box: SecretBox) -> dict[str, Any] | None:
    """The kwargs the run was enqueued with, or None when the sealed copy cannot be opened any
    more (the secret key was changed since); callers may then try Redis."""
    if run.args_sealed is None:
        return dict(run.args_redacted or {})
    try:
        # JSON like the wire format: nothing read back is ever unpickled (an older, pickled seal
        # is treated as unreadable; callers then try Redis).
        return unseal_arguments(box.decrypt_bytes(run.args_sealed))
    except (ConfigError, PayloadError):
        return None

