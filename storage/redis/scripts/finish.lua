-- Ends attempts of jobs running under their workers (several per call: RedisStore groups the
-- outcomes that arrive together): completed | failed, or back to pending (`retrying`) when the
-- failure is retryable and own attempts (attempts - lost) remain: max_attempts bounds the
-- job's own failures, attempts lost with their instance have their own budget (max_lost).
-- A job that runs again after a backoff is `scheduled` until retry_at (in the zset `scheduled`,
-- promote_due.lua queues it), and may run with a new spec (a rule of core/retry_policy.hpp).
-- KEYS: leases, queue, events, wake, scheduled
-- ARGV: base, events_maxlen, wake_cap, then per job 10 values: id, worker, outcome,
--       result (packed by RedisStore; '' for none), error_json ('null' for none),
--       retryable ('1'|'0'), result_summary_json, retry_at (ms; '0' at once), spec of the next
--       attempt (packed; '' unchanged), retry note (JSON members for the `retrying` event; '' none)
-- -> {answer per job}, each {'ok', event_id, record} | {'not_found'} | {'conflict', state}
local leases, queue, events, wake_list, scheduled = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local base, maxlen, wake_cap = ARGV[1], ARGV[2], tonumber(ARGV[3])
local now = now_ms()
local released = {}  -- members to ZREM from `leases`, sent once

local function finish_one(id, worker, outcome, result, err, retryable, summary, retry_at, spec, note)
  local job = base .. 'job:' .. id
  local r = load_job(job)
  if not r then return {'not_found'} end
  if r.s ~= 'running' or r.w ~= worker then return {'conflict', r.s} end
  local attempts = r.a or 0
  released[#released + 1] = id
  local from = r.s
  local event
  if result == '' then r.r = nil else r.r = result end
  if err == 'null' then r.x = nil else r.x = err end
  r.w = nil
  if outcome == 'failed' and retryable == '1' and attempts - (r.l or 0) < (r.ma or 1) then
    local due = tonumber(retry_at) or 0
    local state = due > now and 'scheduled' or 'pending'
    local extra = note ~= '' and (',' .. note) or ''
    event = log_event(events, maxlen, 'retrying', id, state, now,
      '{"error":' .. err .. ',"attempt":' .. int(attempts) .. extra .. '}')
    if spec ~= '' then r.sp, r.sb = spec, nil end
    r.s = state
    if state == 'scheduled' then
      redis.call('ZADD', scheduled, due, id)
    else
      r.q = enqueue_member(queue, id, r, event)
      wake(wake_list, wake_cap)
    end
  else
    local data
    if outcome == 'completed' then data = '{"result":' .. summary .. '}' else data = '{"error":' .. err .. '}' end
    event = log_event(events, maxlen, outcome, id, outcome, now, data)
    r.s = outcome
    r.f = now
  end
  r.h = history_plus(r.h, event)
  move_state_later(base, id, r, from, r.s)
  return {'ok', event, save_job(job, r)}
end

local out = {}
for i = 4, #ARGV - 9, 10 do
  out[#out + 1] = finish_one(ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5], ARGV[i + 6],
    ARGV[i + 7], ARGV[i + 8], ARGV[i + 9])
end
apply_moves()
if #released > 0 then redis.call('ZREM', leases, unpack(released)) end
return out
