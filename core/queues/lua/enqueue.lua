-- Enqueue a batch of jobs in arq's layout and wake the idle workers of their queues.
--
-- KEYS: the queues' sorted sets (one per queue in the batch), then per job, queue by queue in the
--       same order: arq:job:<id>, arq:result:<id>.
-- ARGV: now (ms), expiry extra (ms), most jobs named in a wake-up, the naming wake-up's first line,
--       then per queue six values: its
--       wake-up channel, the job ids concatenated, their byte lengths ("32,32,..."), their scores
--       ("1700...,..."), the payloads concatenated, their byte lengths. Packing a batch into a few
--       long arguments keeps the client's per-argument encoding cost down.
-- A job is added only when neither its data nor its result exists; each queue's members go in with
-- one ZADD per 1,000 jobs. Returns the ids NOT added (normally none).
-- Each queue that received jobs gets one wake-up on its channel: the given first line and the added
-- ids, one per line, when there are few of them and all are due (an idle worker claims exactly those, in one
-- step: claim_named.lua), else the number added (workers then run a full claim).
local function numbers(text)
  local out = {}
  for v in string.gmatch(text, '[^,]+') do out[#out + 1] = tonumber(v) end
  return out
end
local now = tonumber(ARGV[1])
local extra = tonumber(ARGV[2])
local name_max = tonumber(ARGV[3])
local first_line = ARGV[4]
local nq = (#ARGV - 4) / 6
local kp = nq + 1
local rejected = {}
for q = 1, nq do
  local a = 5 + (q - 1) * 6
  local channel = ARGV[a]
  local ids, id_lens, scores = ARGV[a + 1], numbers(ARGV[a + 2]), numbers(ARGV[a + 3])
  local payloads, payload_lens = ARGV[a + 4], numbers(ARGV[a + 5])
  local members, named, nameable = {}, {first_line}, true
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
      members[#members + 1] = score
      members[#members + 1] = id
      if nameable and #named <= name_max and score <= now and not string.find(id, '\n', 1, true) then
        named[#named + 1] = id
      else
        nameable = false
      end
    else
      rejected[#rejected + 1] = id
    end
  end
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
