"""``python -m bench.traced_worker WORDS...``: ``integramon WORDS...`` with one probe for ``bench.pickup_trace``.

The moment each hand-off message is read (``JobClaimer.accept_handoff`` entered, in the
subscription's read callback that parsed it) is kept in memory per job and written to the Redis hash
``HANDED_AT`` (job id -> ``time.time()``) when the process exits, so the probe adds no Redis call to
the path it measures. Everything else is the real worker.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

import redis

from core.queues.claim import ClaimedJob, JobClaimer

__all__ = ["HANDED_AT", "main"]

HANDED_AT = "bench:pickup_trace:handed"


def main() -> int:
    read_at: dict[str, float] = {}
    accept = JobClaimer.accept_handoff

    def stamped(self: JobClaimer, message: Any) -> ClaimedJob | None:
        at = time.time()
        job = accept(self, message)
        if job is not None:
            read_at[job.job_id] = at
        return job

    JobClaimer.accept_handoff = stamped  # type: ignore[method-assign]
    from integramon.cli import main as cli

    try:
        return cli(sys.argv[1:])
    finally:
        if read_at:
            client = redis.Redis.from_url(os.environ["INTEGRAMON_REDIS_URL"])
            client.hset(HANDED_AT, mapping={job_id: repr(at) for job_id, at in read_at.items()})
            client.close()


if __name__ == "__main__":
    sys.exit(main())
