-- Gives job `to` the files of job `from`, copied inside Redis (the bytes never travel through
-- noxd): each artifact:<from>:<name> COPYed to artifact:<to>:<name> (replacing it), its entry
-- of the info hash with it. They live as long as `to` (lib.lua deletes them with it).
-- Replaying it leaves what running it once does.
-- KEYS: from's job, to's job, from's artifact index, to's artifact index
-- ARGV: base, from, to
-- -> {'ok'} | {'not_found', id}
if redis.call('EXISTS', KEYS[1]) == 0 then return {'not_found', ARGV[2]} end
if redis.call('EXISTS', KEYS[2]) == 0 then return {'not_found', ARGV[3]} end
local entries = redis.call('HGETALL', KEYS[3])
for i = 1, #entries, 2 do
  local name = entries[i]
  redis.call('COPY', ARGV[1] .. 'artifact:' .. ARGV[2] .. ':' .. name,
             ARGV[1] .. 'artifact:' .. ARGV[3] .. ':' .. name, 'REPLACE')
  redis.call('HSET', KEYS[4], name, entries[i + 1])
end
return {'ok'}
