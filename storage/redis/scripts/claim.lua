-- Takes the best pending jobs: pending -> running with a lease, attempts + 1, appends
-- `started` for each. Jobs of the engines named in ARGV run in-process on the claiming
-- instance and count one each against `in_process_max`, the others their threads (`th`, at
-- most total_slots) against `max` (its free slots); at the first job whose kind has not enough
-- budget left the claim stops and the job goes back to its place (same member, same order).
-- 100 jobs per call at most.
-- KEYS: queue, leases, events, wake
-- Jobs of the excluded engines (an engine this instance's circuit breaker took out) stay in
-- the queue in their place; the claim looks past at most 200 of them.
-- ARGV: base, worker, lease_ms, events_maxlen, max, in_process_max, total_slots (0: one per
--       job), n excluded engines, the n excluded engine names..., in-process engine names...
-- -> {'ok', id, event_id, record[, id, event_id, record, ...]} | {'empty'}
local queue, leases, events, wake_list = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local base, worker = ARGV[1], ARGV[2]
local budget = {[false] = tonumber(ARGV[5]) or 1, [true] = tonumber(ARGV[6]) or 0}
local in_process = {}
local total_slots = tonumber(ARGV[7]) or 0
local excluded = {}
local n_excluded = tonumber(ARGV[8]) or 0
for i = 9, 8 + n_excluded do excluded[ARGV[i]] = true end
for i = 9 + n_excluded, #ARGV do in_process[ARGV[i]] = true end
local passed = {}  -- members of excluded engines' jobs, put back after the loop
local out = {'ok'}
local taken, stale = 0, 0
local now
local leased = {}  -- ZADD arguments for `leases`, sent once
local started_data  -- the `started` event's data up to the attempt
while taken < 100 and (budget[false] > 0 or budget[true] > 0) and stale < 1000 do
  local popped = redis.call('ZPOPMIN', queue)
  if #popped == 0 then break end
  local member = popped[1]
  local id = string.match(member, ':(.*)$')
  local job = base .. 'job:' .. id
  local r = load_job(job)
  -- Anything else is a stale entry (job gone, or re-queued under a new member): dropped.
  if r and r.s == 'pending' and r.q == member and excluded[r.e or ''] then
    passed[#passed + 1] = member
    if #passed >= 200 then break end
  elseif r and r.s == 'pending' and r.q == member then
    local kind = in_process[r.e or ''] == true
    local cost = 1
    if not kind and r.th then
      cost = r.th
      if total_slots > 0 and cost > total_slots then cost = total_slots end
    end
    if budget[kind] < cost then
      redis.call('ZADD', queue, 0, member)
      break
    end
    budget[kind] = budget[kind] - cost
    if not now then
      now = now_ms()
      started_data = '{"worker":' .. cjson.encode(worker) .. ',"attempt":'
    end
    local attempt = (r.a or 0) + 1
    local event = log_event(events, ARGV[4], 'started', id, 'running', now, started_data .. int(attempt) .. '}')
    r.s, r.w, r.a, r.b, r.q, r.x = 'running', worker, attempt, now, nil, nil
    r.h = history_plus(r.h, event)
    local blob = save_job(job, r)
    move_state_later(base, id, r, 'pending', 'running')
    leased[#leased + 1] = now + tonumber(ARGV[3])
    leased[#leased + 1] = id
    out[#out + 1] = id
    out[#out + 1] = event
    out[#out + 1] = blob
    taken = taken + 1
  else
    stale = stale + 1
  end
end
for _, member in ipairs(passed) do redis.call('ZADD', queue, 0, member) end
if taken > 0 then
  apply_moves()
  redis.call('ZADD', leases, unpack(leased))
end
if redis.call('ZCARD', queue) == 0 then redis.call('DEL', wake_list) end
if taken == 0 then return {'empty'} end
return out
