-- Takes back the running jobs of instances that are gone: every job of a worker whose
-- heartbeat ran out (at once, whatever its lease says), and jobs whose lease expired unless
-- their worker's heartbeat is still fresh (a live instance keeps its jobs; such a lease is
-- moved to the heartbeat's deadline and looked at again then). A job taken back goes to
-- pending (`retrying`) with lost + 1 while lost + 1 <= max_lost, else to failed with code
-- "lost". max_attempts is not spent: it bounds the job's own failures. At most `limit` jobs
-- per call. Time while nobody reached Redis does not count (shift_after_outage).
-- KEYS: leases, queue, events, wake, workers, workers_seen
-- ARGV: base, events_maxlen, wake_cap, limit, outage_threshold_ms
-- -> {moved, looked_at}
local leases, queue, events, wake_list = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local workers, seen = KEYS[5], KEYS[6]
local base = ARGV[1]
local limit = tonumber(ARGV[4])
local now = now_ms()
shift_after_outage(base, now, tonumber(ARGV[5]))

local function worker_of(id)
  local r = load_job(base .. 'job:' .. id)
  return r and r.w
end

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
    if is_dead[worker_of(id) or ''] then
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

-- Expired leases. A worker with a fresh heartbeat keeps its job.
local looked = 0
if #candidates < limit then
  local expired = redis.call('ZRANGEBYSCORE', leases, '-inf', '(' .. int(now), 'LIMIT', 0, limit - #candidates)
  looked = #expired
  for _, id in ipairs(expired) do
    local worker = worker_of(id)
    local alive_until = worker and worker ~= '' and tonumber(redis.call('ZSCORE', seen, worker))
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
  local r = load_job(job)
  if r and r.s == 'running' then
    local lost, max_lost = (r.l or 0) + 1, r.ml or 3
    local err = lost_error(lost, max_lost)
    r.x, r.l, r.w = err, lost, nil
    local event
    if lost <= max_lost then
      event = log_event(events, ARGV[2], 'retrying', id, 'pending', now,
        '{"error":' .. err .. ',"attempt":' .. int(r.a or 0) .. ',"lost":' .. int(lost) .. '}')
      r.s = 'pending'
      r.q = enqueue_member(queue, id, r, event)
      wake(wake_list, tonumber(ARGV[3]))
    else
      event = log_event(events, ARGV[2], 'failed', id, 'failed', now, '{"error":' .. err .. '}')
      r.s, r.f = 'failed', now
    end
    r.h = history_plus(r.h, event)
    save_job(job, r)
    move_state(base, id, r, 'running', r.s)
    moved = moved + 1
  end
end
-- A full batch tells the caller to call again.
if #candidates >= limit then looked = limit end
return {moved, looked}
