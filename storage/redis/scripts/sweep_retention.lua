-- Removes finished jobs older than the retention period (with their artifacts and index
-- entries, appending `deleted` {"reason":"retention"}), and the index entries of jobs whose
-- keys already expired on their own. Walks the `finished` zset from the oldest, `limit` at a time.
-- KEYS: jobs, finished, events
-- ARGV: base, retention_ms, key_ttl_ms (0: keys never expire), limit, offset, events_maxlen
-- -> {removed, skipped, looked_at}
local jobs, finished, events = KEYS[1], KEYS[2], KEYS[3]
local base = ARGV[1]
local now = now_ms()
local keep_for, ttl = tonumber(ARGV[2]), tonumber(ARGV[3])
local window = keep_for
if ttl > 0 and ttl < window then window = ttl end
local ids = redis.call('ZRANGEBYSCORE', finished, '-inf', '(' .. int(now - window), 'LIMIT', tonumber(ARGV[5]),
  tonumber(ARGV[4]))
local removed, skipped = 0, 0
for _, id in ipairs(ids) do
  local f = redis.call('HMGET', base .. 'job:' .. id, 'state', 'finished_at', 'spec')
  if not f[1] then
    -- Expired on its own: its engine and tags are unknown now; `list` skips those entries.
    delete_job(base, id)
    unindex_job(base, id, nil, nil)
    removed = removed + 1
  elseif not terminal[f[1]] then
    redis.call('ZREM', finished, id)  -- running again (retried): not finished any more
  elseif (tonumber(f[2]) or 0) < now - keep_for then
    add_event(ARGV[1], events, ARGV[6], 'deleted', id, f[1], now, '{"reason":"retention"}')
    delete_job(base, id)
    unindex_job(base, id, f[1], f[3])
    removed = removed + 1
  else
    skipped = skipped + 1
  end
end
return {removed, skipped, #ids}
