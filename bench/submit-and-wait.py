#!/usr/bin/env python3
"""Submits COUNT copies of one job spec to a running noxd in one POST /jobs/batch and waits
until every one has finished, watching GET /events (subscribed before the submit, so no
event is missed). Prints one JSON line: wall time (client clock, from just before the POST
to the receipt of the last terminal event), states, and per-job figures read back from
GET /jobs/{id}: mean (finished_at - started_at) and the engine's own wall_time_s.
  submit-and-wait.py URL SPEC_JSON COUNT [TIMEOUT_S]
Used by bench/xtb-vs-direct.sh (and usable on its own)."""
import http.client
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import noxbench as nb  # noqa: E402

url, spec, count = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
timeout = float(sys.argv[4]) if len(sys.argv) > 4 else 600
port = int(url.rsplit(":", 1)[1].strip("/"))
TERMINAL = {"completed", "failed", "cancelled"}

sse = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
sse.request("GET", "/events", headers={"accept": "text/event-stream"})
stream = sse.getresponse()
assert stream.status == 200, stream.status
stream.fp.readline()  # "retry: ..." (the stream is open before we submit)

api = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
t0 = time.perf_counter()
status, body = nb.request(api, "POST", "/jobs/batch", json.dumps([spec] * count).encode())
t_submitted = time.perf_counter()
if status != 202:
    sys.exit(f"POST /jobs/batch: {status} {body[:300]!r}")
ids = {j["job_id"] for j in json.loads(body)["jobs"]}
finished, states = set(), {}
event, deadline = None, t0 + timeout
while len(finished) < len(ids) and time.perf_counter() < deadline:
    line = stream.fp.readline().decode()
    if not line:
        break
    if line.startswith("event:"):
        event = line[6:].strip()
    elif line.startswith("data:") and event in TERMINAL:
        data = json.loads(line[5:])
        if data["job_id"] in ids and data["job_id"] not in finished:
            finished.add(data["job_id"])
            states[event] = states.get(event, 0) + 1
t_done = time.perf_counter()
sse.close()

runs, engine_walls = [], []
for job_id in ids:
    job = nb.get_json(api, f"/jobs/{job_id}")
    if job.get("started_at") and job.get("finished_at"):
        runs.append(nb.rfc3339_ms(job["finished_at"]) - nb.rfc3339_ms(job["started_at"]))
    w = (job.get("result") or {}).get("wall_time_s")
    if isinstance(w, (int, float)):
        engine_walls.append(w)
print(json.dumps({
    "count": len(ids), "finished": len(finished), "states": states,
    "wall_s": t_done - t0, "submit_s": t_submitted - t0,
    "mean_run_s": sum(runs) / len(runs) if runs else None,
    "mean_engine_wall_s": sum(engine_walls) / len(engine_walls) if engine_walls else None,
}))
