"""Exception tree of IntegraMon Runtime.

IntegraMonError
 ├── ConfigError            a setting is missing or malformed (one line, names the variable)
 ├── CatalogError           a queue, group or function is not in the catalog, or the catalog is inconsistent
 ├── ServiceUnavailable     Redis, the database or RabbitMQ cannot be reached
 ├── LedgerError            a ledger write failed
 └── JobError               raised by job functions
      ├── PermanentJobError  never retried (bad input, missing tenant, ...)
      └── RetryableJobError  retried with backoff even if the policy lists no error types

Driver errors are wrapped in these types with ``raise X from exc`` so callers can report one
clear line instead of a driver traceback.
"""

from __future__ import annotations

__all__ = [
    "CatalogError",
    "ConfigError",
    "IntegraMonError",
    "JobError",
    "LedgerError",
    "PermanentJobError",
    "RetryableJobError",
    "ServiceUnavailable",
]


class IntegraMonError(Exception):
    """Base of every error raised on purpose by IntegraMon code."""


class ConfigError(IntegraMonError):
    """A setting is missing or has a value that cannot be used."""


class CatalogError(IntegraMonError):
    """The queue catalog does not know a name, or catalog and code disagree."""


class ServiceUnavailable(IntegraMonError):
    """A backing service (Redis, database, RabbitMQ, S3) does not answer.

    ``dependency`` names it ("Redis", "PostgreSQL", "RabbitMQ"...) for outage logs and 503 bodies.
    """

    def __init__(self, message: str, *, dependency: str = "") -> None:
        super().__init__(message)
        self.dependency = dependency


class LedgerError(IntegraMonError):
    """The run ledger could not be written."""


class JobError(IntegraMonError):
    """Base for errors raised by job functions."""


class PermanentJobError(JobError):
    """The job cannot succeed by retrying: it fails at once and is not retried."""


class RetryableJobError(JobError):
    """A transient failure: always retried while attempts remain."""
