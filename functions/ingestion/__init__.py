"""Tenant polling and CPI ingestion: message logs (hot and cold), batch upserts, message details,
custom headers, correlations, payloads, packages and iflow zips.

Every job here is safe to re-run: rows are upserted on their natural keys, detail sets are replaced
as a whole, and watermarks move only in (or after) the transaction that stored what they cover.
"""

from __future__ import annotations

from functions.ingestion import batch, cold, correlations, details, headers, hot, packages, payloads, settle
from functions.registry import JobFunction, implemented_in

__all__ = ["JOBS"]

_MODULES = (batch, cold, correlations, details, headers, hot, packages, payloads, settle)  # importing binds jobs
JOBS: dict[str, JobFunction] = implemented_in(__name__)
