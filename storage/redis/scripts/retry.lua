-- failed | cancelled -> pending, by hand (POST /jobs/{id}/retry): the same job runs again, its
-- history and attempts kept; the last result, error and progress go, and the spec is replaced
-- when a new one is given. Appends `retrying` {"by":"request", ...}.
-- KEYS: job, queue, events, wake
-- ARGV: base, id, events_maxlen, wake_cap, spec (packed; '' unchanged), event data (JSON)
-- -> {'ok', event_id, record} | {'not_found'} | {'conflict', state}
local job, queue, events, wake_list = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local base, id = ARGV[1], ARGV[2]
local r = load_job(job)
if not r then return {'not_found'} end
local state = r.s
if state ~= 'failed' and state ~= 'cancelled' then return {'conflict', state} end
local now = now_ms()
if ARGV[5] ~= '' then r.sp, r.sb = ARGV[5], nil end
r.s, r.f, r.b, r.x, r.r, r.g, r.cf, r.w = 'pending', nil, nil, nil, nil, nil, nil, nil
local event = log_event(events, ARGV[3], 'retrying', id, 'pending', now, ARGV[6])
r.h = history_plus(r.h, event)
r.q = enqueue_member(queue, id, r, event)
move_state(base, id, r, state, 'pending')
wake(wake_list, tonumber(ARGV[4]))
return {'ok', event, save_job(job, r)}
