"""Recover a run's real arguments from its ledger row (for retry and dead-letter replay), so a
replay does not depend on Redis still holding the job or its result."""

from __future__ import annotations

from typing import Any

from core.db.models.ledger import WorkerJobRun
from core.errors import ConfigError
from core.ledger.redaction import redact
from core.queues.serialization import PayloadError, seal_arguments, unseal_arguments
from core.secrets import SecretBox

__all__ = ["ledger_kwargs", "open_kwargs", "seal_kwargs"]


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


def seal_kwargs(kwargs: dict[str, Any], box: SecretBox) -> tuple[Any, str | None]:
    """What a stored argument set keeps (schedules use it like the ledger): the redacted copy anyone
    may see, and the real arguments encrypted -- None when the redacted copy is already exact."""
    redacted = redact(kwargs)
    if redacted == kwargs:
        return redacted, None
    return redacted, box.encrypt_bytes(seal_arguments(kwargs))


def open_kwargs(redacted: Any, sealed: str | None, box: SecretBox) -> dict[str, Any] | None:
    """The real arguments of :func:`seal_kwargs`' output; None when the seal cannot be opened."""
    if sealed is None:
        return dict(redacted or {})
    try:
        return unseal_arguments(box.decrypt_bytes(sealed))
    except (ConfigError, PayloadError):
        return None
