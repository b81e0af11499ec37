"""Redis side of the worker: claim due jobs from several queues in one atomic call, and finish them.

Jobs stay in arq's layout (``arq:queue:<name>`` sorted set, ``arq:job:<id>``, ``arq:in-progress:<id>``,
``arq:retry:<id>``, ``arq:result:<id>``), so arq's ``Job`` API and tools keep working. What we change is
how a worker takes work: one Lua call claims up to N jobs round-robin across the group's queues (fair:
a backlog on one queue cannot starve another), sets each in-progress lease, bumps the try counter and
returns the job payloads, instead of arq's several round trips per job.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from core.queues.keys import (
    ARQ_ABORT_SET,
    ARQ_IN_PROGRESS_PREFIX,
    ARQ_JOB_PREFIX,
    ARQ_RESULT_PREFIX,
    ARQ_RETRY_PREFIX,
)

__all__ = ["ClaimedJob", "JobClaimer", "RedisFinish"]

_CLAIM_LUA = """
local now = tonumber(ARGV[1])
local lease = tonumber(ARGV[2])
local wid = ARGV[3]
local want = tonumber(ARGV[4])
local scan = tonumber(ARGV[5])
local nq = tonumber(ARGV[6])
local cands, pos = {}, {}
for q = 1, nq do
  cands[q] = redis.call('ZRANGEBYSCORE', ARGV[6 + q], '-inf', now, 'WITHSCORES', 'LIMIT', 0, scan)
  pos[q] = 1
end
local out = {}
local taken, progress = 0, true
while taken < want and progress do
  progress = false
  for q = 1, nq do
    if taken >= want then break end
    local list = cands[q]
    while pos[q] <= #list do
      local id, score = list[pos[q]], list[pos[q] + 1]
      pos[q] = pos[q] + 2
      local ipk = 'arq:in-progress:' .. id
      if redis.call('EXISTS', ipk) == 0 then
        local data = redis.call('GET', 'arq:job:' .. id) or ''
        local aborted = redis.call('ZREM', 'arq:abort', id)
        redis.call('PSETEX', ipk, lease, wid)
        local try = redis.call('INCR', 'arq:retry:' .. id)
        redis.call('EXPIRE', 'arq:retry:' .. id, 88400)
        out[#out + 1] = q
        out[#out + 1] = id
        out[#out + 1] = score
        out[#out + 1] = data
        out[#out + 1] = try
        out[#out + 1] = aborted
        taken = taken + 1
        progress = true
        break
      end
    end
  end
end
local nxt = -1
for q = 1, nq do
  local first = redis.call('ZRANGEBYSCORE', ARGV[6 + q], '(' .. now, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
  if #first == 2 then
    local s = tonumber(first[2])
    if nxt < 0 or s < nxt then nxt = s end
  end
end
table.insert(out, 1, nxt)
return out
"""


@dataclass(slots=True)
class ClaimedJob:
    """A job this worker now holds the in-progress lease of."""

    queue: str
    job_id: str
    score: int
    payload: bytes
    attempt: int
    aborted: bool


@dataclass(slots=True)
class RedisFinish:
    """What to do in Redis when a job attempt ends."""

    queue_key: str
    job_id: str
    terminal: bool
    result: bytes | None = None
    keep_result_ms: int = 0
    retry_at_ms: int | None = None  # re-score for a later retry; None keeps the score (requeue now)


class JobClaimer:
    """Claims and finishes jobs for a fixed list of queues."""

    def __init__(self, redis: Redis, queues: list[str], worker_id: str, lease_ms: int, scan_limit: int) -> None:
        self._redis = redis
        self._queues = queues
        self._queue_keys = [f"arq:queue:{q}" for q in queues]
        self._worker_id = worker_id
        self._lease_ms = lease_ms
        self._scan_limit = scan_limit
        self._script = redis.register_script(_CLAIM_LUA)
        self._rotation = 0

    async def claim(self, want: int) -> tuple[list[ClaimedJob], int | None]:
        """Up to ``want`` due jobs, and the score (ms) of the next deferred job if any."""
        n = len(self._queue_keys)
        start = self._rotation % n
        self._rotation += 1
        order = self._queue_keys[start:] + self._queue_keys[:start]
        names = self._queues[start:] + self._queues[:start]
        now_ms = int(time.time() * 1000)
        raw: list[Any] = await self._script(
            args=[now_ms, self._lease_ms, self._worker_id, want, max(self._scan_limit, want), n, *order])
        nxt = int(raw[0])
        jobs = [
            ClaimedJob(names[int(raw[i]) - 1], _text(raw[i + 1]), int(float(raw[i + 2])), raw[i + 3] or b"",
                       int(raw[i + 4]), bool(int(raw[i + 5])))
            for i in range(1, len(raw), 6)
        ]
        return jobs, (nxt if nxt >= 0 else None)

    async def finish(self, items: list[RedisFinish]) -> None:
        """Apply a batch of finishes in one pipeline."""
        if not items:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for item in items:
                jid = item.job_id
                if item.terminal:
                    if item.result is not None and item.keep_result_ms > 0:
                        pipe.set(ARQ_RESULT_PREFIX + jid, item.result, px=item.keep_result_ms)
                    pipe.delete(ARQ_IN_PROGRESS_PREFIX + jid, ARQ_RETRY_PREFIX + jid, ARQ_JOB_PREFIX + jid)
                    pipe.zrem(item.queue_key, jid)
                    pipe.zrem(ARQ_ABORT_SET, jid)
                else:
                    if item.retry_at_ms is not None:
                        pipe.zadd(item.queue_key, {jid: item.retry_at_ms})
                    pipe.delete(ARQ_IN_PROGRESS_PREFIX + jid)
            await pipe.execute()

    async def renew_leases(self, job_ids: list[str]) -> None:
        """Extend the in-progress lease of every running job (called by the heartbeat)."""
        if not job_ids:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for jid in job_ids:
                pipe.pexpire(ARQ_IN_PROGRESS_PREFIX + jid, self._lease_ms)
            await pipe.execute()

    async def abort_requests(self, running: list[str]) -> list[str]:
        """Running job ids somebody asked to cancel (arq's abort set); removes them from the set."""
        if not running:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for jid in running:
                pipe.zscore(ARQ_ABORT_SET, jid)
            scores = await pipe.execute()
        wanted = [jid for jid, score in zip(running, scores, strict=True) if score is not None]
        if wanted:
            await self._redis.zrem(ARQ_ABORT_SET, *wanted)
        return wanted


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
