-- GET /queue in one round trip (read-only). Pending jobs are counted in their lanes (lib.lua's
-- lane_of), by priority from the members' fixed-width priority prefix (one ZLEXCOUNT per
-- priority present); running jobs per queue are lib.lua's counts; the oldest pending job is
-- the head of each engine's pending index. O(lanes × priorities + engines), never per job.
-- KEYS: queue, counts, queue_controls, leases, scheduled, engines
-- ARGV: base
-- -> {lanes {queue, tags (comma-joined), pending, ...}, priorities {priority, pending, ...},
--     counts (flat), controls (flat), running, scheduled, waiting, oldest pending created_at (0: none)}
local queue, base = KEYS[1], ARGV[1]
local lanes, by_priority = {}, {}
local function count_lane(lane, qn, tags)
  local size = redis.call('ZCARD', lane)
  if size == 0 then return end
  lanes[#lanes + 1] = qn
  lanes[#lanes + 1] = tags
  lanes[#lanes + 1] = size
  local from = '-'
  for _ = 1, 2001 do  -- priorities run from -1000 to 1000
    local head = redis.call('ZRANGEBYLEX', lane, from, '+', 'LIMIT', 0, 1)[1]
    if not head then break end
    local prefix = string.sub(head, 1, 10)
    local above = prefix .. '\255'
    local priority = int(2147483647 - tonumber(prefix))
    by_priority[priority] = (by_priority[priority] or 0) + redis.call('ZLEXCOUNT', lane, '[' .. prefix, '(' .. above)
    from = '(' .. above
  end
end
count_lane(queue, 'default', '')
for _, lane in ipairs(redis.call('SMEMBERS', queue .. ':lanes')) do
  local qn, tags = string.match(string.sub(lane, #queue + 2), '^([^|]*)|(.*)$')
  if qn then count_lane(lane, qn, tags) end
end
local priorities = {}
for priority, n in pairs(by_priority) do
  priorities[#priorities + 1] = priority
  priorities[#priorities + 1] = n
end
local waiting, oldest = 0, 0
for _, engine in ipairs(redis.call('SMEMBERS', KEYS[6])) do
  waiting = waiting + redis.call('ZCARD', state_index(base, 'waiting', engine))
  local head = redis.call('ZRANGE', state_index(base, 'pending', engine), 0, 0, 'WITHSCORES')
  if #head > 0 then
    local created = tonumber(head[2])
    if oldest == 0 or created < oldest then oldest = created end
  end
end
return {lanes, priorities, redis.call('HGETALL', KEYS[2]), redis.call('HGETALL', KEYS[3]),
  redis.call('ZCARD', KEYS[4]), redis.call('ZCARD', KEYS[5]), waiting, oldest}
