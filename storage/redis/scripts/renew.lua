-- Extends the lease of a job still running under this worker.
-- KEYS: job, leases
-- ARGV: base, id, worker, lease_ms
-- -> {'ok'} | {'not_found'} | {'conflict', state}
local r = load_job(KEYS[1])
if not r then return {'not_found'} end
if r.s ~= 'running' or r.w ~= ARGV[3] then return {'conflict', r.s} end
redis.call('ZADD', KEYS[2], now_ms() + tonumber(ARGV[4]), ARGV[2])
return {'ok'}
