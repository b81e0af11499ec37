"""Hand-off: a job enqueued while a worker sits idle goes straight to that worker.

Without it, a job's path from the enqueue call to its start is: ledger commit, the enqueue script
(which publishes a wake-up), the worker's claim script, start. With it the claim is done by the
enqueue script itself, for a worker that said it is waiting, and the claimed job travels in a message
on that worker's own channel: one Redis round trip less on the pickup path.

The protocol, kept exact about slots and claims:

* A worker's full claim (``lua/claim_reserve.lua``) that leaves its queues drained opens an *offer*
  of one slot, atomically with the claim: ``OFFERS[worker] = generation`` plus the worker in each of
  its queues' offering sets (score: expiry). The worker holds that slot back from other claims while
  the offer is open.
* ``lua/enqueue.lua``, for a small batch of due jobs, takes an offering worker per job, closes its
  offer (one job per offer), claims the job for it exactly as ``claim_named.lua`` would, publishes the
  claim on :func:`core.queues.keys.handoff_channel` and keeps the message in ``HANDED_OFFERS``. A
  worker that does not listen any more (PUBLISH reached nobody) loses its offer and the next is tried.
* The worker starts a handed job from the message; its next full claim withdraws the offer and, if a
  job was handed that the worker has not seen yet (the message is still on its way, or was lost with
  a broken connection), returns that message too, so the job starts from the claim's reply instead.
  Generations make the two deliveries one: a job whose generation was already seen is not started
  again. A worker that stops withdraws its offer the same way.

The message: generation, queue, job id, score before the claim, try, abort requested (0/1), each on
its own line, then the payload (which may itself hold newlines: it is everything after the sixth).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["HandedJob", "parse_handoff"]


@dataclass(frozen=True, slots=True)
class HandedJob:
    """A job claimed for this worker by the enqueue script."""

    generation: int
    queue: str
    job_id: str
    score: int
    attempt: int
    aborted: bool
    payload: bytes


def parse_handoff(message: bytes | str) -> HandedJob:
    """The job in a hand-off message (raises ValueError when the message is not one)."""
    data = message.encode() if isinstance(message, str) else message
    parts = data.split(b"\n", 6)
    if len(parts) != 7:
        raise ValueError("not a hand-off message")
    gen, queue, job_id, score, attempt, aborted, payload = parts
    return HandedJob(int(gen), queue.decode(), job_id.decode(), int(float(score)), int(attempt),
                     aborted == b"1", payload)
