-- Extends the lease of a job still running under this worker.
-- KEYS: job, leases
-- ARGV: base, id, worker, lease_ms
-- -> {'ok'} | {'not_found'} | {'conflict', state}
local f = redis.call('HMGET', KEYS[1], 'state', 'owner')
if not f[1] then return {'not_found'} end
if f[1] ~= 'running' or f[2] ~= ARGV[3] then return {'conflict', f[1]} end
redis.call('ZADD', KEYS[2], now_ms() + tonumber(ARGV[4]), ARGV[2])
return {'ok'}
