#!/usr/bin/env python3
"""Echo jobs submitted and completed per second, memory store (goal >= 50,000 jobs/s).

A. Batch: --jobs echo jobs (water, so spec and XYZ validation run) are sent as
   POST /jobs/batch bodies of --batch specs each, by --conns threads, each with its own
   keep-alive connection (http.client), taking the next batch until all are sent. The same
   pre-serialized body is reused (every POST still creates new jobs). A monitor thread polls
   GET /health every 5 ms; the run ends when all batches were answered and /health shows
   nothing pending or running. Afterwards every record is read back (GET /jobs paging) to
   check that all completed and to get the server's own started/finished times.
     submit rate      = jobs / (first request sent -> last 202 received), client clock
     completion rate  = jobs / (first started_at -> last finished_at), server records (ms)
     end-to-end rate  = jobs / (first request sent -> /health shows the queue empty)
B. Single: POST /jobs one job per request from wrk -t1 -c32 -d{--wrk-secs}s with
   bench/post.lua, on a fresh noxd; then the same drain wait and read-back.
Also: noxd CPU seconds per 1000 jobs and RSS growth per stored job.
Starts and stops its own noxd (--slots 2). Loopback only."""
import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import noxbench as nb  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("--jobs", type=int, default=100_000)
ap.add_argument("--batch", type=int, default=2000)
ap.add_argument("--conns", type=int, default=4)
ap.add_argument("--wrk-secs", type=int, default=10)
ap.add_argument("--wrk-conns", type=int, default=32)
args = ap.parse_args()
GOAL = 50_000


def verdict(rate):
    return "met" if rate >= GOAL else "MISSED"


def read_back(conn, expected_ids=None):
    """All records: (completed count, other-state counts, first started, last finished)."""
    jobs = nb.list_jobs(conn)
    states = {}
    for j in jobs:
        states[j["state"]] = states.get(j["state"], 0) + 1
    done = [j for j in jobs if j["state"] == "completed"]
    if expected_ids is not None:
        missing = expected_ids - {j["job_id"] for j in jobs}
        if missing:
            print(f"  {len(missing)} submitted ids not found in GET /jobs", flush=True)
    first = min(nb.rfc3339_ms(j["started_at"]) for j in done)
    last = max(nb.rfc3339_ms(j["finished_at"]) for j in done)
    return len(done), states, first, last


