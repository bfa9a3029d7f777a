-- Records a worker as alive until now + ttl. A worker whose heartbeat ran out stays listed
-- in workers_seen until requeue_expired has taken back its jobs (it forgets it then); one
-- silent for `forget_after` ms is dropped here in any case. Time while nobody reached Redis
-- does not count (shift_after_outage), so the first heartbeat after an outage comes before
-- any sweep can judge anyone dead.
-- KEYS: workers (hash id -> JSON), workers_seen (zset id -> alive-until ms)
-- ARGV: base, id, info_json, ttl_ms, outage_threshold_ms, forget_after_ms
-- Answers the mode an operator asked of the instance ("<base>worker_control": id -> paused |
-- draining; absent: active).
-- -> {'ok', mode}
local now = now_ms()
shift_after_outage(ARGV[1], now, tonumber(ARGV[5]))
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[2])
local forget_before = now - tonumber(ARGV[6])
local control = ARGV[1] .. 'worker_control'
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. int(forget_before), 'LIMIT', 0, 100)) do
  redis.call('HDEL', KEYS[1], id)
  redis.call('HDEL', control, id)
  redis.call('ZREM', KEYS[2], id)
end
return {'ok', redis.call('HGET', control, ARGV[2]) or ''}
