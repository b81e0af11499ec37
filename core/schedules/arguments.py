"""The one way to store and read a schedule's arguments (``job_config.args`` / ``args_sealed``).

Schedule arguments can carry credentials (an API token, a webhook URL whose path is the secret), and
the database is read by more people and tools than the key is (backups, SQL consoles, support
dumps). So, as the ledger does for job arguments:

* ``args`` holds the *redacted* copy, by the same rule as the ledger (``core.ledger.redaction``:
  secret-named keys become ``***``, URLs keep only scheme and host). The two stores can then never
  disagree about what counts as a secret, and a plain SQL reader sees the shape, not the secrets.
* ``args_sealed`` holds the *whole* argument dict, Fernet-encrypted with ``INTEGRAMON_SECRET_KEY``
  (the ledger's JSON seal format), but only when redaction changed something. We seal the whole
  dict rather than the secret values one by one, so the real arguments come back exactly (no
  merging of a masked copy with sealed pieces, no guessing which nested value was replaced), and
  rows with nothing secret (every default schedule) stay plain: they need no key to be read,
  and migrating a fresh install needs none either.

``args_sealed`` NULL means ``args`` *is* the real argument dict. Every reader goes through
:func:`schedule_arguments` (controller firings, run-now, agent reports, the API's views) and every
writer through :func:`store_arguments` / :func:`stored_columns`; nothing else reads ``args``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from core.db.models.scheduling import JobConfig
from core.errors import ConfigError
from core.ledger.redaction import redact
from core.queues.serialization import PayloadError, seal_arguments, unseal_arguments
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


class UnreadableArguments(ConfigError):
    """The sealed arguments cannot be opened (the secret key changed, or the seal is damaged)."""


def needs_seal(args: Mapping[str, Any]) -> bool:
    """Whether the redaction rule hides anything in ``args`` (only then is a key needed to store them)."""
    real = dict(args)
    return bool(redact(real) != real)


def stored_columns(args: Mapping[str, Any], box: SecretBox) -> dict[str, Any]:
    """``{"args": …, "args_sealed": …}`` to write for ``args`` (for inserts and migrations)."""
    real = dict(args)
    if not needs_seal(real):
        return {"args": real, "args_sealed": None}
    return {"args": redact(real), "args_sealed": box.encrypt_bytes(seal_arguments(real))}


def store_arguments(config: JobConfig, args: Mapping[str, Any], box: SecretBox) -> None:
    """Set both argument columns of ``config`` (a new or loaded ORM row)."""
    columns = stored_columns(args, box)
    config.args, config.args_sealed = columns["args"], columns["args_sealed"]


def schedule_arguments(row: StoredArguments, box: SecretBox) -> dict[str, Any]:
    """The real arguments of a schedule; :class:`UnreadableArguments` when the seal cannot be opened
    (callers must not fall back to the redacted copy: a job would run with ``***`` as its token)."""
    if row.args_sealed is None:
        return dict(row.args or {})
    try:
        return unseal_arguments(box.decrypt_bytes(row.args_sealed))
    except (ConfigError, PayloadError) as exc:
        raise UnreadableArguments("the schedule's arguments cannot be decrypted with the configured "
                                  "INTEGRAMON_SECRET_KEY; save them again") from exc


def readable_arguments(row: StoredArguments, box: SecretBox) -> tuple[dict[str, Any], bool]:
    """For views: the real arguments and True; or, when the seal cannot be opened, the stored
    redacted copy and False (a listing shows what it can rather than failing as a whole)."""
    try:
        return schedule_arguments(row, box), True
    except UnreadableArguments:
        return dict(row.args or {}), False
