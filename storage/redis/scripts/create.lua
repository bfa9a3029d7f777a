-- Saves new jobs as pending (several per call: RedisStore groups the submissions that arrive
-- together), indexes them (jobs, idx:state:pending, idx:engine:<e>, idx:tag:<t>), enqueues
-- them and appends `submitted` for each. Beyond max_jobs jobs in the store, refuses.
-- KEYS: jobs, queue, events, wake
-- ARGV: base, events_maxlen, wake_cap, max_jobs (0: no bound), then per job: id, created_at
--       (0: now), priority, engine, tag count t, t tags, field count f, f values (field, value,
--       ...: the whole record, state already `pending`)
-- -> {answer per job}, each {'ok', created_at, event_id} | {'conflict', state} | {'full', jobs}
local jobs, queue, events, wake_list = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local base, maxlen, max_jobs = ARGV[1], ARGV[2], tonumber(ARGV[4])
local out = {}
local woken = false
local i = 5
while i <= #ARGV do
  local id, created, priority, engine = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2]), ARGV[i + 3]
  local ntags = tonumber(ARGV[i + 4])
  local tags_at = i + 5
  local nfields = tonumber(ARGV[tags_at + ntags])
  local fields_at = tags_at + ntags + 1
  i = fields_at + nfields
  local job = base .. 'job:' .. id
  local count = max_jobs > 0 and redis.call('ZCARD', jobs) or 0
  if redis.call('EXISTS', job) == 1 then
    out[#out + 1] = {'conflict', redis.call('HGET', job, 'state') or ''}
  elseif max_jobs > 0 and count >= max_jobs then
    out[#out + 1] = {'full', count}
  else
    local now = now_ms()
    if created == 0 then created = now end
    local event = log_event(events, maxlen, 'submitted', id, 'pending', now, '{}')
    -- One HSET: the record, its history (this first event) and its queue member.
    local record = {unpack(ARGV, fields_at, fields_at + nfields - 1)}
    if tonumber(ARGV[tags_at - 4]) == 0 then
      record[#record + 1] = 'created_at'
      record[#record + 1] = int(created)
    end
    record[#record + 1] = '_h'
    record[#record + 1] = event
    record[#record + 1] = '_q'
    record[#record + 1] = enqueue_member(queue, id, priority, event)
    redis.call('HSET', job, unpack(record))
    redis.call('ZADD', jobs, created, id)
    move_state(base, id, created, nil, 'pending')
    if engine ~= '' then redis.call('ZADD', base .. 'idx:engine:' .. engine, created, id) end
    for t = tags_at, tags_at + ntags - 1 do redis.call('ZADD', base .. 'idx:tag:' .. ARGV[t], created, id) end
    woken = true
    out[#out + 1] = {'ok', int(created), event}
  end
end
if woken then wake(wake_list, tonumber(ARGV[3])) end
return out
