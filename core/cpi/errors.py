"""Typed errors of the CPI client.

CpiError (an IntegraMonError)
 ├── CpiAuthError            401/403, or the token endpoint refused the client credentials (permanent)
 ├── CpiNotFound             404: the message, attachment, package or artifact does not exist (permanent)
 ├── CpiBadRequest           other 4xx: our query is wrong (permanent)
 ├── CpiRateLimited          429 after all retries; ``retry_after_s`` carries the server's hint (transient)
 ├── CpiServerError          5xx after all retries (transient)
 ├── CpiTimeout              connect/read timeout or connection failure after all retries (transient)
 └── CpiMalformedResponse    a 2xx reply we cannot parse (bad JSON, missing ``d``) (transient)

``transient`` tells job code whether a later retry can help (ingestion jobs map transient errors to
retries and the rest to ``PermanentJobError``). Messages name the tenant URL, method and path,
never the client secret or a token.
"""

from __future__ import annotations

from core.errors import IntegraMonError

__all__ = [
    "CpiAuthError",
    "CpiBadRequest",
    "CpiError",
    "CpiMalformedResponse",
    "CpiNotFound",
    "CpiRateLimited",
    "CpiServerError",
    "CpiTimeout",
]


class CpiError(IntegraMonError):
    """Base of every error the CPI client raises; ``status`` is the HTTP status when there was one."""

    transient: bool = False

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class CpiAuthError(CpiError):
    """The tenant refused our credentials or token (wrong secret, missing role)."""


class CpiNotFound(CpiError):
    """The requested entity does not exist on the tenant."""


class CpiBadRequest(CpiError):
    """The tenant rejected the request itself (bad filter, unsupported format)."""


class CpiRateLimited(CpiError):
    """The tenant kept answering 429; ``retry_after_s`` is its last Retry-After hint, if any."""

    transient = True

    def __init__(self, message: str, *, status: int | None = 429, retry_after_s: float | None = None) -> None:
        super().__init__(message, status=status)
        self.retry_after_s = retry_after_s


class CpiServerError(CpiError):
    """The tenant kept answering 5xx (maintenance, overload)."""

    transient = True


class CpiTimeout(CpiError):
    """The tenant did not answer in time, or the connection failed."""

    transient = True


class CpiMalformedResponse(CpiError):
    """The tenant answered 2xx with a body we cannot parse."""

    transient = True
