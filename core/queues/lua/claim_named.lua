-- Claim named jobs in one step: the fast path of an idle worker told which jobs were just enqueued.
--
-- KEYS: arq:abort, then per job: its queue's sorted set, its queue's running set,
--       arq:in-progress:<id>, arq:job:<id>, arq:retry:<id>.
-- ARGV: worker id, lease (ms), now (ms), try-counter TTL (s), then the job ids in KEYS order.
-- Returns per job {taken (0/1), payload, try, abort requested (0/1), score before the claim}.
--
-- The enqueue script names the jobs it added in its wake-up message; a worker whose last full
-- claim (claim_reserve.lua) found no more due jobs takes them here, with the reserve and the lease
-- of the two-step claim done together: one round trip instead of two, on the path from enqueue to
-- job start. The same rules hold: only a due job (score <= now) is taken, so a job another claimer
-- reserved (re-scored to its lease deadline) or a deferred one is left alone; SET NX on the lease is
-- still the exactly-once guarantee; the job is re-scored to the lease deadline in its queue and
-- running set exactly as a reservation would. A job that is gone, not due or leased is simply not
-- taken: the worker that has it, or a later full claim, runs it.
local wid = ARGV[1]
local lease = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local retry_ttl = tonumber(ARGV[4])
local deadline = now + lease
local out = {}
for j = 0, (#KEYS - 1) / 5 - 1 do
  local k = 2 + j * 5
  local id = ARGV[5 + j]
  local queue_key, running_key, lease_key, job_key, retry_key = KEYS[k], KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 4]
  local score = redis.call('ZSCORE', queue_key, id)
  if score and tonumber(score) <= now and redis.call('SET', lease_key, wid, 'NX', 'PX', lease) then
    redis.call('ZADD', queue_key, deadline, id)
    redis.call('ZADD', running_key, deadline, id)
    local payload = redis.call('GET', job_key) or ''
    local aborted = redis.call('ZREM', KEYS[1], id)
    local try = redis.call('INCR', retry_key)
    redis.call('EXPIRE', retry_key, retry_ttl)
    out[#out + 1] = 1; out[#out + 1] = payload; out[#out + 1] = try; out[#out + 1] = aborted
    out[#out + 1] = score
  else
    out[#out + 1] = 0; out[#out + 1] = ''; out[#out + 1] = 0; out[#out + 1] = 0; out[#out + 1] = 0
  end
end
return out
