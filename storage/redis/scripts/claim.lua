-- Takes the best pending jobs: pending -> running with a lease, attempts + 1, appends
-- `started` for each. Jobs of the engines named in ARGV run in-process on the claiming
-- instance and count one each against `in_process_max`, the others their threads (`th`, at
-- most total_slots) against `max` (its free slots); at the first job whose kind has not enough
-- budget left the claim stops and the job goes back to its place (same member, same order).
-- 100 jobs per call at most.
-- KEYS: queue, leases, events, wake
-- Routing: the claim takes the best head among the lanes (lib.lua's lane_of) this instance may
-- take from: not those requiring a compute tag it does not offer, of a queue it does not
-- serve, of a paused queue, nor of a queue running as many jobs as its concurrency allows
-- (against "run:<name>" of "<base>counts"). Jobs of an excluded engine (this instance's circuit breaker took it out)
-- stay in their place; the claim looks past at most 200 of them.
-- ARGV: base, worker, lease_ms, events_maxlen, max, in_process_max, total_slots (0: one per
--       job), n excluded engines, the names..., n offered compute tags, the tags..., n served
--       queues (0: all), the names..., in-process engine names...
-- -> {'ok', id, event_id, record[, id, event_id, record, ...]} | {'empty'}
local queue, leases, events, wake_list = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local base, worker, lease_ms = ARGV[1], ARGV[2], tonumber(ARGV[3])
local budget = {[false] = tonumber(ARGV[5]) or 1, [true] = tonumber(ARGV[6]) or 0}
local in_process = {}
local total_slots = tonumber(ARGV[7]) or 0
-- ARGV from 8 on: counted lists, each "n, n names", read into sets.
local at = 8
local function counted_set()
  local set, n = {}, tonumber(ARGV[at]) or 0
  for i = at + 1, at + n do set[ARGV[i]] = true end
  at = at + n + 1
  return set, n
end
local excluded = counted_set()
local offered = counted_set()
local served, n_served = counted_set()
for i = at, #ARGV do in_process[ARGV[i]] = true end
-- The queues' controls, "<base>queue_controls": name -> "paused" | "<concurrency>" | "paused <concurrency>".
local paused, limit = {}, {}
local control = redis.call('HGETALL', base .. 'queue_controls')
for i = 1, #control, 2 do
  local value = control[i + 1]
  if string.find(value, 'paused', 1, true) then paused[control[i]] = true end
  limit[control[i]] = tonumber(string.match(value, '%d+'))
end

-- The lanes (lib.lua's lane_of) this instance may take from: lane key -> queue name.
local function may_take_from(qn, tags)
  if paused[qn] or (n_served > 0 and not served[qn]) then return false end
  for tag in string.gmatch(tags, '[^,]+') do
    if not offered[tag] then return false end
  end
  return true
end
local lanes = {}
if may_take_from('default', '') then lanes[queue] = 'default' end
local registry = queue .. ':lanes'
local registered = redis.call('SMEMBERS', registry)
for _, lane in ipairs(registered) do
  local qn, tags = string.match(string.sub(lane, #queue + 2), '^([^|]*)|(.*)$')
  if qn and may_take_from(qn, tags) then lanes[lane] = qn end
end
-- With one lane to take from (the usual case) the claim pops it until it is empty; with more,
-- it compares their first members (heads) to take the best job of all.
local lane_count = 0
for _ in pairs(lanes) do lane_count = lane_count + 1 end
local heads = {}  -- lane -> its first member (true: not read, one lane), false when empty
local function read_head(lane)
  if lane_count == 1 then return end
  heads[lane] = redis.call('ZRANGE', lane, 0, 0)[1] or false
end
for lane in pairs(lanes) do
  heads[lane] = true
  read_head(lane)
end
local running_in = {}  -- queue -> its running jobs, read when first needed, counted up as claimed
local function at_limit(qn)
  if not limit[qn] then return false end
  running_in[qn] = running_in[qn] or tonumber(redis.call('HGET', base .. 'counts', 'run:' .. qn) or '0')
  return running_in[qn] >= limit[qn]
end
local function best_lane()
  local best, first
  for lane, qn in pairs(lanes) do
    local head = heads[lane]
    if head and (not first or head == true or head < first) and not at_limit(qn) then best, first = lane, head end
  end
  return best
end

-- With one lane, members are popped several at a time: first as many as the free slots could
-- take, plus one; once an in-process job (echo) was taken, as many as the whole budget could
-- (a claim of 30 echo jobs makes 2 ZPOPMIN calls instead of 30; one of an xtb job pops what it
-- did before). Those not taken go back to their places (same members, same order) after the loop.
local taken, stale = 0, 0
local popped, next_popped, took_in_process = {}, 1, false
local function pop(lane)
  if lane_count ~= 1 then return redis.call('ZPOPMIN', lane)[1] end
  if next_popped > #popped then
    local want = took_in_process and budget[false] + budget[true] or budget[false] + 1
    local reply = redis.call('ZPOPMIN', lane, int(math.max(math.min(want, 100 - taken), 1)))
    popped, next_popped = {}, 1
    for i = 1, #reply, 2 do popped[#popped + 1] = reply[i] end
  end
  local member = popped[next_popped]
  next_popped = next_popped + 1
  return member
end
local function put_back_popped(lane)
  local back = {}
  for i = next_popped, #popped do
    back[#back + 1] = '0'
    back[#back + 1] = popped[i]
  end
  if #back > 0 then redis.call('ZADD', lane, unpack(back)) end
  popped, next_popped = {}, 1
end

local passed = {}  -- {lane, member} of excluded engines' jobs, put back after the loop
local out = {'ok'}
local now
local leased = {}  -- ZADD arguments for `leases`, sent once
local started_data  -- the `started` event's data up to the attempt
while taken < 100 and (budget[false] > 0 or budget[true] > 0) and stale < 1000 do
  local lane = best_lane()
  if not lane then break end
  local member = pop(lane)
  if not member then
    heads[lane] = false
  else
    read_head(lane)
  end
  if not member and lane_count == 1 then break end
  local id = member and string.match(member, ':(.*)$')
  local job = member and (base .. 'job:' .. id)
  local r = member and load_job(job)
  -- Anything else is a stale entry (job gone, or re-queued under a new member): dropped.
  if r and r.s == 'pending' and r.q == member and excluded[r.e or ''] then
    passed[#passed + 1] = {lane, member}
    if #passed >= 200 then break end
  elseif r and r.s == 'pending' and r.q == member then
    local kind = in_process[r.e or ''] == true
    local cost = 1
    if not kind and r.th then
      cost = r.th
      if total_slots > 0 and cost > total_slots then cost = total_slots end
    end
    if budget[kind] < cost then
      if lane_count == 1 then
        next_popped = next_popped - 1  -- goes back with the rest popped
      else
        redis.call('ZADD', lane, '0', member)
      end
      break
    end
    budget[kind] = budget[kind] - cost
    if kind then took_in_process = true end
    local qn = lanes[lane]
    if running_in[qn] then running_in[qn] = running_in[qn] + 1 end
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
    leased[#leased + 1] = int(now + lease_ms)
    leased[#leased + 1] = id
    out[#out + 1] = id
    out[#out + 1] = event
    out[#out + 1] = blob
    taken = taken + 1
  elseif member then
    stale = stale + 1
  end
end
for lane in pairs(lanes) do put_back_popped(lane) end
for _, entry in ipairs(passed) do redis.call('ZADD', entry[1], '0', entry[2]) end
if taken > 0 then
  apply_moves()
  redis.call('ZADD', leases, unpack(leased))
end
-- Lanes left empty leave the registry (enqueue_member adds them back).
for _, lane in ipairs(registered) do
  if redis.call('EXISTS', lane) == 0 then redis.call('SREM', registry, lane) end
end
-- Nothing this instance may take is left: idle instances wait for the next enqueue's wake-up
-- (or their poll) instead of spinning on jobs only others may take.
local left = false
for lane in pairs(lanes) do
  if redis.call('EXISTS', lane) == 1 then
    left = true
    break
  end
end
if taken == 0 or not left then redis.call('DEL', wake_list) end
if taken == 0 then return {'empty'} end
return out
