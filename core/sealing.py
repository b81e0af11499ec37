"""Values kept in two columns: a redacted copy anyone may read, and the real value sealed.

Some stored configuration carries credentials (schedule arguments, alert channel webhook URLs) and
the database is read by more people and tools than the key is (backups, SQL consoles, support
dumps). Every such value is stored the same way:

* the *shown* column holds the redacted copy, by the ledger's rule (``core.ledger.redaction``:
  secret-named keys become ``***``, URLs keep only scheme and host), so every store agrees on what
  counts as a secret and a plain SQL reader sees the shape, not the secrets;
* the *sealed* column holds the whole value, Fernet-encrypted with ``INTEGRAMON_SECRET_KEY`` (the
  ledger's JSON seal format), but only when redaction changed something. The whole value is sealed,
  not the secret pieces one by one, so it comes back exactly, and values with nothing secret stay
  plain and need no key to be read (nor to be migrated on a fresh install).

A NULL sealed column means the shown column *is* the real value. The accessors built on this module
(``core.schedules.arguments``, ``core.alerting.channels``) are the only readers and writers of their
columns.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.errors import ConfigError
from core.ledger.redaction import redact
from core.queues.serialization import PayloadError, seal_arguments, unseal_arguments
from core.secrets import SecretBox

__all__ = ["UnreadableSeal", "needs_seal", "open_sealed", "split_sealed"]


class UnreadableSeal(ConfigError):
    """A sealed value cannot be opened (the secret key changed, or the seal is damaged)."""


def needs_seal(value: Mapping[str, Any]) -> bool:
    """Whether the redaction rule hides anything in ``value`` (only then is a key needed to store it)."""
    real = dict(value)
    return bool(redact(real) != real)


def split_sealed(value: Mapping[str, Any], box: SecretBox) -> tuple[dict[str, Any], str | None]:
    """(shown copy, seal or None) to store for ``value``."""
    real = dict(value)
    if not needs_seal(real):
        return real, None
    return redact(real), box.encrypt_bytes(seal_arguments(real))


def open_sealed(shown: Mapping[str, Any] | None, sealed: str | None, box: SecretBox, what: str,
                error: type[UnreadableSeal] = UnreadableSeal) -> dict[str, Any]:
    """The real value stored as (``shown``, ``sealed``); ``error`` naming ``what`` and
    INTEGRAMON_SECRET_KEY when the seal cannot be opened (callers must never fall back to the redacted
    copy for use: a job or a webhook would get ``***``)."""
    if sealed is None:
        return dict(shown or {})
    try:
        return unseal_arguments(box.decrypt_bytes(sealed))
    except (ConfigError, PayloadError) as exc:
        raise error(f"{what} cannot be decrypted with the configured INTEGRAMON_SECRET_KEY; "
                             "save them again") from exc
