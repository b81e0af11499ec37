-- Enqueue a batch of jobs in arq's layout and wake the idle workers of their queues.
--
-- KEYS: the queues' sorted sets (one per queue in the batch), then per job, queue by queue in the
--       same order: arq:job:<id>, arq:result:<id>.
-- ARGV: now (ms), expiry extra (ms), number of channels, the channels, then per queue five values:
--       the job ids concatenated, their byte lengths ("32,32,..."), their scores ("1700...,..."),
--       the payloads concatenated, their byte lengths. Packing a batch into a few long arguments
--       keeps the client's per-argument encoding cost down.
-- A job is added only when neither its data nor its result exists; each queue's members go in with
-- one ZADD per 1,000 jobs. Returns the ids NOT added (normally none).
local function numbers(text)
  local out = {}
  for v in string.gmatch(text, '[^,]+') do out[#out + 1] = tonumber(v) end
  return out
end
local now = tonumber(ARGV[1])
local extra = tonumber(ARGV[2])
local nch = tonumber(ARGV[3])
local nq = (#ARGV - 3 - nch) / 5
local kp = nq + 1
local added, rejected = 0, {}
for q = 1, nq do
  local a = 4 + nch + (q - 1) * 5
  local ids, id_lens, scores = ARGV[a], numbers(ARGV[a + 1]), numbers(ARGV[a + 2])
  local payloads, payload_lens = ARGV[a + 3], numbers(ARGV[a + 4])
  local members = {}
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
      added = added + 1
    else
      rejected[#rejected + 1] = id
    end
  end
  for i = 1, #members, 2000 do
    redis.call('ZADD', KEYS[q], unpack(members, i, math.min(i + 1999, #members)))
  end
end
if added > 0 then
  for c = 4, 3 + nch do redis.call('PUBLISH', ARGV[c], added) end
end
return rejected
