-- Finish job attempts: a terminal end leaves a result and removes the job; a retry puts the job
-- back in its queue (due at its original score, or at the retry time) and drops the lease.
--
-- KEYS: arq:abort, then per job: its queue's sorted set, its queue's running set,
--       arq:in-progress:<id>, arq:retry:<id>, arq:job:<id>, arq:result:<id>.
-- ARGV: worker id, then per job four values: id, mode ('t' terminal / 'r' retry),
--       score (retry: when the job is due again; terminal: result TTL in ms), result payload ('' = none).
-- A job whose lease another worker holds now (ours expired and it claimed the job again) belongs
-- to that worker: it is left alone. Returns how many jobs were finished.
local wid = ARGV[1]
local done = 0
for j = 0, (#KEYS - 1) / 6 - 1 do
  local k = 2 + j * 6
  local a = 2 + j * 4
  local id, mode, score, payload = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3]
  local queue_key, running_key, lease_key = KEYS[k], KEYS[k + 1], KEYS[k + 2]
  local holder = redis.call('GET', lease_key)
  if not holder or holder == wid then
    if mode == 't' then
      if #payload > 0 and tonumber(score) > 0 then
        redis.call('SET', KEYS[k + 5], payload, 'PX', score)
      end
      redis.call('DEL', lease_key, KEYS[k + 3], KEYS[k + 4])
      redis.call('ZREM', queue_key, id)
      redis.call('ZREM', KEYS[1], id)
    else
      if redis.call('EXISTS', KEYS[k + 4]) == 1 then  -- not when another worker finished it meanwhile
        redis.call('ZADD', queue_key, score, id)
      end
      redis.call('DEL', lease_key)
    end
    redis.call('ZREM', running_key, id)
    done = done + 1
  end
end
return done
