-- Helpers prepended to every other script (RedisStore loads "lib.lua" + "<name>.lua").
--
-- Keys: KEYS holds the fixed keys an operation touches; per-job keys are derived from the
-- base ARGV[1] ("<prefix>:{<prefix>}:"). Every key carries the same hash tag, so on Redis
-- Cluster they all live in one slot and the scripts stay valid there.
-- Times come from the Redis server clock (TIME), so that leases compare equal on every
-- instance however their own clocks drift.
-- Job hash fields are those of core's job_to_record; `_q` (the job's queue member, only
-- while it is pending) is ours.

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Lua numbers are doubles; '%d' prints millisecond times without an exponent.
local function int(n)
  return string.format('%d', n)
end

local function pad(s, width)
  return string.rep('0', width - #s) .. s
end

local terminal = {completed = true, failed = true, cancelled = true}

-- Appends one event to the capped log and its id to the job's history (so that a job's
-- events are found without scanning the whole log); returns the event id. The history is
-- the field `_h` of the job's record, its event ids comma-separated (a field costs far less
-- than a list key per job); it keeps the first event (`submitted`) and the newest ones,
-- `history_cap` in all. Nothing is kept for a job without a record.
local history_cap = 200

-- Appends to the log only; returns the event id. The scripts that write the record anyway
-- add the id to `_h` in the same HSET (history_plus); add_event does both.
local function log_event(events, maxlen, kind, id, state, time, data)
  return redis.call('XADD', events, 'MAXLEN', '~', maxlen, '*', 'type', kind, 'job_id', id, 'state', state,
    'time', int(time), 'data', data)
end

-- The history `h` (the `_h` value, or nil) with `event` added.
local function history_plus(h, event)
  if not h or h == '' then return event end
  h = h .. ',' .. event
  local _, commas = string.gsub(h, ',', ',')
  if commas >= history_cap then
    -- Drop the second id: the first (`submitted`) stays.
    local a = string.find(h, ',', 1, true)
    local b = string.find(h, ',', a + 1, true)
    h = string.sub(h, 1, a) .. string.sub(h, b + 1)
  end
  return h
end

local function add_event(base, events, maxlen, kind, id, state, time, data)
  local event = log_event(events, maxlen, kind, id, state, time, data)
  local job = base .. 'job:' .. id
  local f = redis.call('HMGET', job, 'state', '_h')
  if f[1] then redis.call('HSET', job, '_h', history_plus(f[2], event)) end
  return event
end

-- The queue is a zset with every score 0, so ZPOPMIN takes the lexicographically smallest
-- member: higher priority first (2^31-1 - priority, fixed width), then the order of the
-- event that enqueued the job (its stream id: monotonic even when TIME steps back).
local function queue_member(id, priority, event_id)
  local dash = string.find(event_id, '-', 1, true)
  return pad(int(2147483647 - priority), 10) .. pad(string.sub(event_id, 1, dash - 1), 15) ..
    pad(string.sub(event_id, dash + 1), 10) .. ':' .. id
end

-- Queues the job; returns its member, which the caller stores as the record's `_q`.
local function enqueue_member(queue, id, priority, event_id)
  local member = queue_member(id, priority, event_id)
  redis.call('ZADD', queue, 0, member)
  return member
end

local function enqueue(job, queue, id, priority, event_id)
  redis.call('HSET', job, '_q', enqueue_member(queue, id, priority, event_id))
end

-- Wakes one idle instance blocked in BLPOP; the list is capped so tokens nobody waits for
-- cannot pile up (claim also clears it whenever the queue runs empty).
local function wake(list, cap)
  redis.call('LPUSH', list, '1')
  redis.call('LTRIM', list, 0, cap - 1)
end

-- A finished job's record and artifacts expire together after the retention time.
local function expire_job(base, id, ttl)
  if ttl <= 0 then return end
  local index = base .. 'artifacts:' .. id
  redis.call('PEXPIRE', base .. 'job:' .. id, ttl)
  for _, name in ipairs(redis.call('HKEYS', index)) do
    redis.call('PEXPIRE', base .. 'artifact:' .. id .. ':' .. name, ttl)
  end
  redis.call('PEXPIRE', index, ttl)
  redis.call('PEXPIRE', base .. 'history:' .. id, ttl)
end

local function delete_job(base, id)
  local index = base .. 'artifacts:' .. id
  for _, name in ipairs(redis.call('HKEYS', index)) do
    redis.call('DEL', base .. 'artifact:' .. id .. ':' .. name)
  end
  redis.call('DEL', index, base .. 'job:' .. id, base .. 'history:' .. id)
end

-- `lost`: how many attempts this job has now lost with their instance; `max_lost` its budget.
local function lost_error(lost, max_lost)
  return '{"code":"lost","message":"the instance running this job stopped (its attempts were lost ' ..
    int(lost) .. ' times; max_lost is ' .. int(max_lost) .. ')"}'
end

-- A record keeps no field at its default (JSON null, '' or core's default number): an absent
-- field reads as the default, and each field costs ~70 bytes in a hash. Sets `field` to
-- `value` through the pending HSET list `set`, or adds it to the HDEL list `clear`.
local function put(set, clear, field, value, default)
  if value == default then
    clear[#clear + 1] = field
  else
    set[#set + 1] = field
    set[#set + 1] = value
  end
end

local function apply(job, set, clear)
  if #set > 0 then redis.call('HSET', job, unpack(set)) end
  if #clear > 0 then redis.call('HDEL', job, unpack(clear)) end
end

-- Secondary indexes: one zset per state, engine and tag ("<base>idx:state:running", ...),
-- each scored by created_at like `jobs`, kept by the scripts that change what they index.
local function state_index(base, state)
  return base .. 'idx:state:' .. state
end

local function move_state(base, id, created, from, to)
  if from then redis.call('ZREM', state_index(base, from), id) end
  if to then redis.call('ZADD', state_index(base, to), created, id) end
end

-- The engine and tag index keys of a record's spec (JSON text); {} when it is unreadable.
local function spec_index_keys(base, spec_json)
  local ok, spec = pcall(cjson.decode, spec_json or '')
  local out = {}
  if not ok or type(spec) ~= 'table' then return out end
  if type(spec.engine) == 'string' then out[#out + 1] = base .. 'idx:engine:' .. spec.engine end
  if type(spec.tags) == 'table' then
    for _, tag in ipairs(spec.tags) do
      if type(tag) == 'string' then out[#out + 1] = base .. 'idx:tag:' .. tag end
    end
  end
  return out
end

-- Drops a job from every index (the state's, its engine's and tags', `jobs`, `finished`).
local function unindex_job(base, id, state, spec_json)
  for _, key in ipairs(spec_index_keys(base, spec_json)) do redis.call('ZREM', key, id) end
  if state then
    redis.call('ZREM', state_index(base, state), id)
  else
    for s in pairs(terminal) do redis.call('ZREM', state_index(base, s), id) end
  end
  redis.call('ZREM', base .. 'jobs', id)
  redis.call('ZREM', base .. 'finished', id)
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
