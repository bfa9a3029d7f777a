-- Ends an attempt of a job running under this worker: completed | failed, or back to pending
-- (`retrying`) when the failure is retryable and attempts remain.
-- KEYS: job, leases, queue, events, wake, finished
-- ARGV: base, id, worker, outcome, result_json, error_json, retryable ('1'|'0'), retention_ms,
--       events_maxlen, wake_cap, result_summary_json
-- -> {'ok', event_id, {hash field, value, ...}} | {'not_found'} | {'conflict', state}
local job, leases, queue, events, wake_list, finished = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local base, id, worker, outcome = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local result, err = ARGV[5], ARGV[6]
local f = redis.call('HMGET', job, 'state', 'owner', 'attempts', 'max_attempts', 'priority')
if not f[1] then return {'not_found'} end
if f[1] ~= 'running' or f[2] ~= worker then return {'conflict', f[1]} end
local now = now_ms()
local attempts = tonumber(f[3]) or 0
redis.call('ZREM', leases, id)
local event
if outcome == 'failed' and ARGV[7] == '1' and attempts < (tonumber(f[4]) or 1) then
  redis.call('HSET', job, 'state', 'pending', 'owner', '', 'result', result, 'error', err)
  event = add_event(ARGV[1], events, ARGV[9], 'retrying', id, 'pending', now,
    '{"error":' .. err .. ',"attempt":' .. int(attempts) .. '}')
  enqueue(job, queue, id, tonumber(f[5]) or 0, event)
  wake(wake_list, tonumber(ARGV[10]))
else
  redis.call('HSET', job, 'state', outcome, 'owner', '', 'result', result, 'error', err, 'finished_at', int(now))
  redis.call('ZADD', finished, now, id)
  local data
  if outcome == 'completed' then data = '{"result":' .. ARGV[11] .. '}' else data = '{"error":' .. err .. '}' end
  event = add_event(ARGV[1], events, ARGV[9], outcome, id, outcome, now, data)
  expire_job(base, id, tonumber(ARGV[8]))
end
return {'ok', event, redis.call('HGETALL', job)}
