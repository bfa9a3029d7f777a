-- scheduled -> pending for the jobs whose run_at has come (the zset `scheduled`, scored by
-- run_at in ms), earliest first, at most `limit` per call; appends `scheduled` for each and
-- queues it. Entries of jobs no longer scheduled (cancelled, deleted) are dropped.
-- KEYS: scheduled, queue, events, wake
-- ARGV: base, events_maxlen, wake_cap, limit
-- -> {moved, entries looked at}
local scheduled, queue, events, wake_list = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local base, maxlen, wake_cap, limit = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local now = now_ms()
local due = redis.call('ZRANGEBYSCORE', scheduled, '-inf', now, 'LIMIT', 0, limit)
local moved = 0
for _, id in ipairs(due) do
  local job = base .. 'job:' .. id
  local r = load_job(job)
  if r and r.s == 'scheduled' then
    local event = log_event(events, maxlen, 'scheduled', id, 'pending', now, '{}')
    r.s = 'pending'
    r.q = enqueue_member(queue, id, r, event)
    r.h = history_plus(r.h, event)
    save_job(job, r)
    move_state_later(base, id, r, 'scheduled', 'pending')
    moved = moved + 1
  end
end
if #due > 0 then
  redis.call('ZREM', scheduled, unpack(due))
  apply_moves()
end
if moved > 0 then wake(wake_list, wake_cap) end
return {moved, #due}
