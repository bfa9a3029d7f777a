-- Records a worker as alive until now + ttl and forgets workers that went quiet.
-- KEYS: workers (hash id -> JSON), workers_seen (zset id -> alive-until ms)
-- ARGV: base, id, info_json, ttl_ms
-- -> {'ok'}
local now = now_ms()
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[2])
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', '(' .. int(now), 'LIMIT', 0, 100)) do
  redis.call('HDEL', KEYS[1], id)
  redis.call('ZREM', KEYS[2], id)
end
return {'ok'}
