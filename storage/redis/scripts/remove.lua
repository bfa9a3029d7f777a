-- Deletes a finished job with its artifacts and index entries; appends `deleted`.
-- KEYS: job, jobs, finished, events
-- ARGV: base, id, events_maxlen
-- -> {'ok', event_id} | {'not_found'} | {'conflict', state}
local base, id = ARGV[1], ARGV[2]
local f = redis.call('HMGET', KEYS[1], 'state', 'spec')
local state = f[1]
if not state then return {'not_found'} end
if not terminal[state] then return {'conflict', state} end
local event = add_event(ARGV[1], KEYS[4], ARGV[3], 'deleted', id, state, now_ms(), '{}')
delete_job(base, id)
unindex_job(base, id, state, f[2])
return {'ok', event}
