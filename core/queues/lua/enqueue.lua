-- Enqueue a batch of jobs in arq's layout, hand a small due batch straight to idle workers, and
-- wake the idle workers of their queues.
--
-- KEYS: the queues' sorted sets (one per queue in the batch); arq:abort; the offers hash; the handed
--       offers hash; then, for every queue with hand-off on (in queue order): its offering set, its
--       running set, then per job of that queue arq:in-progress:<id>, arq:retry:<id>; then per job,
--       queue by queue in the same order: arq:job:<id>, arq:result:<id>.
-- ARGV: now (ms), expiry extra (ms), most jobs named in a wake-up, the naming wake-up's first line,
--       try-counter TTL (s), then per queue seven values: its
--       wake-up channel, the job ids concatenated, their byte lengths ("32,32,..."), their scores
--       ("1700...,..."), the payloads concatenated, their byte lengths, and the queue's name when
--       hand-off is on for it ('' when off). Packing a batch into a few long arguments keeps the
--       client's per-argument encoding cost down.
-- A job is added only when neither its data nor its result exists; each queue's members not handed
-- off go in with one ZADD per 1,000 jobs. Returns the ids NOT added (normally none).
--
-- Hand-off (core.queues.handoff): when a queue's added jobs are few and all due, each one goes to
-- a worker with an open offer on that queue, if any: the job is claimed for that worker here
-- exactly as claim_named.lua would (lease SET for the lease time the offer names, queued and running
-- at the lease deadline, abort request taken, try counter bumped), the
-- offer is closed (one job per offer) and the claim is published on the worker's own channel
-- (the offer names it, with the lease time); the message is kept in the handed hash
-- until the worker's next full claim, which returns it if the worker never saw it. A worker not
-- listening (PUBLISH reaches nobody) has its offer dropped and the next one is tried.
-- Each queue with jobs left unhanded gets one wake-up on its channel: the given first line and
-- those ids, one per line, when there are few of them and all are due (an idle worker claims
-- exactly those, in one step: claim_named.lua), else the number added (workers run a full claim).
local function numbers(text)
  local out = {}
  for v in string.gmatch(text, '[^,]+') do out[#out + 1] = tonumber(v) end
  return out
end
local now = tonumber(ARGV[1])
local extra = tonumber(ARGV[2])
local name_max = tonumber(ARGV[3])
local first_line = ARGV[4]
local retry_ttl = tonumber(ARGV[5])
local nq = (#ARGV - 5) / 7
local abort, offers, handed = KEYS[nq + 1], KEYS[nq + 2], KEYS[nq + 3]
local hk = nq + 4
local kp = hk
for q = 1, nq do
  local a = 6 + (q - 1) * 7
  if ARGV[a + 6] ~= '' then kp = kp + 2 + 2 * #numbers(ARGV[a + 2]) end
end

-- Give one due job to a worker with an open offer on its queue; true when one took it. q: the
-- queue's key, o: its offering and running sets, j: the job's lease and try-counter keys (positions).
-- The job is not in the queue yet: a handed job goes in once, scored at its lease deadline. Few calls
-- (each costs a few microseconds on a Redis that sat idle, and this is the pickup-latency path).
local function hand_off(q, o, j, name, id, score, payload)
  local queue_key, offering, running = KEYS[q], KEYS[o], KEYS[o + 1]
  local lease_key, retry_key = KEYS[j], KEYS[j + 1]
  if redis.call('EXISTS', lease_key) == 1 then return false end  -- an id given again, still leased
  while true do
    -- the offer expiring soonest; an expired one (its worker stopped renewing) is dropped on the way
    local candidate = redis.call('ZPOPMIN', offering)
    if #candidate == 0 then return false end
    local wid = candidate[1]
    local offer = tonumber(candidate[2]) >= now and redis.call('HGET', offers, wid)
    if offer then
      local gen, lease, channel = string.match(offer, '^(%d+):(%d+):(.+)$')
      local try = (tonumber(redis.call('GET', retry_key)) or 0) + 1
      local aborted = redis.call('ZSCORE', abort, id) and 1 or 0
      local message = table.concat({gen, name, id, score, try, aborted, payload}, '\n')
      redis.call('HDEL', offers, wid)
      if redis.call('PUBLISH', channel, message) > 0 then
        local deadline = now + lease
        redis.call('SET', lease_key, wid, 'PX', lease)
        redis.call('ZADD', queue_key, deadline, id)
        redis.call('ZADD', running, deadline, id)
        if aborted == 1 then redis.call('ZREM', abort, id) end
        redis.call('SET', retry_key, try, 'EX', retry_ttl)  -- as INCR + EXPIRE would leave it
        redis.call('HSET', handed, wid, message)
        return true
      end
    end
  end
end

local rejected = {}
for q = 1, nq do
  local a = 6 + (q - 1) * 7
  local channel = ARGV[a]
  local ids, id_lens, scores = ARGV[a + 1], numbers(ARGV[a + 2]), numbers(ARGV[a + 3])
  local payloads, payload_lens = ARGV[a + 4], numbers(ARGV[a + 5])
  local name = ARGV[a + 6]
  local named, nameable, added = {first_line}, true, {}
  local ip, pp = 1, 1
  for i = 1, #id_lens do
    local id = string.sub(ids, ip, ip + id_lens[i] - 1)
    local payload = string.sub(payloads, pp, pp + payload_lens[i] - 1)
    ip, pp = ip + id_lens[i], pp + payload_lens[i]
    local score = scores[i]
    local job_key, result_key = KEYS[kp], KEYS[kp + 1]
    kp = kp + 2
    if redis.call('EXISTS', result_key) == 0
        and redis.call('SET', job_key, payload, 'NX', 'PX', extra + math.max(score - now, 0)) then
      added[#added + 1] = {i, id, score, payload}
      if nameable and #named <= name_max and score <= now and not string.find(id, '\n', 1, true) then
        named[#named + 1] = id
      else
        nameable = false
      end
    else
      rejected[#rejected + 1] = id
    end
  end
  local members = {}
  if name ~= '' and nameable then  -- hand each job off if a worker offers; the rest are queued and named
    named = {first_line}
    for _, job in ipairs(added) do
      if not hand_off(q, hk, hk + 2 + (job[1] - 1) * 2, name, job[2], job[3], job[4]) then
        members[#members + 1] = job[3]
        members[#members + 1] = job[2]
        named[#named + 1] = job[2]
      end
    end
  else
    for _, job in ipairs(added) do
      members[#members + 1] = job[3]
      members[#members + 1] = job[2]
    end
  end
  if name ~= '' then hk = hk + 2 + 2 * #id_lens end
  for i = 1, #members, 2000 do
    redis.call('ZADD', KEYS[q], unpack(members, i, math.min(i + 1999, #members)))
  end
  if #members > 0 then
    if nameable then
      redis.call('PUBLISH', channel, table.concat(named, '\n'))
    else
      redis.call('PUBLISH', channel, #members / 2)
    end
  end
end
return rejected
