"""Turn how an attempt ended into the ledger record and the Redis finish for it."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from arq.jobs import serialize_result

from core.clock import utcnow
from core.ledger.recorder import AttemptRecord
from core.ledger.redaction import redact
from core.ledger.states import RunStatus
from core.queues.catalog import FunctionSpec, queue
from core.queues.serialization import encode_result
from functions.runner.claim import ClaimedJob, RedisFinish

__all__ = ["Ending", "apply_ending"]

_MAX_ERROR = 2000


@dataclass(slots=True)
class Ending:
    """How an attempt ended: exactly one of result / error / cancelled / interrupted applies."""

    function: str
    kwargs: dict[str, Any]
    enqueue_ms: int
    start_ms: int
    result: Any = None
    error: BaseException | None = None
    cancelled: bool = False
    interrupted: bool = False


def _summary(result: Any) -> dict[str, Any] | None:
    if result is None:
        return None
    value = redact(result)
    return value if isinstance(value, dict) else {"value": value}


def apply_ending(record: AttemptRecord, job: ClaimedJob, spec: FunctionSpec | None, end: Ending,
                 keep_result_s: int) -> None:
    """Fill ``record`` (status, timings, error, event) and attach the RedisFinish as ``record.after``."""
    now = utcnow()
    finished_ms = int(time.time() * 1000)
    record.finished_at = now
    record.duration_ms = max(0, finished_ms - end.start_ms)
    queue_key = queue(job.queue).redis_key
    keep_ms = int((spec.keep_result_s if spec and spec.keep_result_s is not None else keep_result_s) * 1000)
    success = end.error is None and not end.cancelled and not end.interrupted
    if end.error is not None:
        record.error_type = type(end.error).__name__
        record.error_message = (str(end.error) or repr(end.error))[:_MAX_ERROR]
    if end.interrupted:
        record.run_status = RunStatus.RETRYING
        record.error_type, record.error_message = "WorkerShutdown", "worker stopped; job re-queued"
        record.next_attempt_at = now
        record.after = RedisFinish(queue_key, job.job_id, terminal=False)
        return
    if end.cancelled:
        record.run_status = RunStatus.CANCELLED
        record.error_type, record.error_message = "Cancelled", "cancelled on request"
        record.event = ("run.cancelled", {"job_id": job.job_id, "function": end.function})
    elif success:
        record.run_status = RunStatus.SUCCEEDED
        record.result_summary = _summary(end.result)
    elif spec is None or spec.retry.is_permanent(end.error):  # type: ignore[arg-type]
        record.run_status = RunStatus.FAILED
        record.event = ("run.failed", _event(job, end, record))
    elif job.attempt < spec.retry.max_attempts:
        delay = spec.retry.delay_s(job.attempt)
        record.run_status = RunStatus.RETRYING
        record.next_attempt_at = now + timedelta(seconds=delay)
        record.after = RedisFinish(queue_key, job.job_id, terminal=False, retry_at_ms=finished_ms + int(delay * 1000))
        return
    else:
        record.run_status = RunStatus.DEAD
        record.event = ("run.dead", _event(job, end, record))
    result_bytes = serialize_result(
        end.function, (), end.kwargs, job.attempt, end.enqueue_ms, success,
        end.result if success else (end.error or RuntimeError(record.error_message)),
        end.start_ms, finished_ms, f"{job.job_id}:{end.function}", job.queue, job_id=job.job_id,
        serializer=encode_result)
    record.after = RedisFinish(queue_key, job.job_id, terminal=True, result=result_bytes, keep_result_ms=keep_ms)


def _event(job: ClaimedJob, end: Ending, record: AttemptRecord) -> dict[str, Any]:
    return {"job_id": job.job_id, "function": end.function, "queue": job.queue, "attempt": job.attempt,
            "error_type": record.error_type, "error_message": record.error_message}
