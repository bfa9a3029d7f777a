#!/usr/bin/env python3
"""Echo round trip on a running noxd, shaped like the BullMQ anchor (bench.mjs adds N jobs
with addBulk in chunks of 1000, sequentially, on one connection): N water echo jobs sent
as POST /jobs/batch bodies of BATCH specs, one after the other on one keep-alive
connection; then GET /health is polled (every 5 ms) until nothing is pending or running.
Unlike BullMQ's script, Nox's workers run while the submits go on. Afterwards all records
are read back (GET /jobs) to check that every job completed.
With REDIS_PORT set, also sends INFO all to Redis right before the first POST and right when
the queue is empty (before the read-back) and reports the deltas (the two INFO commands also
bracket the measured part in a MONITOR log).
Prints one JSON line: add (submit) rate, round trip rate (first POST -> queue empty), counts.
With NOX_PID set, also noxd's CPU seconds over the same span.
BATCH=0 sends one POST /jobs per job instead (a job of no batch: no batch id, no batch index
entry), for bench/redis-memory-per-job.sh.
  [REDIS_PORT=...] [NOX_PID=...] roundtrip.py URL [N=10000] [BATCH=1000]"""
import http.client
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import noxbench as nb  # noqa: E402

url = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
batch = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
port = int(url.rsplit(":", 1)[1].strip("/"))


c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
redis_port = int(os.environ["REDIS_PORT"]) if os.environ.get("REDIS_PORT") else None
nox_pid = int(os.environ["NOX_PID"]) if os.environ.get("NOX_PID") else None  # for noxd's CPU seconds


def redis_info():
    """INFO all -> (commands incl. Lua-internal, used_cpu user+sys s, used_memory bytes)."""
    with socket.create_connection(("127.0.0.1", redis_port)) as r:
        r.sendall(b"INFO all\r\n")
        f = r.makefile("rb")
        size = int(f.readline()[1:])
        text = f.read(size + 2).decode()
    calls = cpu = mem = 0
    for line in text.splitlines():
        if line.startswith("cmdstat_"):
            calls += int(line.split("calls=")[1].split(",")[0])
        elif line.startswith(("used_cpu_sys:", "used_cpu_user:")):
            cpu += float(line.split(":")[1])
        elif line.startswith("used_memory:"):
            mem = int(line.split(":")[1])
    return calls, cpu, mem

body = json.dumps([nb.echo_spec() for _ in range(batch)]).encode()
single = json.dumps(nb.echo_spec()).encode()
ids = set()
errors = {}
info0 = redis_info() if redis_port else None
cpu0 = nb.cpu_seconds(nox_pid) if nox_pid else None
t0 = time.perf_counter()
for _ in range(n if batch == 0 else 0):
    status, resp = nb.request(c, "POST", "/jobs", single)
    if status == 202:
        ids.add(json.loads(resp)["job_id"])
    else:
        errors[status] = errors.get(status, 0) + 1
for i in range(0, n if batch > 0 else 0, max(batch, 1)):
    b = body if i + batch <= n else json.dumps([nb.echo_spec() for _ in range(n - i)]).encode()
    status, resp = nb.request(c, "POST", "/jobs/batch", b)
    if status == 202:
        ids.update(j["job_id"] for j in json.loads(resp)["jobs"])
    else:
        errors[status] = errors.get(status, 0) + 1
t1 = time.perf_counter()
t2 = nb.wait_idle(c, timeout=300)
info1 = redis_info() if redis_port else None
cpu1 = nb.cpu_seconds(nox_pid) if nox_pid else None
jobs = [j for j in nb.list_jobs(c) if j["job_id"] in ids]
states = {}
for j in jobs:
    states[j["state"]] = states.get(j["state"], 0) + 1
print(json.dumps({
    "jobs": n, "batch": batch, "accepted": len(ids), "errors": errors, "states": states,
    "add_per_s": len(ids) / (t1 - t0), "roundtrip_per_s": states.get("completed", 0) / (t2 - t0),
    "add_s": t1 - t0, "roundtrip_s": t2 - t0,
    **({"redis_commands": info1[0] - info0[0] - 1, "redis_cpu_s": info1[1] - info0[1],
        "redis_used_memory": info1[2] - info0[2]} if redis_port else {}),
    **({"noxd_cpu_s": cpu1 - cpu0} if nox_pid else {}),
}))
