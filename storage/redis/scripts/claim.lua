-- Takes the best pending jobs, up to `max` (1 when absent): pending -> running with a lease,
-- attempts + 1, appends `started` for each.
-- KEYS: queue, leases, events, wake
-- ARGV: base, worker, lease_ms, events_maxlen[, max]
-- -> {'ok', id, event_id, record[, id, event_id, record, ...]} | {'empty'}
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
  local r = load_job(job)
  -- Anything else is a stale entry (job gone, or re-queued under a new member): dropped.
  if r and r.s == 'pending' and r.q == member then
    now = now or now_ms()
    local attempt = (r.a or 0) + 1
    local event = log_event(events, ARGV[4], 'started', id, 'running', now,
      '{"worker":' .. cjson.encode(worker) .. ',"attempt":' .. int(attempt) .. '}')
    r.s, r.w, r.a, r.b, r.q, r.x = 'running', worker, attempt, now, nil, nil
    r.h = history_plus(r.h, event)
    local blob = save_job(job, r)
    move_state(base, id, r, 'pending', 'running')
    redis.call('ZADD', leases, now + tonumber(ARGV[3]), id)
    out[#out + 1] = id
    out[#out + 1] = event
    out[#out + 1] = blob
    taken = taken + 1
  else
    stale = stale + 1
  end
end
if redis.call('ZCARD', queue) == 0 then redis.call('DEL', wake_list) end
if taken == 0 then return {'empty'} end
return out
