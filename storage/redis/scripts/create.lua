-- Saves new jobs as pending (several per call: RedisStore groups the submissions that arrive
-- together), indexes them (idx:pending:<engine>, idx:tag:<t>, idx:owner:<o>), enqueues them and appends
-- `submitted` for each. Beyond max_jobs jobs in the store (`count`), refuses; beyond its
-- owner's cap of unfinished jobs (unfinished_by_owner, kept by lib.lua's state moves), refuses.
-- KEYS: queue, events, wake, count, engines, unfinished_by_owner
-- ARGV: base, events_maxlen, wake_cap, max_jobs (0: no bound), then per job: id, record
--       (job_blob::encode; its `c` absent: now), max unfinished jobs of its owner (0: no bound)
-- -> {answer per job}, each {'ok', created_at, event_id} | {'conflict', state} | {'full', jobs}
--    | {'quota', unfinished jobs of the owner}
local queue, events, wake_list, count_key, engines, unfinished = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local base, maxlen, max_jobs = ARGV[1], ARGV[2], tonumber(ARGV[4])
local count = tonumber(redis.call('GET', count_key)) or 0
local added = 0
local added_of_owner = {}  -- this call's jobs per owner (their HINCRBY waits for apply_moves)
local seen_engines = {}
local out = {}
local now = now_ms()
for i = 5, #ARGV - 2, 3 do
  local id = ARGV[i]
  local job = base .. 'job:' .. id
  local existing = load_job(job)
  local r = not existing and cmsgpack.unpack(ARGV[i + 1])
  local cap = tonumber(ARGV[i + 2])
  local held = 0
  if r and r.o and cap > 0 then
    held = (tonumber(redis.call('HGET', unfinished, r.o)) or 0) + (added_of_owner[r.o] or 0)
  end
  if existing then
    out[#out + 1] = {'conflict', existing.s or ''}
  elseif max_jobs > 0 and count + added >= max_jobs then
    out[#out + 1] = {'full', count + added}
  elseif cap > 0 and held >= cap then
    out[#out + 1] = {'quota', held}
  else
    if not r.c or r.c == 0 then r.c = now end
    r.s = 'pending'
    local event = log_event(events, maxlen, 'submitted', id, 'pending', now, '{}')
    r.h = history_plus(nil, event)
    r.q = enqueue_member(queue, id, r.p or 0, event)
    save_job(job, r)
    move_state_later(base, id, r, nil, 'pending')
    if type(r.t) == 'table' then
      for _, tag in ipairs(r.t) do redis.call('ZADD', base .. 'idx:tag:' .. tag, r.c, id) end
    end
    if r.o then
      redis.call('ZADD', base .. 'idx:owner:' .. r.o, r.c, id)
      added_of_owner[r.o] = (added_of_owner[r.o] or 0) + 1
    end
    seen_engines[r.e or ''] = true
    added = added + 1
    out[#out + 1] = {'ok', int(r.c), event}
  end
end
if added > 0 then
  apply_moves()
  redis.call('INCRBY', count_key, added)
  for engine in pairs(seen_engines) do redis.call('SADD', engines, engine) end
  wake(wake_list, tonumber(ARGV[3]))
end
return out
