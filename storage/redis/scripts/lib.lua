-- Helpers prepended to every other script (RedisStore loads "lib.lua" + "<name>.lua").
--
-- Keys: KEYS holds the fixed keys an operation touches; per-job keys are derived from the
-- base ARGV[1] ("<prefix>:{<prefix>}:"). Every key carries the same hash tag, so on Redis
-- Cluster they all live in one slot and the scripts stay valid there.
-- Times come from the Redis server clock (TIME), so that leases compare equal on every
-- instance however their own clocks drift.

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Lua numbers are doubles; '%d' prints millisecond times without an exponent. Numbers handed
-- to redis.call are turned into text by Redis with sprintf("%.17g"), which showed as ~4% of
-- Redis's CPU on the echo round trip: scores and times go as text made here, and the last one
-- made are kept (a script prints the same `now`, attempt or creation time for many jobs).
local int_texts, int_count = {}, 0
local function int(n)
  local text = int_texts[n]
  if not text then
    if int_count >= 256 then int_texts, int_count = {}, 0 end
    text = string.format('%d', n)
    int_texts[n] = text
    int_count = int_count + 1
  end
  return text
end

local function pad(s, width)
  return string.rep('0', width - #s) .. s
end

local terminal = {completed = true, failed = true, cancelled = true}

-- The record of a job (`job:<id>`, layout 2) is one string: a MessagePack map that
-- RedisStore writes (storage/redis/job_blob.hpp) and the scripts unpack, change and pack.
-- Keys, the same in job_blob.hpp; a field at its default is absent (nil):
--   s state   e engine   t tags (array)   c created_at   b started_at   f finished_at
--   a attempts   ma max_attempts   l lost   ml max_lost   p priority   w worker running it
--   o owner (the identity that submitted it; absent in open mode)
--   th threads (slots a claim costs)   rq compute tags it requires (array)   qn its queue (absent: default)
--     wo the job this one waits for (state waiting)   cf the job whose result it holds (the cache)
--   sp spec, r result (compressed by RedisStore; opaque here)   x error (JSON)   g progress (JSON)
--   sb instead of sp: a batch's job's spec less its batch_id (the job's id gives it); a script
--     that stores a new sp drops sb
--   q queue member (while pending)   h event history (see history_plus)
-- cmsgpack packs whole Lua numbers as integers, so times and counts stay integers.
local function load_job(job)
  local blob = redis.call('GET', job)
  if not blob then return nil end
  return cmsgpack.unpack(blob)
end

local function save_job(job, r)
  local blob = cmsgpack.pack(r)
  redis.call('SET', job, blob)
  return blob
end

-- Appends one event to the capped log; returns its id. A job's own events are found
-- through its record's history `h`, not by scanning the log.
local function log_event(events, maxlen, kind, id, state, time, data)
  return redis.call('XADD', events, 'MAXLEN', '~', maxlen, '*', 'type', kind, 'job_id', id, 'state', state,
    'time', int(time), 'data', data)
end

-- The history `h` holds the job's event ids as integers: {ms, seq, ms - previous ms, seq, ...}
-- (a few bytes per event instead of 16 characters). It keeps the first event (`submitted`)
-- and the newest ones, `history_cap` in all. Returns `h` with `event` ("<ms>-<seq>") added.
local history_cap = 200

local function history_plus(h, event)
  local dash = string.find(event, '-', 1, true)
  local ms, seq = tonumber(string.sub(event, 1, dash - 1)), tonumber(string.sub(event, dash + 1))
  if not h or #h == 0 then return {ms, seq} end
  local last = 0
  for i = 1, #h, 2 do last = last + h[i] end
  h[#h + 1] = ms - last
  h[#h + 1] = seq
  if #h / 2 > history_cap then
    -- Drop the second event (the first, `submitted`, stays); the third's offset absorbs its own.
    h[5] = h[3] + h[5]
    table.remove(h, 3)
    table.remove(h, 3)
  end
  return h
end

-- The queue is a zset with every score 0, so ZPOPMIN takes the lexicographically smallest
-- member: higher priority first (2^31-1 - priority, fixed width), then the order of the
-- event that enqueued the job (its stream id: monotonic even when TIME steps back).
local function queue_member(id, priority, event_id)
  local dash = string.find(event_id, '-', 1, true)
  return pad(int(2147483647 - priority), 10) .. pad(string.sub(event_id, 1, dash - 1), 15) ..
    pad(string.sub(event_id, dash + 1), 10) .. ':' .. id
end

-- The queue is in lanes, one zset per (queue name, compute tags required), so that a claim
-- looks only at the heads of the lanes its instance may take from, and a paused queue or
-- jobs for other machines hold up nothing behind them. The default lane (queue "default", no
-- tags) is the `queue` key itself; the others are "<queue>:<name>|<tag>,<tag>", listed in the
-- set "<queue>:lanes" while they may hold jobs.
local function lane_of(queue, r)
  local qn = r.qn or 'default'
  local tags = type(r.rq) == 'table' and #r.rq > 0 and table.concat(r.rq, ',') or nil
  if qn == 'default' and not tags then return queue end
  return queue .. ':' .. qn .. '|' .. (tags or '')
end

-- Queues the job in its lane; returns its member, which the caller stores as the record's `q`.
local function enqueue_member(queue, id, r, event_id)
  local member = queue_member(id, r.p or 0, event_id)
  local lane = lane_of(queue, r)
  if lane ~= queue then redis.call('SADD', queue .. ':lanes', lane) end
  redis.call('ZADD', lane, '0', member)
  return member
end

-- Wakes one idle instance blocked in BLPOP; the list is capped so tokens nobody waits for
-- cannot pile up (claim also clears it whenever the queue runs empty).
local function wake(list, cap)
  redis.call('LPUSH', list, '1')
  redis.call('LTRIM', list, 0, cap - 1)
end

-- Deletes the record and artifacts of a job and counts it out of `count` (max_jobs).
local function delete_job(base, id)
  local index = base .. 'artifacts:' .. id
  for _, name in ipairs(redis.call('HKEYS', index)) do
    redis.call('DEL', base .. 'artifact:' .. id .. ':' .. name)
  end
  if redis.call('DEL', index, base .. 'job:' .. id) > 0 then redis.call('DECR', base .. 'count') end
end

-- `lost`: how many attempts this job has now lost with their instance; `max_lost` its budget.
local function lost_error(lost, max_lost)
  return '{"code":"lost","message":"the instance running this job stopped (its attempts were lost ' ..
    int(lost) .. ' times; max_lost is ' .. int(max_lost) .. ')"}'
end

-- Secondary indexes, each a zset of job ids scored by created_at: one per (state, engine)
-- pair, "<base>idx:<state>:<engine>" (a job sits in exactly one), and one per tag,
-- "<base>idx:tag:<tag>", and one per owner, "<base>idx:owner:<owner>" (open mode's jobs have
-- no owner and no entry). RedisStore lists by one of them or merges several (all states of
-- an engine, all engines of a state, or all of them for an unfiltered list); the engines
-- ever seen are the set "<base>engines". Kept by the scripts that change what they index.
local function state_index(base, state, engine)
  return base .. 'idx:' .. state .. ':' .. (engine or '')
end

-- Unfinished (pending, scheduled, running, waiting) jobs in all, "<base>unfinished" (the
-- server's max_queued), and per owner, the hash "<base>unfinished_by_owner", owner -> count
-- (its max_queued per key); both read by create.lua. A move into the unfinished states counts
-- +1, out of them -1 (a count at 0 is removed).
local function unfinished_change(r, from, to)
  local was = from ~= nil and not terminal[from]
  local is = to ~= nil and not terminal[to]
  if was == is then return 0 end
  return is and 1 or -1
end

local function count_unfinished_total(base, delta)
  if delta == 0 then return end
  local key = base .. 'unfinished'
  if redis.call('INCRBY', key, delta) <= 0 then redis.call('DEL', key) end
end

local function count_unfinished(base, owner, delta)
  if delta == 0 or not owner then return end
  local key = base .. 'unfinished_by_owner'
  if redis.call('HINCRBY', key, owner, delta) <= 0 then redis.call('HDEL', key, owner) end
end

-- Running jobs per queue, the hash "<base>counts" ("run:<queue>"): what claim.lua holds
-- against a queue's concurrency, and GET /queue shows. (Pending jobs need no count: each lane
-- is a zset, and queue_overview.lua reads their sizes.) `deltas` gathers the changes of one
-- move, or of a whole script.
local function count_routing(r, state, delta, deltas)
  if state == 'running' then
    local field = 'run:' .. (r.qn or 'default')
    deltas[field] = (deltas[field] or 0) + delta
  end
end

local function apply_counts(base, deltas)
  local counts = base .. 'counts'
  for field, delta in pairs(deltas) do
    if delta ~= 0 and redis.call('HINCRBY', counts, field, delta) <= 0 then redis.call('HDEL', counts, field) end
  end
end

local function move_state(base, id, r, from, to)
  if from then redis.call('ZREM', state_index(base, from, r.e), id) end
  if to then redis.call('ZADD', state_index(base, to, r.e), int(r.c or 0), id) end
  local delta = unfinished_change(r, from, to)
  count_unfinished_total(base, delta)
  count_unfinished(base, r.o, delta)
  local deltas = {}
  count_routing(r, from, -1, deltas)
  count_routing(r, to, 1, deltas)
  apply_counts(base, deltas)
end

-- The same for scripts that move many jobs per call: the changes are gathered and sent as
-- one ZREM and one ZADD per index by apply_moves() (each redis.call costs ~1-2 us of Redis
-- CPU: per job, this saved a fifth of the work of a claim or a finish).
local removals, additions, owner_deltas, total_delta, moves_base = {}, {}, {}, 0, nil
local routing_deltas = {}

local function move_state_later(base, id, r, from, to)
  moves_base = base
  count_routing(r, from, -1, routing_deltas)
  count_routing(r, to, 1, routing_deltas)
  local delta = unfinished_change(r, from, to)
  if delta ~= 0 then
    total_delta = total_delta + delta
    if r.o then owner_deltas[r.o] = (owner_deltas[r.o] or 0) + delta end
    moves_base = base
  end
  if from then
    local key = state_index(base, from, r.e)
    local list = removals[key] or {}
    removals[key] = list
    list[#list + 1] = id
  end
  if to then
    local key = state_index(base, to, r.e)
    local list = additions[key] or {}
    additions[key] = list
    list[#list + 1] = int(r.c or 0)
    list[#list + 1] = id
  end
end

local function apply_moves()
  for key, ids in pairs(removals) do redis.call('ZREM', key, unpack(ids)) end
  for key, pairs_ in pairs(additions) do redis.call('ZADD', key, unpack(pairs_)) end
  if moves_base then count_unfinished_total(moves_base, total_delta) end
  for owner, delta in pairs(owner_deltas) do count_unfinished(moves_base, owner, delta) end
  if moves_base then apply_counts(moves_base, routing_deltas) end
  removals, additions, owner_deltas, total_delta, routing_deltas = {}, {}, {}, 0, {}
end

-- Drops a job from its state index and its tags' indexes.
local function unindex_job(base, id, r)
  redis.call('ZREM', state_index(base, r.s, r.e), id)
  if type(r.t) == 'table' then
    for _, tag in ipairs(r.t) do redis.call('ZREM', base .. 'idx:tag:' .. tag, id) end
  end
  if r.o then redis.call('ZREM', base .. 'idx:owner:' .. r.o, id) end
end

-- Time nobody reached Redis must not count against leases and heartbeats: every sweep and
-- heartbeat records Redis's clock in `clock`; when more than `threshold` ms passed since the
-- last record (Redis stopped, or no instance could reach it), every lease and heartbeat
-- deadline moves on by that gap. O(running jobs + workers), and only after an outage.
local function shift_after_outage(base, now, threshold)
  local clock = base .. 'clock'
  local last = tonumber(redis.call('GET', clock))
  redis.call('SET', clock, int(now))
  if not last or threshold <= 0 or now - last <= threshold then return 0 end
  local gap = now - last
  for _, key in ipairs({base .. 'leases', base .. 'workers_seen'}) do
    local entries = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
    for i = 1, #entries, 2 do
      redis.call('ZADD', key, tonumber(entries[i + 1]) + gap, entries[i])
    end
  end
  return gap
end

-- Exactly once under replay. RedisStore wraps the body of every state-changing script as
-- `local function nox_body() <body> end return nox_once(nox_body)` and appends the
-- operation's key ("<base>op:<op id>") as the LAST key and its time to live (ms) as the LAST
-- argument; both are removed here, so the body sees KEYS and ARGV as they are documented.
-- The first run's answer is recorded (MessagePack keeps integers, strings, nested arrays and
-- nil apart exactly) and a command re-issued after a timeout or a reconnect gets that answer
-- again instead of applying twice.
local function nox_once(body)
  local op = table.remove(KEYS)
  local ttl = table.remove(ARGV)
  local seen = redis.call('GET', op)
  if seen then return cmsgpack.unpack(seen) end
  local reply = body()
  redis.call('SET', op, cmsgpack.pack(reply), 'PX', ttl)
  return reply
end
