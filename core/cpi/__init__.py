"""Client for SAP Cloud Integration's OData v1 API: typed entities, errors, rate limits, token cache.

Public API: :class:`CpiClient` (``core.cpi.client``), the entity dataclasses of ``core.cpi.models``,
the error tree of ``core.cpi.errors``, the date helpers of ``core.cpi.dates``, and the rate limits:
``TenantRateLimits`` (in-process) or ``SharedRateLimits`` (one budget per tenant across processes, in Redis).
"""

from __future__ import annotations

from core.cpi.auth import TokenCache
from core.cpi.client import MAX_PAGE_SIZE, CpiClient, message_log_filter
from core.cpi.errors import (
    CpiAuthError,
    CpiBadRequest,
    CpiError,
    CpiMalformedResponse,
    CpiNotFound,
    CpiRateLimited,
    CpiServerError,
    CpiTimeout,
)
from core.cpi.models import (
    AdapterAttribute,
    CustomHeaderProperty,
    DesigntimeArtifact,
    IntegrationPackage,
    MessageLog,
    MessageLogPage,
    MessageStoreEntry,
    MplAttachment,
    RuntimeArtifact,
)
from core.cpi.ratelimit import EndpointFamily, RateLimits, TenantRateLimits
from core.cpi.shared_limits import SharedRateLimits
from core.cpi.transport import RetryPolicy

__all__ = [
    "MAX_PAGE_SIZE",
    "AdapterAttribute",
    "CpiAuthError",
    "CpiBadRequest",
    "CpiClient",
    "CpiError",
    "CpiMalformedResponse",
    "CpiNotFound",
    "CpiRateLimited",
    "CpiServerError",
    "CpiTimeout",
    "CustomHeaderProperty",
    "DesigntimeArtifact",
    "EndpointFamily",
    "IntegrationPackage",
    "MessageLog",
    "MessageLogPage",
    "MessageStoreEntry",
    "MplAttachment",
    "RateLimits",
    "RetryPolicy",
    "RuntimeArtifact",
    "SharedRateLimits",
    "TenantRateLimits",
    "TokenCache",
    "message_log_filter",
]
