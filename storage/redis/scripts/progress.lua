-- Keeps the latest progress numbers on a running job and appends `progress`.
-- KEYS: job, events
-- ARGV: base, id, progress_json, events_maxlen
-- -> {'ok', event_id} | {'not_found'} | {'conflict', state}
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {'not_found'} end
if state ~= 'running' then return {'conflict', state} end
redis.call('HSET', KEYS[1], 'progress', ARGV[3])
local event = add_event(ARGV[1], KEYS[2], ARGV[4], 'progress', ARGV[2], 'running', now_ms(), '{"progress":' .. ARGV[3] .. '}')
return {'ok', event}
