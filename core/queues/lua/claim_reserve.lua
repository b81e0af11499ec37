-- Claim, step 1 of 2: reserve up to `want` due jobs, round-robin across a group's queues.
--
-- KEYS: the queues' sorted sets (arq:queue:<name>, in this claim's rotation order), then their
--       running sets (integramon:running:<name>, same order), the offers hash, the handed offers
--       hash, then the queues' offering sets (same order).
-- ARGV: now (ms), lease deadline (ms), want, next_scan, stale cutoff ('(' .. ms: running-set entries
--       whose deadline passed before it belong to dead workers' jobs, now due again, and are dropped),
--       worker id, the newest hand-off generation the worker has seen, the offer to open when the
--       claim leaves the queues drained ('<generation>:<lease ms>:<hand-off channel>'; '' for none),
--       that offer's expiry (ms), and '1' when the worker may have an offer or a handed message to
--       withdraw (it opened an offer with its previous claim), else '0'.
-- Returns {next_due, offered (0/1), unseen hand-off message or '', q1, id1, score1, q2, ...}; q is
-- the 1-based queue position, score the job's score before the claim; next_due is the score of the
-- earliest deferred job (-1 if none, or when every wanted job was found).
--
-- Hand-off (core.queues.handoff): the worker's open offer, if any, is withdrawn first (the slot it
-- held is part of ``want``); if a job was handed to it that the worker has not seen yet (the
-- message is still on its way), that message is returned and the job takes one of the wanted
-- slots. When fewer due jobs than wanted are found, the queues are drained: a new offer of one slot
-- is opened in the same atomic step, so a job enqueued from now on is handed over or found by the
-- next claim, never missed in between.
--
-- A reserved job keeps its place in arq's queue but is re-scored to the lease deadline, so the
-- due range only ever holds claimable jobs: a claim reads no more candidates than it takes, never
-- meets another worker's running job, and a job whose worker died becomes due again by itself
-- when its lease deadline passes. Only the declared keys are touched; step 2 (claim_lease.lua)
-- takes the per-job keys.
local n = (#KEYS - 2) / 3
local now = tonumber(ARGV[1])
local deadline = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local next_scan = tonumber(ARGV[4])
local stale = ARGV[5]
local wid, seen, offer, offer_expiry, withdraw = ARGV[6], tonumber(ARGV[7]), ARGV[8], ARGV[9], ARGV[10]
local offers, handed = KEYS[2 * n + 1], KEYS[2 * n + 2]

local buf, pos, exhausted = {}, {}, {}
local active, taken = n, 0
local out = {-1, 0, ''}

if withdraw == '1' then
  redis.call('HDEL', offers, wid)
  local message = redis.call('HGET', handed, wid)
  if message then
    redis.call('HDEL', handed, wid)
    if tonumber(string.match(message, '^(%d+)\n')) > seen then
      out[3] = message
      want = want - 1
    end
  end
  for q = 1, n do redis.call('ZREM', KEYS[2 * n + 2 + q], wid) end
end

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
  if offer ~= '' then
    redis.call('HSET', offers, wid, offer)
    for q = 1, n do
      local offering = KEYS[2 * n + 2 + q]
      redis.call('ZREMRANGEBYSCORE', offering, '-inf', '(' .. now)  -- offers that expired unused
      redis.call('ZADD', offering, offer_expiry, wid)
    end
    out[2] = 1
  end
end
return out
