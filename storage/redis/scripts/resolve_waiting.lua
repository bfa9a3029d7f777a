-- Ends the wait of a job created `waiting` on another (the calculation cache, create.lua):
-- waiting -> completed with that job's result (cf = it), -> failed, or -> pending (queued after
-- all: `queued`). Leaves "<base>waiters:<on>".
-- KEYS: job, queue, events, wake
-- Or moves the wait to another job (outcome 'waiting': a workflow's job whose next parent is
-- still to finish; a `progress` event names it). A job queued may get a new spec (a workflow's
-- job whose molecule came from its parent).
-- ARGV: base, id, on, outcome ('completed' | 'failed' | 'pending' | 'waiting'), result (packed by
--       RedisStore; '' none), error_json ('null' none), result_summary_json, events_maxlen, wake_cap,
--       wait_on ('waiting': the job to wait on next), spec ('pending': packed, '' unchanged)
-- -> {'ok', event_id, record} | {'not_found'} | {'conflict', state}
local job, queue, events, wake_list = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local base, id, on, outcome = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local result, err, summary, maxlen, wake_cap = ARGV[5], ARGV[6], ARGV[7], ARGV[8], tonumber(ARGV[9])
local r = load_job(job)
if not r then return {'not_found'} end
if r.s ~= 'waiting' or r.wo ~= on then return {'conflict', r.s} end
local now = now_ms()
local event
if outcome == 'waiting' then
  local next_on = ARGV[10]
  r.wo = next_on
  event = log_event(events, maxlen, 'progress', id, 'waiting', now,
    '{"waiting_on":"' .. next_on .. '","waited_on":"' .. on .. '"}')
  r.h = history_plus(r.h, event)
  redis.call('SREM', base .. 'waiters:' .. on, id)
  redis.call('SADD', base .. 'waiters:' .. next_on, id)
  return {'ok', event, save_job(job, r)}
end
r.wo = nil
if outcome == 'completed' then
  if result ~= '' then r.r = result end
  r.cf = on
  r.s, r.f = 'completed', now
  event = log_event(events, maxlen, 'completed', id, 'completed', now,
    '{"result":' .. summary .. ',"cached_from":"' .. on .. '"}')
elseif outcome == 'failed' then
  r.x = err
  r.s, r.f = 'failed', now
  event = log_event(events, maxlen, 'failed', id, 'failed', now, '{"error":' .. err .. '}')
else
  r.s = 'pending'
  if ARGV[11] ~= '' then r.sp, r.sb = ARGV[11], nil end
  event = log_event(events, maxlen, 'queued', id, 'pending', now, '{"waited_on":"' .. on .. '"}')
  r.q = enqueue_member(queue, id, r, event)
  wake(wake_list, wake_cap)
end
r.h = history_plus(r.h, event)
move_state(base, id, r, 'waiting', r.s)
redis.call('SREM', base .. 'waiters:' .. on, id)
return {'ok', event, save_job(job, r)}
