-- Takes the best pending job: pending -> running with a lease, attempts + 1, appends `started`.
-- KEYS: queue, leases, events, wake
-- ARGV: base, worker, lease_ms, events_maxlen
-- -> {'ok', event_id, {hash field, value, ...}} | {'empty'}
local queue, leases, events, wake_list = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local base, worker = ARGV[1], ARGV[2]
for _ = 1, 1000 do
  local popped = redis.call('ZPOPMIN', queue)
  if #popped == 0 then break end
  local member = popped[1]
  local id = string.match(member, ':(.*)$')
  local job = base .. 'job:' .. id
  local f = redis.call('HMGET', job, 'state', '_q', 'attempts')
  -- Anything else is a stale entry (job gone, or re-queued under a new member): dropped.
  if f[1] == 'pending' and f[2] == member then
    local now = now_ms()
    local attempt = (tonumber(f[3]) or 0) + 1
    redis.call('HSET', job, 'state', 'running', 'owner', worker, 'attempts', int(attempt), 'started_at', int(now),
      'error', 'null')
    redis.call('HDEL', job, '_q')  -- ~100 bytes per record kept for the retention period
    redis.call('ZADD', leases, now + tonumber(ARGV[3]), id)
    local event = add_event(ARGV[1], events, ARGV[4], 'started', id, 'running', now,
      '{"worker":' .. cjson.encode(worker) .. ',"attempt":' .. int(attempt) .. '}')
    if redis.call('ZCARD', queue) == 0 then redis.call('DEL', wake_list) end
    return {'ok', event, redis.call('HGETALL', job)}
  end
end
if redis.call('ZCARD', queue) == 0 then redis.call('DEL', wake_list) end
return {'empty'}
