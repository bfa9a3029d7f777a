-- The workers whose heartbeat has not run out (read-only).
-- KEYS: workers, workers_seen
-- ARGV: base
-- -> {info_json, ...}
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], int(now_ms()), '+inf')
if #ids == 0 then return {} end
local infos = redis.call('HMGET', KEYS[1], unpack(ids))
local out = {}
for _, info in ipairs(infos) do
  if info then out[#out + 1] = info end
end
return out
