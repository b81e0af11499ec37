-- Extend the controller leader lease, only if we still hold it.
-- KEYS: the leader key. ARGV: our controller id, lease (ms). Returns 1 when renewed, else 0.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
