-- pending | scheduled | running | waiting -> cancelled; appends `cancelled`. A running job's worker
-- learns it at its next renew (conflict) and kills the process.
-- KEYS: job, queue, scheduled, leases, events
-- ARGV: base, id, events_maxlen
-- -> {'ok', event_id, record} | {'not_found'} | {'conflict', state}
local job, queue, scheduled, leases, events = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local base, id = ARGV[1], ARGV[2]
local r = load_job(job)
if not r then return {'not_found'} end
local state = r.s
if state ~= 'pending' and state ~= 'scheduled' and state ~= 'running' and state ~= 'waiting' then
  return {'conflict', state}
end
if state == 'pending' and r.q then
  redis.call('ZREM', lane_of(queue, r), r.q)
  r.q = nil
elseif state == 'scheduled' then
  redis.call('ZREM', scheduled, id)
elseif state == 'running' then
  redis.call('ZREM', leases, id)
elseif state == 'waiting' then
  redis.call('SREM', base .. 'waiters:' .. r.wo, id)
  r.wo = nil
end
local now = now_ms()
r.s, r.f, r.x = 'cancelled', now, '{"code":"cancelled","message":"cancelled on request"}'
local event = log_event(events, ARGV[3], 'cancelled', id, 'cancelled', now, '{}')
r.h = history_plus(r.h, event)
move_state(base, id, r, state, 'cancelled')
return {'ok', event, save_job(job, r)}
