-- Running jobs whose lease expired: back to pending (`retrying`) while attempts remain,
-- else failed with error code "lost". At most `limit` per call.
-- KEYS: leases, queue, events, wake, finished
-- ARGV: base, events_maxlen, wake_cap, retention_ms, limit
-- -> {moved, looked_at}
local leases, queue, events, wake_list, finished = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local base = ARGV[1]
local now = now_ms()
local expired = redis.call('ZRANGEBYSCORE', leases, '-inf', '(' .. int(now), 'LIMIT', 0, tonumber(ARGV[5]))
local moved = 0
for _, id in ipairs(expired) do
  redis.call('ZREM', leases, id)
  local job = base .. 'job:' .. id
  local f = redis.call('HMGET', job, 'state', 'attempts', 'max_attempts', 'priority')
  if f[1] == 'running' then
    local attempts, max_attempts = tonumber(f[2]) or 0, tonumber(f[3]) or 1
    local lost = lost_error(attempts, max_attempts)
    if attempts < max_attempts then
      redis.call('HSET', job, 'state', 'pending', 'owner', '', 'error', lost)
      local event = add_event(ARGV[1], events, ARGV[2], 'retrying', id, 'pending', now, '{"error":' .. lost .. '}')
      enqueue(job, queue, id, tonumber(f[4]) or 0, event)
      wake(wake_list, tonumber(ARGV[3]))
    else
      redis.call('HSET', job, 'state', 'failed', 'owner', '', 'error', lost, 'finished_at', int(now))
      redis.call('ZADD', finished, now, id)
      add_event(ARGV[1], events, ARGV[2], 'failed', id, 'failed', now, '{"error":' .. lost .. '}')
      expire_job(base, id, tonumber(ARGV[4]))
    end
    moved = moved + 1
  end
end
return {moved, #expired}