def batch_run():
    nox = nb.Noxd("--slots", 2)
    print(f"A. batch: {nox.banner}", flush=True)
    specs = [nb.echo_spec() for _ in range(args.batch)]
    body = json.dumps(specs).encode()
    n_batches = (args.jobs + args.batch - 1) // args.batch
    total = n_batches * args.batch
    # warm-up: one batch of 100, not counted
    c = nox.conn()
    status, _ = nb.request(c, "POST", "/jobs/batch", json.dumps(specs[:100]).encode())
    assert status == 202, status
    nb.wait_idle(c)
    warm = 100
    cpu0, rss0 = nb.cpu_seconds(nox.pid), nb.rss_kib(nox.pid)

    lock = threading.Lock()
    state = {"next": 0, "accepted": 0, "errors": {}, "last_resp": 0.0, "submitted_all": False,
             "max_pending": 0, "ids": set()}

    def submitter():
        conn = nox.conn()
        while True:
            with lock:
                i = state["next"]
                state["next"] += 1
            if i >= n_batches:
                return
            status, resp = nb.request(conn, "POST", "/jobs/batch", body)
            now = time.perf_counter()
            ids = re.findall(rb'"job_id":"([0-9a-f]{32})"', resp) if status == 202 else []
            with lock:
                state["last_resp"] = max(state["last_resp"], now)
                if status == 202:
                    state["accepted"] += len(ids)
                    state["ids"].update(ids)
                else:
                    state["errors"][status] = state["errors"].get(status, 0) + 1

    def monitor(done_evt):
        conn = nox.conn()
        while not done_evt.is_set():
            submitted_before = state["submitted_all"]
            h = nb.get_json(conn, "/health")
            q = h["queue"]
            state["max_pending"] = max(state["max_pending"], q["pending"])
            if submitted_before and q["pending"] == 0 and q["running"] == 0:
                state["t_idle"] = time.perf_counter()
                return
            time.sleep(0.005)

    threads = [threading.Thread(target=submitter) for _ in range(args.conns)]
    done_evt = threading.Event()
    mon = threading.Thread(target=monitor, args=(done_evt,))
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    mon.start()
    for t in threads:
        t.join()
    state["submitted_all"] = True
    mon.join(timeout=300)
    done_evt.set()
    t_idle = state.get("t_idle")
    cpu1, rss1 = nb.cpu_seconds(nox.pid), nb.rss_kib(nox.pid)
    accepted = state["accepted"]
    if state["errors"]:
        print(f"  non-202 answers: {state['errors']}", flush=True)
    completed, states, first, last = read_back(c, {i.decode() for i in state["ids"]})
    completed -= warm
    submit_rate = accepted / (state["last_resp"] - t0)
    completion_rate = completed / (last - first)
    e2e = completed / (t_idle - t0) if t_idle else 0.0
    print(f"  {args.conns} threads x keep-alive connection, POST /jobs/batch of {args.batch} water echo specs "
          f"({len(body)} bytes each), {n_batches} batches = {total} jobs", flush=True)
    print(f"  accepted {accepted}, completed {completed} (states of all records: {states}), "
          f"max pending seen {state['max_pending']}", flush=True)
    print(f"  submit {submit_rate:,.0f}/s ({state['last_resp'] - t0:.2f} s); completion {completion_rate:,.0f}/s "
          f"(server records, {last - first:.3f} s); end-to-end {e2e:,.0f}/s ({(t_idle or 0) - t0:.2f} s)", flush=True)
    busy = (cpu1 - cpu0) / (t_idle - t0) if t_idle else 0.0
    print(f"  noxd CPU {cpu1 - cpu0:.2f} s ({100 * busy:.0f}% of one core over the run; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores) = {1000 * (cpu1 - cpu0) / completed:.3f} CPU-ms per job "
          f"-> at most {completed / (cpu1 - cpu0):,.0f} jobs/s if noxd had a whole core; "
          f"RSS +{(rss1 - rss0) / 1024:.0f} MiB = {1024 * (rss1 - rss0) / completed:.0f} bytes per stored job", flush=True)
    how = f"batch {args.batch} x {args.conns} conns"
    nb.figure(f"echo submit rate ({how})", f"{submit_rate:,.0f}/s", f">= {GOAL:,}/s", verdict(submit_rate))
    nb.figure(f"echo completion rate ({how})", f"{completion_rate:,.0f}/s", f">= {GOAL:,}/s", verdict(completion_rate))
    nb.figure(f"echo end-to-end rate ({how}, {completed} jobs)", f"{e2e:,.0f}/s", f">= {GOAL:,}/s", verdict(e2e))
    nb.figure("noxd CPU per echo job, batch (-> jobs/s per CPU-second)",
              f"{1e6 * (cpu1 - cpu0) / completed:.1f} us ({completed / (cpu1 - cpu0):,.0f}/s)", f">= {GOAL:,}/s",
              verdict(completed / (cpu1 - cpu0)))
    nb.figure("noxd RSS per stored echo job (memory store)", f"{1024 * (rss1 - rss0) / completed:.0f} B", "", "")
    if completed != accepted:
        nb.figure("echo batch: jobs not completed", accepted - completed, "0", "BUG?")
    nox.stop()


def single_run():
    nox = nb.Noxd("--slots", 2)
    print(f"B. single POST /jobs: {nox.banner}", flush=True)
    c = nox.conn()
    lua = os.path.join(nb.BENCH_DIR, "post.lua")
    cpu0 = nb.cpu_seconds(nox.pid)
    t0 = time.perf_counter()
    out = subprocess.run(["wrk", "-t1", f"-c{args.wrk_conns}", f"-d{args.wrk_secs}s", "-s", lua, f"{nox.url}/jobs"],
                         capture_output=True, text=True, timeout=args.wrk_secs + 60).stdout
    t_wrk = time.perf_counter()
    t_idle = nb.wait_idle(c)
    cpu1 = nb.cpu_seconds(nox.pid)
    print("  " + "\n  ".join(l for l in out.splitlines() if l.strip()), flush=True)
    rps = float(re.search(r"Requests/sec:\s*([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    completed, states, first, last = read_back(c)
    drain = t_idle - t_wrk
    print(f"  wrk -t1 -c{args.wrk_conns} -d{args.wrk_secs}s -s post.lua: {rps:,.0f} req/s; "
          f"records {states}; queue empty {drain:.2f} s after wrk ended; "
          f"end-to-end {completed / (t_idle - t0):,.0f}/s; noxd CPU {1000 * (cpu1 - cpu0) / max(completed, 1):.3f} ms/job",
          flush=True)
    if non2xx:
        print(f"  non-2xx answers: {non2xx.group(1)}", flush=True)
    if errors:
        print(f"  {errors.group(0)}", flush=True)
    nb.figure(f"echo submit rate, single POST /jobs (wrk -c{args.wrk_conns})", f"{rps:,.0f} req/s", "", "")
    nb.figure("echo end-to-end, single POST /jobs", f"{completed / (t_idle - t0):,.0f}/s ({completed} jobs)", "", "")
    nox.stop()


batch_run()
single_run()
