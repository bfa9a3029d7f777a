-- Deletes a finished job with its artifacts and index entries; appends `deleted`.
-- KEYS: job, events
-- ARGV: base, id, events_maxlen
-- -> {'ok', event_id} | {'not_found'} | {'conflict', state}
local base, id = ARGV[1], ARGV[2]
local r = load_job(KEYS[1])
if not r then return {'not_found'} end
if not terminal[r.s] then return {'conflict', r.s} end
local event = log_event(KEYS[2], ARGV[3], 'deleted', id, r.s, now_ms(), '{}')
delete_job(base, id)
unindex_job(base, id, r)
return {'ok', event}
