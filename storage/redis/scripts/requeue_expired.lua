-- Takes back the running jobs of instances that are gone: every job of a worker whose
-- heartbeat ran out (at once, whatever its lease says), and jobs whose lease expired unless
-- their owner's heartbeat is still fresh (a live instance keeps its jobs; such a lease is
-- moved to the heartbeat's deadline and looked at again then). A job taken back goes to
-- pending (`retrying`) with lost + 1 while lost + 1 <= max_lost, else to failed with code
-- "lost". max_attempts is not spent: it bounds the job's own failures. At most `limit` jobs
-- per call. Time while nobody reached Redis does not count (shift_after_outage).
-- KEYS: leases, queue, events, wake, finished, workers, workers_seen
-- ARGV: base, events_maxlen, wake_cap, retention_ms, limit, outage_threshold_ms
-- -> {moved, looked_at}
local leases, queue, events, wake_list, finished = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local workers, seen = KEYS[6], KEYS[7]
local base = ARGV[1]
local limit = tonumber(ARGV[5])
local now = now_ms()
shift_after_outage(base, now, tonumber(ARGV[6]))

local candidates, taken = {}, {}
local function take(id)
  if not taken[id] and #candidates < limit then
    taken[id] = true
    candidates[#candidates + 1] = id
  end
end

-- Workers whose heartbeat ran out: their jobs are found among the leases (O(running jobs),
-- bounded by the slots of all instances) and the workers are forgotten once none is left.
local dead = redis.call('ZRANGEBYSCORE', seen, '-inf', '(' .. int(now), 'LIMIT', 0, 100)
if #dead > 0 then
  local is_dead = {}
  for _, w in ipairs(dead) do is_dead[w] = true end
  local all_taken = true
  for _, id in ipairs(redis.call('ZRANGE', leases, 0, -1)) do
    if is_dead[redis.call('HGET', base .. 'job:' .. id, 'owner') or ''] then
      if #candidates >= limit then
        all_taken = false
        break
      end
      take(id)
    end
  end
  if all_taken then
    redis.call('ZREM', seen, unpack(dead))
    redis.call('HDEL', workers, unpack(dead))
  end
end

-- Expired leases. An owner with a fresh heartbeat keeps its job.
local looked = 0
if #candidates < limit then
  local expired = redis.call('ZRANGEBYSCORE', leases, '-inf', '(' .. int(now), 'LIMIT', 0, limit - #candidates)
  looked = #expired
  for _, id in ipairs(expired) do
    local owner = redis.call('HGET', base .. 'job:' .. id, 'owner')
    local alive_until = owner and owner ~= '' and tonumber(redis.call('ZSCORE', seen, owner))
    if alive_until and alive_until >= now then
      redis.call('ZADD', leases, alive_until, id)
    else
      take(id)
    end
  end
end

local moved = 0
for _, id in ipairs(candidates) do
  redis.call('ZREM', leases, id)
  local job = base .. 'job:' .. id
  local f = redis.call('HMGET', job, 'state', 'attempts', 'lost', 'max_lost', 'priority', 'created_at')
  if f[1] == 'running' then
    local lost, max_lost = (tonumber(f[3]) or 0) + 1, tonumber(f[4]) or 3
    local created = tonumber(f[6]) or 0
    local err = lost_error(lost, max_lost)
    if lost <= max_lost then
      redis.call('HSET', job, 'state', 'pending', 'error', err, 'lost', int(lost))
      redis.call('HDEL', job, 'owner')
      move_state(base, id, created, 'running', 'pending')
      local event = add_event(base, events, ARGV[2], 'retrying', id, 'pending', now,
        '{"error":' .. err .. ',"attempt":' .. int(tonumber(f[2]) or 0) .. ',"lost":' .. int(lost) .. '}')
      enqueue(job, queue, id, tonumber(f[5]) or 0, event)
      wake(wake_list, tonumber(ARGV[3]))
    else
      redis.call('HSET', job, 'state', 'failed', 'error', err, 'lost', int(lost), 'finished_at', int(now))
      redis.call('HDEL', job, 'owner')
      redis.call('ZADD', finished, now, id)
      move_state(base, id, created, 'running', 'failed')
      add_event(base, events, ARGV[2], 'failed', id, 'failed', now, '{"error":' .. err .. '}')
      expire_job(base, id, tonumber(ARGV[4]))
    end
    moved = moved + 1
  end
end
-- A full batch tells the caller to call again.
if #candidates >= limit then looked = limit end
return {moved, looked}
