"""The one way to store and read a schedule's arguments (``job_config.args`` / ``args_sealed``).

Schedule arguments can carry credentials (an API token, a webhook URL whose path is the secret), so
they are kept as ``core.sealing`` keeps such values: ``args`` holds the redacted copy, ``args_sealed``
the whole argument dict encrypted with ``INTEGRAMON_SECRET_KEY`` when redaction changed something
(NULL: ``args`` *is* the real argument dict; every default schedule is such a row).

Every reader goes through :func:`schedule_arguments` (controller firings, run-now, agent reports, the
API's views) and every writer through :func:`store_arguments` / :func:`stored_columns`; nothing else
reads ``args``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from core.db.models.scheduling import JobConfig
from core.sealing import UnreadableSeal, needs_seal, open_sealed, split_sealed
from core.secrets import SecretBox

__all__ = [
    "StoredArguments",
    "UnreadableArguments",
    "needs_seal",
    "readable_arguments",
    "schedule_arguments",
    "store_arguments",
    "stored_columns",
]


class StoredArguments(Protocol):
    """A ``JobConfig`` or a selected row carrying both argument columns."""

    @property
    def args(self) -> Any: ...

    @property
    def args_sealed(self) -> str | None: ...


class UnreadableArguments(UnreadableSeal):
    """The sealed arguments cannot be opened (the secret key changed, or the seal is damaged)."""


def stored_columns(args: Mapping[str, Any], box: SecretBox) -> dict[str, Any]:
    """``{"args": …, "args_sealed": …}`` to write for ``args`` (for inserts and migrations)."""
    shown, sealed = split_sealed(args, box)
    return {"args": shown, "args_sealed": sealed}


def store_arguments(config: JobConfig, args: Mapping[str, Any], box: SecretBox) -> None:
    """Set both argument columns of ``config`` (a new or loaded ORM row)."""
    columns = stored_columns(args, box)
    config.args, config.args_sealed = columns["args"], columns["args_sealed"]


def schedule_arguments(row: StoredArguments, box: SecretBox) -> dict[str, Any]:
    """The real arguments of a schedule; :class:`UnreadableArguments` when the seal cannot be opened
    (callers must not fall back to the redacted copy: a job would run with ``***`` as its token)."""
    return open_sealed(row.args, row.args_sealed, box, "the schedule's arguments", UnreadableArguments)


def readable_arguments(row: StoredArguments, box: SecretBox) -> tuple[dict[str, Any], bool]:
    """For views: the real arguments and True; or, when the seal cannot be opened, the stored
    redacted copy and False (a listing shows what it can rather than failing as a whole)."""
    try:
        return schedule_arguments(row, box), True
    except UnreadableArguments:
        return dict(row.args or {}), False
