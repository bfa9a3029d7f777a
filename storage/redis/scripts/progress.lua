-- Keeps the latest progress numbers on a running job and appends `progress`.
-- KEYS: job, events
-- ARGV: base, id, progress_json, events_maxlen
-- -> {'ok', event_id} | {'not_found'} | {'conflict', state}
local r = load_job(KEYS[1])
if not r then return {'not_found'} end
if r.s ~= 'running' then return {'conflict', r.s} end
local event = log_event(KEYS[2], ARGV[4], 'progress', ARGV[2], 'running', now_ms(), '{"progress":' .. ARGV[3] .. '}')
r.g = ARGV[3]
r.h = history_plus(r.h, event)
save_job(KEYS[1], r)
return {'ok', event}
