-- A token bucket shared by every instance (per-identity rate limits, issue 8): `rate` tokens a
-- second, at most `burst`, kept as {t tokens, u updated ms} in a hash that expires once it
-- would be full again (an idle identity costs nothing). Takes `cost` tokens when they are
-- there (a cost above the burst is taken from a full bucket, leaving it in debt).
-- KEYS: the bucket (<base>rate:<kind>:<identity>)
-- ARGV: base (unused), rate per second, burst, cost
-- -> 0 when taken, else the milliseconds until they would be there (nothing taken)
local bucket = KEYS[1]
local rate, burst, cost = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local now = now_ms()
local state = redis.call('HMGET', bucket, 't', 'u')
local tokens, updated = tonumber(state[1]), tonumber(state[2])
if not tokens then tokens, updated = burst, now end
if now > updated then tokens = math.min(burst, tokens + (now - updated) * rate / 1000) end
local needed = math.min(cost, burst)
if tokens < needed then
  return math.ceil((needed - tokens) * 1000 / rate)
end
tokens = tokens - cost
redis.call('HSET', bucket, 't', tostring(tokens), 'u', int(math.max(now, updated)))
redis.call('PEXPIRE', bucket, math.ceil((burst - tokens) * 1000 / rate) + 1000)
return 0
