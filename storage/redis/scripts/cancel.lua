-- pending | scheduled | running -> cancelled; appends `cancelled`. A running job's owner
-- learns it at its next renew (conflict) and kills the process.
-- KEYS: job, queue, scheduled, leases, events, finished
-- ARGV: base, id, retention_ms, events_maxlen
-- -> {'ok', event_id, {hash field, value, ...}} | {'not_found'} | {'conflict', state}
local job, queue, scheduled, leases, events, finished = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local base, id = ARGV[1], ARGV[2]
local f = redis.call('HMGET', job, 'state', '_q', 'created_at')
local state = f[1]
if not state then return {'not_found'} end
if state ~= 'pending' and state ~= 'scheduled' and state ~= 'running' then return {'conflict', state} end
if state == 'pending' and f[2] then
  redis.call('ZREM', queue, f[2])
  redis.call('HDEL', job, '_q')
elseif state == 'scheduled' then
  redis.call('ZREM', scheduled, id)
elseif state == 'running' then
  redis.call('ZREM', leases, id)
end
local now = now_ms()
redis.call('HSET', job, 'state', 'cancelled', 'finished_at', int(now), 'error',
  '{"code":"cancelled","message":"cancelled on request"}')
redis.call('ZADD', finished, now, id)
move_state(base, id, tonumber(f[3]) or 0, state, 'cancelled')
local event = add_event(ARGV[1], events, ARGV[4], 'cancelled', id, 'cancelled', now, '{}')
expire_job(base, id, tonumber(ARGV[3]))
return {'ok', event, redis.call('HGETALL', job)}
