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

-- Appends one event to the capped log and its id to the job's history list (so that a
-- job's events are found without scanning the whole log); returns the event id.
local function add_event(base, events, maxlen, kind, id, state, time, data)
  local event = redis.call('XADD', events, 'MAXLEN', '~', maxlen, '*', 'type', kind, 'job_id', id, 'state', state,
    'time', int(time), 'data', data)
  redis.call('RPUSH', base .. 'history:' .. id, event)
  return event
end

-- The queue is a zset with every score 0, so ZPOPMIN takes the lexicographically smallest
-- member: higher priority first (2^31-1 - priority, fixed width), then the order of the
-- event that enqueued the job (its stream id: monotonic even when TIME steps back).
local function enqueue(job, queue, id, priority, event_id)
  local dash = string.find(event_id, '-', 1, true)
  local member = pad(int(2147483647 - priority), 10) .. pad(string.sub(event_id, 1, dash - 1), 15) ..
    pad(string.sub(event_id, dash + 1), 10) .. ':' .. id
  redis.call('ZADD', queue, 0, member)
  redis.call('HSET', job, '_q', member)
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

local function lost_error(attempts, max_attempts)
  return '{"code":"lost","message":"the instance running this job stopped renewing its lease (attempt ' ..
    int(attempts) .. ' of ' .. int(max_attempts) .. ')"}'
end
