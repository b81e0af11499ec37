-- Give the controller leader lease up, only if we still hold it.
-- KEYS: the leader key. ARGV: our controller id. Returns 1 when released, else 0.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
