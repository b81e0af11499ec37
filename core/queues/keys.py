"""Every Redis key and channel IntegraMon uses, arq's own layout included.

One module names them all so the worker, controller and admin API can never drift apart, and so the
kernel's Lua scripts never build a key name themselves: each script receives every key it touches
through ``KEYS[]`` (what Redis Cluster slot checks and ACL key patterns rely on).
"""

from __future__ import annotations

__all__ = [
    "API_STATS",
    "ARQ_ABORT_SET",
    "ARQ_IN_PROGRESS_PREFIX",
    "ARQ_JOB_PREFIX",
    "ARQ_QUEUE_PREFIX",
    "ARQ_RESULT_PREFIX",
    "ARQ_RETRY_PREFIX",
    "CONTROLLER_LEADER",
    "CONTROLLER_LOOPS",
    "CONTROLLER_POLL_STATE",
    "HANDED_OFFERS",
    "OFFERS",
    "RUNNING_PREFIX",
    "TUNING_CHANNEL",
    "WORKERS_INDEX",
    "abort_key",
    "cpi_pause_key",
    "cpi_rate_window_key",
    "handoff_channel",
    "in_progress_key",
    "job_key",
    "offering_key",
    "progress_key",
    "queue_key",
    "queue_name_of",
    "result_key",
    "retry_key",
    "running_key",
    "wake_channel",
    "worker_key",
]

ARQ_JOB_PREFIX = "arq:job:"
ARQ_IN_PROGRESS_PREFIX = "arq:in-progress:"
ARQ_RESULT_PREFIX = "arq:result:"
ARQ_RETRY_PREFIX = "arq:retry:"
ARQ_QUEUE_PREFIX = "arq:queue:"
ARQ_ABORT_SET = "arq:abort"  # arq's own abort sorted set: job id -> request time (ms)
RUNNING_PREFIX = "integramon:running:"

WORKERS_INDEX = "integramon:workers"
# Hand-off (lua/enqueue.lua gives a new job straight to an idle worker, see core.queues.handoff):
# hash worker id -> its open offer of one slot: "<generation>:<lease ms>:<its hand-off channel>"
OFFERS = "integramon:offers"
# hash worker id -> the hand-off message of its last offer taken, until the worker's next full claim
HANDED_OFFERS = "integramon:offers:handed"
TUNING_CHANNEL = "integramon:tuning"
CONTROLLER_LEADER = "integramon:controller:leader"
CONTROLLER_LOOPS = "integramon:controller:loops"
# Hash "<tenant_id>" -> JSON {kind: Unix time the controller last enqueued that polling job}.
CONTROLLER_POLL_STATE = "integramon:controller:poll"


def queue_key(queue_name: str) -> str:
    """arq's sorted set of a queue: job id -> score (ms when due; a running job's lease deadline)."""
    return ARQ_QUEUE_PREFIX + queue_name


def queue_name_of(key: str) -> str:
    """The queue name inside a :func:`queue_key`."""
    return key.removeprefix(ARQ_QUEUE_PREFIX)


def running_key(queue_name: str) -> str:
    """Sorted set of the queue's jobs claimed through the kernel: job id -> lease deadline (ms).

    Lets the depth sample count running jobs in O(log n) without looking at any job's lease key.
    """
    return RUNNING_PREFIX + queue_name


def job_key(job_id: str) -> str:
    """arq's job (function, kwargs, enqueue time) in our JSON wire format (core.queues.serialization)."""
    return ARQ_JOB_PREFIX + job_id


def in_progress_key(job_id: str) -> str:
    """arq's in-progress lease of a job; its value is the id of the worker holding it."""
    return ARQ_IN_PROGRESS_PREFIX + job_id


def retry_key(job_id: str) -> str:
    """arq's try counter of a job."""
    return ARQ_RETRY_PREFIX + job_id


def result_key(job_id: str) -> str:
    """arq's result of a finished job, in our JSON wire format."""
    return ARQ_RESULT_PREFIX + job_id


def abort_key() -> str:
    """arq's abort sorted set (one key for every queue)."""
    return ARQ_ABORT_SET


def progress_key(job_id: str) -> str:
    """Latest progress report ``{done, total, message, at}`` of a running job (``ctx.progress``)."""
    return f"integramon:progress:{job_id}"


def worker_key(worker_id: str) -> str:
    """Heartbeat of one worker process (JSON, with a TTL)."""
    return f"integramon:worker:{worker_id}"


def offering_key(queue_name: str) -> str:
    """Sorted set of the workers with an open offer on a queue: worker id -> offer expiry (ms)."""
    return f"integramon:offering:{queue_name}"


def handoff_channel(worker_id: str) -> str:
    """Pub/sub channel on which one worker receives the jobs handed to it on enqueue."""
    return f"integramon:handoff:{worker_id}"


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
