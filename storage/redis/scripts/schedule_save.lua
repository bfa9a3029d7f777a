-- Creates, saves (compare-and-set on the revision) or removes a recurring schedule. A schedule
-- is the hash "<base>schedule:<id>" {owner, body, next, paused, rev}; "<base>schedules" lists
-- the ids, "<base>schedules_due" holds the unpaused ones scored by their next fire time.
-- KEYS: schedule, schedules, schedules_due
-- ARGV: base, mode ('create' | 'save' | 'remove'), id, revision read (save), owner, body, next
--       fire time (ms), paused ('1' | '0'), max schedules (create)
-- -> {'ok', revision} | {'conflict', revision now} | {'not_found'} | {'full'}
local schedule, all, due = KEYS[1], KEYS[2], KEYS[3]
local mode, id = ARGV[2], ARGV[3]
local revision = tonumber(redis.call('HGET', schedule, 'rev') or '0')
if mode == 'create' then
  if revision > 0 then return {'conflict', revision} end
  if redis.call('SCARD', all) >= tonumber(ARGV[9]) then return {'full'} end
elseif revision == 0 then
  return {'not_found'}
elseif mode == 'remove' then
  redis.call('DEL', schedule)
  redis.call('SREM', all, id)
  redis.call('ZREM', due, id)
  return {'ok', revision}
elseif revision ~= tonumber(ARGV[4]) then
  return {'conflict', revision}
end
revision = revision + 1
redis.call('HSET', schedule, 'owner', ARGV[5], 'body', ARGV[6], 'next', ARGV[7], 'paused', ARGV[8], 'rev', revision)
redis.call('SADD', all, id)
if ARGV[8] == '1' then
  redis.call('ZREM', due, id)
else
  redis.call('ZADD', due, ARGV[7], id)
end
return {'ok', revision}
