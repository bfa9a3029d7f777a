-- Publishes artifacts of an existing job whose bytes were uploaded beforehand, chunk by chunk,
-- to upload keys (so no command carries a whole file and no reader sees half of one). They
-- live as long as the job: deleting it (DELETE, retention sweep) deletes them. Replaying it is
-- harmless (an upload key already renamed is skipped).
-- KEYS: job, artifact index, then per artifact: its key, its upload key
-- ARGV: base, id, then per artifact: name, info_json ({size, media_type, sha256})
-- -> {'ok'} | {'not_found'}
local job, index = KEYS[1], KEYS[2]
local n = (#KEYS - 2) / 2
if redis.call('EXISTS', job) == 0 then
  for i = 1, n do redis.call('DEL', KEYS[2 + 2 * i]) end
  return {'not_found'}
end
for i = 1, n do
  local artifact, upload = KEYS[1 + 2 * i], KEYS[2 + 2 * i]
  if redis.call('EXISTS', upload) == 1 then
    redis.call('RENAME', upload, artifact)
    redis.call('PERSIST', artifact)  -- RENAME carried the upload key's safety expiry over
  end
  redis.call('HSET', index, ARGV[1 + 2 * i], ARGV[2 + 2 * i])
end
return {'ok'}
