-- Ends attempts of jobs running under their workers (several per call: RedisStore groups the
-- outcomes that arrive together): completed | failed, or back to pending (`retrying`) when the
-- failure is retryable and own attempts (attempts - lost) remain: max_attempts bounds the
-- job's own failures, attempts lost with their instance have their own budget (max_lost).
-- KEYS: leases, queue, events, wake, finished
-- ARGV: base, retention_ms, events_maxlen, wake_cap, then per job 7 values: id, worker, outcome,
--       result_json, error_json, retryable ('1'|'0'), result_summary_json
-- -> {answer per job}, each {'ok', event_id, {hash field, value, ...}} | {'not_found'} | {'conflict', state}
local leases, queue, events, wake_list, finished = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local base, retention, maxlen, wake_cap = ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])

local function finish_one(id, worker, outcome, result, err, retryable, summary)
  local job = base .. 'job:' .. id
  local f = redis.call('HMGET', job, 'state', 'owner', 'attempts', 'max_attempts', 'priority', 'lost', 'created_at',
    '_h')
  if not f[1] then return {'not_found'} end
  if f[1] ~= 'running' or f[2] ~= worker then return {'conflict', f[1]} end
  local now = now_ms()
  local attempts = tonumber(f[3]) or 0
  local created = tonumber(f[7]) or 0
  redis.call('ZREM', leases, id)
  local event
  if outcome == 'failed' and retryable == '1' and attempts - (tonumber(f[6]) or 0) < (tonumber(f[4]) or 1) then
    move_state(base, id, created, 'running', 'pending')
    event = log_event(events, maxlen, 'retrying', id, 'pending', now,
      '{"error":' .. err .. ',"attempt":' .. int(attempts) .. '}')
    local set, clear = {'state', 'pending', '_h', history_plus(f[8], event),
      '_q', enqueue_member(queue, id, tonumber(f[5]) or 0, event)}, {'owner'}
    put(set, clear, 'result', result, 'null')
    put(set, clear, 'error', err, 'null')
    apply(job, set, clear)
    wake(wake_list, wake_cap)
  else
    local data
    if outcome == 'completed' then data = '{"result":' .. summary .. '}' else data = '{"error":' .. err .. '}' end
    event = log_event(events, maxlen, outcome, id, outcome, now, data)
    local set, clear = {'state', outcome, 'finished_at', int(now), '_h', history_plus(f[8], event)}, {'owner'}
    put(set, clear, 'result', result, 'null')
    put(set, clear, 'error', err, 'null')
    apply(job, set, clear)
    redis.call('ZADD', finished, now, id)
    move_state(base, id, created, 'running', outcome)
    expire_job(base, id, retention)
  end
  return {'ok', event, redis.call('HGETALL', job)}
end

local out = {}
for i = 5, #ARGV - 6, 7 do
  out[#out + 1] = finish_one(ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5], ARGV[i + 6])
end
return out
