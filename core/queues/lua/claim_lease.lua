-- Claim, step 2 of 2: take the in-progress lease of the jobs step 1 reserved.
--
-- KEYS: arq:abort, then per job: arq:in-progress:<id>, arq:job:<id>, arq:retry:<id>,
--       its queue's sorted set, its queue's running set.
-- ARGV: worker id, lease (ms), now (ms), try-counter TTL (s), then the job ids in KEYS order.
-- Returns per job {taken (0/1), payload, try, abort requested (0/1)}.
--
-- SET NX on the lease is the exactly-once guarantee. A job that is no longer in its queue was
-- cancelled between the two steps and is not taken. A job already leased by a process that does
-- not reserve (arq's own worker, an older release) is hidden until that lease can end.
local wid = ARGV[1]
local lease = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local retry_ttl = tonumber(ARGV[4])
local out = {}
for j = 0, (#KEYS - 1) / 5 - 1 do
  local k = 2 + j * 5
  local id = ARGV[5 + j]
  local lease_key, job_key, retry_key, queue_key, running_key = KEYS[k], KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 4]
  if not redis.call('ZSCORE', queue_key, id) then
    redis.call('ZREM', running_key, id)
    out[#out + 1] = 0; out[#out + 1] = ''; out[#out + 1] = 0; out[#out + 1] = 0
  elseif redis.call('SET', lease_key, wid, 'NX', 'PX', lease) then
    local payload = redis.call('GET', job_key) or ''
    local aborted = redis.call('ZREM', KEYS[1], id)
    local try = redis.call('INCR', retry_key)
    redis.call('EXPIRE', retry_key, retry_ttl)
    out[#out + 1] = 1; out[#out + 1] = payload; out[#out + 1] = try; out[#out + 1] = aborted
  else
    local ttl = redis.call('PTTL', lease_key)
    if ttl > 0 then
      redis.call('ZADD', queue_key, 'XX', now + ttl, id)
      redis.call('ZADD', running_key, now + ttl, id)
    end
    out[#out + 1] = 0; out[#out + 1] = ''; out[#out + 1] = 0; out[#out + 1] = 0
  end
end
return out
