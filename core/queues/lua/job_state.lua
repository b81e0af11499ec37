-- Where each job stands in Redis (read by reconciliation).
--
-- KEYS: per job: arq:in-progress:<id>, arq:job:<id>, its queue's sorted set.
-- ARGV: the job ids in KEYS order.
-- Returns per job 2 = in progress (a lease exists), 1 = runnable (job data and queue entry), 0 = gone.
local out = {}
for j = 0, #KEYS / 3 - 1 do
  local k = 1 + j * 3
  local code = 0
  if redis.call('EXISTS', KEYS[k]) == 1 then
    code = 2
  elseif redis.call('EXISTS', KEYS[k + 1]) == 1 and redis.call('ZSCORE', KEYS[k + 2], ARGV[1 + j]) then
    code = 1
  end
  out[#out + 1] = code
end
return out
