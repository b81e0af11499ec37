-- Claim, step 1 of 2: reserve up to `want` due jobs, round-robin across a group's queues.
--
-- KEYS: the queues' sorted sets (arq:queue:<name>, in this claim's rotation order), then their
--       running sets (integramon:running:<name>, same order).
-- ARGV: now (ms), lease deadline (ms), want, next_scan, stale cutoff ('(' .. ms: running-set entries
--       whose deadline passed before it belong to dead workers' jobs, now due again, and are dropped).
-- Returns {next_due, q1, id1, score1, q2, id2, score2, ...}; q is the 1-based queue position,
-- score the job's score before the claim; next_due is the score of the earliest deferred job
-- (-1 if none, or when every wanted job was found).
--
-- A reserved job keeps its place in arq's queue but is re-scored to the lease deadline, so the
-- due range only ever holds claimable jobs: a claim reads no more candidates than it takes, never
-- meets another worker's running job, and a job whose worker died becomes due again by itself
-- when its lease deadline passes. Only the declared keys are touched; step 2 (claim_lease.lua)
-- takes the per-job keys.
local n = #KEYS / 2
local now = tonumber(ARGV[1])
local deadline = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local next_scan = tonumber(ARGV[4])
local stale = ARGV[5]

local buf, pos, exhausted = {}, {}, {}
local active, taken = n, 0
local out = {-1}

for q = 1, n do
  redis.call('ZREMRANGEBYSCORE', KEYS[n + q], '-inf', stale)
end

local function refill(q)
  local need = math.ceil((want - taken) / active)
  local got = redis.call('ZRANGEBYSCORE', KEYS[q], '-inf', now, 'WITHSCORES', 'LIMIT', 0, need)
  if #got == 0 then
    exhausted[q] = true
    active = active - 1
  else
    buf[q], pos[q] = got, 1
  end
end

while taken < want and active > 0 do
  for q = 1, n do
    if taken >= want then break end
    if not exhausted[q] and (buf[q] == nil or pos[q] > #buf[q]) then refill(q) end
    if not exhausted[q] then
      local id, score = buf[q][pos[q]], buf[q][pos[q] + 1]
      pos[q] = pos[q] + 2
      redis.call('ZADD', KEYS[q], deadline, id)
      redis.call('ZADD', KEYS[n + q], deadline, id)
      out[#out + 1] = q
      out[#out + 1] = id
      out[#out + 1] = score
      taken = taken + 1
    end
  end
end

if taken < want then
  -- The earliest deferred job, skipping running ones (their score is a lease deadline). After
  -- next_scan running jobs the last score seen is returned: an early wake-up, never a late one.
  local nxt = -1
  for q = 1, n do
    local later = redis.call('ZRANGEBYSCORE', KEYS[q], '(' .. now, '+inf', 'WITHSCORES', 'LIMIT', 0, next_scan)
    for i = 1, #later, 2 do
      local s = tonumber(later[i + 1])
      if i + 1 == #later or not redis.call('ZSCORE', KEYS[n + q], later[i]) then
        if nxt < 0 or s < nxt then nxt = s end
        break
      end
    end
  end
  out[1] = nxt
end
return out
