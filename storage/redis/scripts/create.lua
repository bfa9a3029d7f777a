-- Saves new jobs as pending (several per call: RedisStore groups the submissions that arrive
-- together), indexes them (idx:pending:<engine>, idx:tag:<t>, idx:owner:<o>), enqueues them and appends
-- `submitted` for each. Beyond max_jobs jobs in the store (`count`), refuses; beyond its
-- owner's cap of unfinished jobs (unfinished_by_owner, kept by lib.lua's state moves), refuses.
-- The calculation cache: a job with a calculation key joins the latest job created with that
-- key ("<base>calc:<key>" -> id, kept for the key's ttl) unless that one failed, was cancelled
-- or is gone: it is then saved `waiting` (wo = that id, listed in "<base>waiters:<that id>"),
-- not queued. Otherwise it is queued and becomes the latest for the key.
-- KEYS: queue, events, wake, count, engines, unfinished_by_owner, scheduled
-- ARGV: base, events_maxlen, wake_cap, max_jobs (0: no bound), then per job: id, record
--       (job_blob::encode; its `c` absent: now), max unfinished jobs of its owner (0: no bound),
--       calculation key ('' none), join ('1' | '0'), key ttl (ms), run_at (ms; '0' none: a job
--       whose run_at is still to come is saved `scheduled`, in the zset `scheduled` scored by it,
--       and joins no calculation), wait_on ('' none: a workflow's job is saved `waiting` on this
--       parent, whatever its calculation key), max unfinished jobs in all (0: no bound)
-- -> {answer per job}, each {'ok', created_at, event_id, waiting_on ('' none), state} | {'conflict', state}
--    | {'full', jobs} | {'quota', unfinished jobs of the owner} | {'busy', unfinished jobs in all}
local queue, events, wake_list, count_key, engines, unfinished = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local scheduled = KEYS[7]
local base, maxlen, max_jobs = ARGV[1], ARGV[2], tonumber(ARGV[4])
local count = tonumber(redis.call('GET', count_key)) or 0
local added = 0
local unfinished_total = tonumber(redis.call('GET', base .. 'unfinished')) or 0
local added_of_owner = {}  -- this call's jobs per owner (their HINCRBY waits for apply_moves)
local seen_engines = {}
local out = {}
local now = now_ms()
-- Tag and owner index entries of this call's jobs, one ZADD per index at the end (a batch's
-- jobs share its tag: one call instead of one per job).
local index_entries = {}
local function index_later(key, score, id)
  local entries = index_entries[key] or {}
  index_entries[key] = entries
  entries[#entries + 1] = score
  entries[#entries + 1] = id
end
-- The job to wait on for calculation key `calc`, or nil: then `id` becomes the latest.
local function join_or_lead(id, calc, join, ttl)
  if calc == '' then return nil end
  local calc_key = base .. 'calc:' .. calc
  local latest = join == '1' and redis.call('GET', calc_key)
  if latest and latest ~= id then
    local leader = load_job(base .. 'job:' .. latest)
    if leader and leader.s ~= 'failed' and leader.s ~= 'cancelled' then return latest end
  end
  redis.call('SET', calc_key, id, 'PX', ttl)
  return nil
end

for i = 5, #ARGV - 8, 9 do
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
  elseif tonumber(ARGV[i + 8]) > 0 and unfinished_total + added >= tonumber(ARGV[i + 8]) then
    out[#out + 1] = {'busy', unfinished_total + added}
  else
    if not r.c or r.c == 0 then r.c = now end
    local due = tonumber(ARGV[i + 6]) or 0
    local waiting_on = nil
    if due <= now and ARGV[i + 7] ~= '' then
      waiting_on = ARGV[i + 7]
    elseif due <= now then
      waiting_on = join_or_lead(id, ARGV[i + 3], ARGV[i + 4], ARGV[i + 5])
    end
    local event
    if due > now then
      r.s = 'scheduled'
      event = log_event(events, maxlen, 'submitted', id, 'scheduled', now, '{}')
      redis.call('ZADD', scheduled, due, id)
    elseif waiting_on then
      r.s = 'waiting'
      r.wo = waiting_on
      event = log_event(events, maxlen, 'submitted', id, 'waiting', now, '{"waiting_on":"' .. waiting_on .. '"}')
      redis.call('SADD', base .. 'waiters:' .. waiting_on, id)
    else
      r.s = 'pending'
      event = log_event(events, maxlen, 'submitted', id, 'pending', now, '{}')
      r.q = enqueue_member(queue, id, r, event)
    end
    r.h = history_plus(nil, event)
    save_job(job, r)
    move_state_later(base, id, r, nil, r.s)
    if type(r.t) == 'table' then
      for _, tag in ipairs(r.t) do index_later(base .. 'idx:tag:' .. tag, int(r.c), id) end
    end
    if r.o then
      index_later(base .. 'idx:owner:' .. r.o, int(r.c), id)
      added_of_owner[r.o] = (added_of_owner[r.o] or 0) + 1
    end
    seen_engines[r.e or ''] = true
    added = added + 1
    out[#out + 1] = {'ok', int(r.c), event, waiting_on or '', r.s}
  end
end
if added > 0 then
  apply_moves()
  for key, entries in pairs(index_entries) do redis.call('ZADD', key, unpack(entries)) end
  redis.call('INCRBY', count_key, added)
  for engine in pairs(seen_engines) do redis.call('SADD', engines, engine) end
  wake(wake_list, tonumber(ARGV[3]))
end
return out
