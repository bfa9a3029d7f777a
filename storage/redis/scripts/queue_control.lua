-- Changes a queue's controls in one step, so that two operators changing different controls at
-- once (one pauses, one sets the concurrency) both count. "<base>queue_controls" holds one field
-- per controlled queue, as claim.lua reads it: "paused", "<concurrency>" or "paused <concurrency>";
-- a queue back at the defaults loses its field. Wakes idle instances (a resumed queue's jobs wait).
-- KEYS: queue_controls, wake
-- ARGV: name, paused ('1' | '0' | '' unchanged), concurrency ('<n>', '0' no limit, '' unchanged), wake cap
-- -> {paused (1 | 0), concurrency}
local controls, wake_list = KEYS[1], KEYS[2]
local name = ARGV[1]
local value = redis.call('HGET', controls, name) or ''
local paused = string.find(value, 'paused', 1, true) ~= nil
local concurrency = tonumber(string.match(value, '%d+')) or 0
if ARGV[2] ~= '' then paused = ARGV[2] == '1' end
if ARGV[3] ~= '' then concurrency = tonumber(ARGV[3]) end
local parts = {}
if paused then parts[#parts + 1] = 'paused' end
if concurrency > 0 then parts[#parts + 1] = int(concurrency) end
if #parts == 0 then
  redis.call('HDEL', controls, name)
else
  redis.call('HSET', controls, name, table.concat(parts, ' '))
end
wake(wake_list, tonumber(ARGV[4]))
return {paused and 1 or 0, concurrency}
