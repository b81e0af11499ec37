"""Tenant polling and CPI ingestion: message logs (hot and cold), batch upserts, message details,
custom headers, correlations, payloads, packages and iflow zips.

Every job here is safe to re-run: rows are upserted on their natural keys, detail sets are replaced
as a whole, and watermarks move only in (or after) the transaction that stored what they cover.
"""

from __future__ import annotations

from functions.ingestion.batch import process_message_batch, process_message_batch_cold
from functions.ingestion.cold import read_message_logs_cold
from functions.ingestion.correlations import read_correlations
from functions.ingestion.details import get_message_details_alert, get_message_details_cold, get_message_details_hot
from functions.ingestion.headers import read_custom_headers
from functions.ingestion.hot import read_message_logs
from functions.ingestion.packages import deep_sync_iflow_artifacts, download_iflow, read_packages
from functions.ingestion.payloads import get_payload_details, read_payloads
from functions.ingestion.settle import settle_message_logs
from functions.registry import JobFunction

__all__ = ["JOBS"]

JOBS: dict[str, JobFunction] = {
    "read_message_logs": read_message_logs,
    "read_message_logs_cold": read_message_logs_cold,
    "settle_message_logs": settle_message_logs,
    "process_message_batch": process_message_batch,
    "process_message_batch_cold": process_message_batch_cold,
    "get_message_details_hot": get_message_details_hot,
    "get_message_details_cold": get_message_details_cold,
    "get_message_details_alert": get_message_details_alert,
    "read_custom_headers": read_custom_headers,
    "read_correlations": read_correlations,
    "read_payloads": read_payloads,
    "get_payload_details": get_payload_details,
    "read_packages": read_packages,
    "deep_sync_iflow_artifacts": deep_sync_iflow_artifacts,
    "download_iflow": download_iflow,
}
