-- Deletes a finished job with its artifacts and index entries; appends `deleted`.
-- KEYS: job, jobs, finished, events
-- ARGV: base, id, events_maxlen
-- -> {'ok', event_id} | {'not_found'} | {'conflict', state}
local base, id = ARGV[1], ARGV[2]
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {'not_found'} end
if not terminal[state] then return {'conflict', state} end
local event = add_event(ARGV[1], KEYS[4], ARGV[3], 'deleted', id, state, now_ms(), '{}')
delete_job(base, id)
redis.call('ZREM', KEYS[2], id)
redis.call('ZREM', KEYS[3], id)
return {'ok', event}
