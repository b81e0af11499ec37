-- Cancel one job atomically: a job holding a lease is running, so its worker is asked to abort
-- (arq's abort set); otherwise it leaves its queue so no worker can claim it.
--
-- KEYS: its queue's sorted set, arq:job:<id>, arq:in-progress:<id>, arq:abort, its queue's running set.
-- ARGV: job id, now (ms).
-- Returns 'abort', 'removed' or 'missing'.
if redis.call('EXISTS', KEYS[3]) == 1 then
  redis.call('ZADD', KEYS[4], ARGV[2], ARGV[1])
  return 'abort'
end
if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then
  redis.call('DEL', KEYS[2])
  redis.call('ZREM', KEYS[5], ARGV[1])
  return 'removed'
end
return 'missing'
