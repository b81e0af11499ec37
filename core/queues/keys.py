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
    "TUNING_CHANNEL",
    "WORKERS_INDEX",
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


def worker_key(worker_id: str) -> str:
    """Heartbeat of one worker process (JSON, with a TTL)."""
    return f"integramon:worker:{worker_id}"


def wake_channel(queue_name: str) -> str:
    """Pub/sub channel published on enqueue so idle workers claim at once instead of polling."""
    return f"integramon:wake:{queue_name}"



# Admin API request statistics (HINCRBY fields ``count:<route>``, ``errors:<route>``, ``ms:<route>``),
# read and turned into a time series by ``api_metrics_collect_task``.
API_STATS = "integramon:api:stats"
