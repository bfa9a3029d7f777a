-- Saves a new job as pending, indexes it, enqueues it and appends `submitted`.
-- KEYS: job, jobs, queue, events, wake
-- ARGV: base, id, events_maxlen, wake_cap, created_at (0: now), priority, field, value, ...
--       (the fields are the whole record, state already `pending`)
-- -> {'ok', created_at, event_id} | {'conflict', state}
local job, jobs, queue, events, wake_list = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local id = ARGV[2]
if redis.call('EXISTS', job) == 1 then
  return {'conflict', redis.call('HGET', job, 'state') or ''}
end
local now = now_ms()
local created = tonumber(ARGV[5])
if created == 0 then created = now end
redis.call('HSET', job, unpack(ARGV, 7))
if tonumber(ARGV[5]) == 0 then redis.call('HSET', job, 'created_at', int(created)) end
redis.call('ZADD', jobs, created, id)
local event = add_event(ARGV[1], events, ARGV[3], 'submitted', id, 'pending', now, '{}')
enqueue(job, queue, id, tonumber(ARGV[6]), event)
wake(wake_list, tonumber(ARGV[4]))
return {'ok', int(created), event}
