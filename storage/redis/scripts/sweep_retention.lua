-- Removes finished jobs older than the retention period from one terminal state index
-- ("<base>idx:<completed|failed|cancelled>:<engine>"), with their artifacts and index
-- entries, appending `deleted` {"reason":"retention"}. The index is scored by created_at, and
-- no job finished before it was created, so only entries created before now - retention are
-- looked at, oldest first, `limit` at a time after the cursor: the last entry kept (it
-- finished later) by the previous call, found again by rank in O(log n) (an offset would walk
-- every kept entry again on each call).
-- KEYS: index, events
-- ARGV: base, retention_ms, limit, cursor_id ('' to start), events_maxlen
-- -> {removed, looked_at, cursor_id}
local index, events = KEYS[1], KEYS[2]
local base, limit, cursor = ARGV[1], tonumber(ARGV[3]), ARGV[4]
local now = now_ms()
local cutoff = now - tonumber(ARGV[2])
local entries
local rank = cursor ~= '' and redis.call('ZRANK', index, cursor)
if rank then
  entries = redis.call('ZRANGE', index, rank + 1, rank + limit, 'WITHSCORES')
else
  -- From the start (or the cursor's job was deleted meanwhile: start over, a few entries again).
  entries = redis.call('ZRANGE', index, '-inf', '(' .. int(cutoff), 'BYSCORE', 'LIMIT', 0, limit, 'WITHSCORES')
end
local removed, looked = 0, 0
for i = 1, #entries, 2 do
  local id = entries[i]
  if tonumber(entries[i + 1]) >= cutoff then break end
  looked = looked + 1
  local r = load_job(base .. 'job:' .. id)
  if not r or not terminal[r.s] or state_index(base, r.s, r.e) ~= index then
    redis.call('ZREM', index, id)  -- a stale entry (not the job's index any more)
  elseif (r.f or 0) < cutoff then
    log_event(events, ARGV[5], 'deleted', id, r.s, now, '{"reason":"retention"}')
    delete_job(base, id)
    unindex_job(base, id, r)
    removed = removed + 1
  else
    cursor = id
  end
end
return {removed, looked, cursor}
