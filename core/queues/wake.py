"""The wake-up message published on a queue's channel (:func:`core.queues.keys.wake_channel`).

Two forms, both written by the kernel's ``lua/enqueue.lua`` and read by the group worker:

* :data:`NAMING`, then one job id per line, names the jobs just added when they are few (at most
  :data:`NAMED_MAX`) and all due now. A worker whose last full claim left no due job behind takes exactly those with one
  script call (``lua/claim_named.lua``): enqueue -> job start costs one Redis round trip less.
* anything else (the number of jobs added, or ``1`` from a worker re-queueing a job) asks for a
  full claim (``lua/claim_reserve.lua`` + ``lua/claim_lease.lua``), which is also what a worker of an
  older release does with either form.
"""

from __future__ import annotations

__all__ = ["NAMED_MAX", "NAMING", "named_jobs"]

NAMED_MAX = 4  # jobs named in one wake-up; a bigger batch asks for a full claim
NAMING = "h:"  # first line of a wake-up that names its jobs (passed to the script: defined only here)
_PREFIX = NAMING.encode()


def named_jobs(message: bytes | str) -> list[str] | None:
    """The job ids a wake-up names, or None when it asks for a full claim."""
    data = message.encode() if isinstance(message, str) else message
    if not data.startswith(_PREFIX):
        return None
    return [part.decode() for part in data[len(_PREFIX):].split(b"\n") if part]
