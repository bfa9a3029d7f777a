-- Removes finished jobs older than the retention period from one terminal state index
-- ("<base>idx:<completed|failed|cancelled>:<engine>"), with their artifacts and index
-- entries, appending `deleted` {"reason":"retention"}. The index is scored by created_at, and
-- no job finished before it was created, so only entries created before now - retention are
-- looked at, oldest first, `limit` at a time from `offset` (those kept: finished later).
-- KEYS: index, events
-- ARGV: base, retention_ms, limit, offset, events_maxlen
-- -> {removed, skipped, looked_at}
local index, events = KEYS[1], KEYS[2]
local base = ARGV[1]
local now = now_ms()
local cutoff = now - tonumber(ARGV[2])
local ids = redis.call('ZRANGEBYSCORE', index, '-inf', '(' .. int(cutoff), 'LIMIT', tonumber(ARGV[4]),
  tonumber(ARGV[3]))
local removed, skipped = 0, 0
for _, id in ipairs(ids) do
  local r = load_job(base .. 'job:' .. id)
  if not r or not terminal[r.s] or state_index(base, r.s, r.e) ~= index then
    redis.call('ZREM', index, id)  -- a stale entry (not the job's index any more)
  elseif (r.f or 0) < cutoff then
    log_event(events, ARGV[5], 'deleted', id, r.s, now, '{"reason":"retention"}')
    delete_job(base, id)
    unindex_job(base, id, r)
    removed = removed + 1
  else
    skipped = skipped + 1
  end
end
return {removed, skipped, #ids}
