-- Stores artifacts of an existing job; they expire when (if) the job's record does.
-- KEYS: job, artifact index, artifact key 1..n
-- ARGV: base, id, then per artifact: name, info_json, bytes
-- -> {'ok'} | {'not_found'}
local job, index = KEYS[1], KEYS[2]
if redis.call('EXISTS', job) == 0 then return {'not_found'} end
local ttl = redis.call('PTTL', job)
for i = 1, #KEYS - 2 do
  local name, info, bytes = ARGV[3 * i], ARGV[3 * i + 1], ARGV[3 * i + 2]
  redis.call('SET', KEYS[i + 2], bytes)
  redis.call('HSET', index, name, info)
  if ttl > 0 then redis.call('PEXPIRE', KEYS[i + 2], ttl) end
end
if ttl > 0 then redis.call('PEXPIRE', index, ttl) end
return {'ok'}
