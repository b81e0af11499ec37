-- Extend the in-progress leases a worker holds, and the matching deadlines in its queues.
--
-- KEYS: per job: arq:in-progress:<id>, its queue's sorted set, its queue's running set.
-- ARGV: worker id, lease (ms), now (ms), then the job ids in KEYS order.
-- Returns the ids whose lease this worker no longer holds (expired, or taken by another worker).
local wid = ARGV[1]
local lease = tonumber(ARGV[2])
local deadline = tonumber(ARGV[3]) + lease
local lost = {}
for j = 0, #KEYS / 3 - 1 do
  local k = 1 + j * 3
  local id = ARGV[4 + j]
  if redis.call('GET', KEYS[k]) == wid then
    redis.call('PEXPIRE', KEYS[k], lease)
    redis.call('ZADD', KEYS[k + 1], 'XX', deadline, id)
    redis.call('ZADD', KEYS[k + 2], deadline, id)
  else
    lost[#lost + 1] = id
  end
end
return lost
