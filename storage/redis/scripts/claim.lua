-- Takes the best pending jobs, up to `max` (1 when absent): pending -> running with a lease,
-- attempts + 1, appends `started` for each.
-- KEYS: queue, leases, events, wake
-- ARGV: base, worker, lease_ms, events_maxlen[, max]
-- -> {'ok', event_id, {hash field, value, ...}[, event_id, {...}, ...]} | {'empty'}
local queue, leases, events, wake_list = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local base, worker = ARGV[1], ARGV[2]
local max = tonumber(ARGV[5]) or 1
local out = {'ok'}
local taken, stale = 0, 0
local now
while taken < max and stale < 1000 do
  local popped = redis.call('ZPOPMIN', queue)
  if #popped == 0 then break end
  local member = popped[1]
  local id = string.match(member, ':(.*)$')
  local job = base .. 'job:' .. id
  local f = redis.call('HMGET', job, 'state', '_q', 'attempts', 'created_at', '_h')
  -- Anything else is a stale entry (job gone, or re-queued under a new member): dropped.
  if f[1] == 'pending' and f[2] == member then
    now = now or now_ms()
    local attempt = (tonumber(f[3]) or 0) + 1
    local event = log_event(events, ARGV[4], 'started', id, 'running', now,
      '{"worker":' .. cjson.encode(worker) .. ',"attempt":' .. int(attempt) .. '}')
    redis.call('HSET', job, 'state', 'running', 'owner', worker, 'attempts', int(attempt), 'started_at', int(now),
      '_h', history_plus(f[5], event))
    redis.call('HDEL', job, '_q', 'error')  -- _q: ~100 bytes per record kept for the retention period
    move_state(base, id, tonumber(f[4]) or 0, 'pending', 'running')
    redis.call('ZADD', leases, now + tonumber(ARGV[3]), id)
    out[#out + 1] = event
    out[#out + 1] = redis.call('HGETALL', job)
    taken = taken + 1
  else
    stale = stale + 1
  end
end
if redis.call('ZCARD', queue) == 0 then redis.call('DEL', wake_list) end
if taken == 0 then return {'empty'} end
return out
