"""Every Redis key and channel IntegraMon uses besides arq's own (``arq:job:``, ``arq:queue:`` ...).

One module names them all so the worker, controller and admin API can never drift apart.
"""

from __future__ import annotations

__all__ = [
    "API_STATS",
    "ARQ_ABORT_SET",
    "ARQ_IN_PROGRESS_PREFIX",
    "ARQ_JOB_PREFIX",
    "ARQ_RESULT_PREFIX",
    "ARQ_RETRY_PREFIX",
    "CONTROLLER_LEADER",
    "CONTROLLER_LOOPS",
    "CONTROLLER_POLL_STATE",
    "TUNING_CHANNEL",
    "WORKERS_INDEX",
    "cpi_pause_key",
    "cpi_rate_window_key",
    "wake_channel",
    "worker_key",
]

ARQ_JOB_PREFIX = "arq:job:"
ARQ_IN_PROGRESS_PREFIX = "arq:in-progress:"
ARQ_RESULT_PREFIX = "arq:result:"
ARQ_RETRY_PREFIX = "arq:retry:"
ARQ_ABORT_SET = "arq:abort"  # arq's own abort sorted set: job id -> request time (ms)

WORKERS_INDEX = "integramon:workers"
TUNING_CHANNEL = "integramon:tuning"
CONTROLLER_LEADER = "integramon:controller:leader"
CONTROLLER_LOOPS = "integramon:controller:loops"
# Hash "<tenant_id>" -> JSON {kind: Unix time the controller last enqueued that polling job}.
CONTROLLER_POLL_STATE = "integramon:controller:poll"


def worker_key(worker_id: str) -> str:
    """Heartbeat of one worker process (JSON, with a TTL)."""
    return f"integramon:worker:{worker_id}"


def wake_channel(queue_name: str) -> str:
    """Pub/sub channel published on enqueue so idle workers claim at once instead of polling."""
    return f"integramon:wake:{queue_name}"


def cpi_rate_window_key(tenant: str, family: str, window_s: int) -> str:
    """Requests sent to one CPI tenant's endpoint family in one whole second (INCR, short TTL)."""
    return f"integramon:cpi:rate:{tenant}:{family}:{window_s}"


def cpi_pause_key(tenant: str, family: str) -> str:
    """Set (with a PX TTL) when the tenant answered 429 with Retry-After: every process holds back."""
    return f"integramon:cpi:pause:{tenant}:{family}"


# Admin API request statistics (HINCRBY fields ``count:<route>``, ``errors:<route>``, ``ms:<route>``),
# read and turned into a time series by ``api_metrics_collect_task``.
API_STATS = "integramon:api:stats"
