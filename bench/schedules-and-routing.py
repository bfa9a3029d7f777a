#!/usr/bin/env python3
"""Part 7 figures (issue 10), second half:
  - recurring schedules: how late each tick's job is created (created_at - tick) for an
    every-second schedule shared by three noxd on one Redis, over 30 ticks, and how many
    ticks made more than one job or none (goal: exactly one each);
  - GET /queue with 20,000 pending jobs in five lanes (queues and compute tags), on the memory
    store and on Redis: latency p50/p99 over 300 requests (it must not grow with the jobs);
  - routing: 2,000 echo jobs requiring a compute tag submitted to an instance without it, with
    a second instance offering it; how long until all completed, and that the tagged instance
    ran every one.
  bench/schedules-and-routing.py          env: NOXD"""
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import noxbench as nb  # noqa: E402


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def schedule_ticks():
    redis = nb.Redis()
    try:
        instances = [nb.Noxd("--redis-url", redis.url, "--slots", 2) for _ in range(3)]
        conn = instances[0].conn()
        status, body = nb.request(conn, "POST", "/schedules", json.dumps({"every_s": 1, "job": nb.echo_spec()}).encode())
        assert status == 201, body
        schedule = json.loads(body)
        sid, created = schedule["schedule_id"], nb.rfc3339_ms(schedule["created_at"])
        time.sleep(31.5)
        nb.request(conn, "POST", f"/schedules/{sid}/pause")
        state = nb.get_json(conn, f"/schedules/{sid}")
        jobs = nb.get_json(conn, f"/jobs?limit=200&tag=schedule:{sid}")["jobs"]
        lateness = []
        ticks = set()
        for job in jobs:
            full = nb.get_json(conn, f"/jobs/{job['job_id']}")
            made = nb.rfc3339_ms(full["created_at"])
            tick = created + round(made - created - 0.5)  # the tick it stands for (late by < 1 s)
            ticks.add(tick)
            lateness.append((made - tick) * 1000)
        last = nb.rfc3339_ms(state["last_fired_at"])
        expected = round(last - created)  # ticks 1 .. n
        for i in instances:
            i.stop()
        return lateness, len(jobs), len(ticks), expected, state["missed_ticks"]
    finally:
        redis.stop()


def queue_overview(*args):
    noxd = nb.Noxd("--slots", 1, *args)
    conn = noxd.conn()
    # Nothing may run: every job goes to a paused queue or requires a tag nobody offers.
    for q in ("nightly", "batch"):
        nb.request(conn, "POST", f"/queues/{q}/pause")
    kinds = [{"queue": "nightly"}, {"queue": "batch", "priority": 5}, {"requires": ["gpu"]},
             {"requires": ["big-memory"], "priority": -3}, {"queue": "nightly", "requires": ["gpu"]}]
    for k in range(20):
        specs = [nb.echo_spec(**kinds[(k * 1000 + i) % len(kinds)]) for i in range(1000)]
        status, body = nb.request(conn, "POST", "/jobs/batch", json.dumps(specs).encode())
        assert status == 202, body[:300]
    overview = nb.get_json(conn, "/queue")
    assert overview["states"]["pending"] == 20000, overview
    times = []
    for _ in range(300):
        t0 = time.perf_counter()
        nb.get_json(conn, "/queue")
        times.append((time.perf_counter() - t0) * 1000)
    noxd.stop()
    return times


def routing(redis_url):
    plain = nb.Noxd("--redis-url", redis_url, "--slots", 2)
    tagged = nb.Noxd("--redis-url", redis_url, "--slots", 2, "--tags", "big-memory")
    conn = plain.conn()
    tagged_id = nb.get_json(tagged.conn(), "/health")["worker_id"]
    t0 = time.perf_counter()
    for _ in range(2):
        specs = [nb.echo_spec(requires=["big-memory"]) for _ in range(1000)]
        status, body = nb.request(conn, "POST", "/jobs/batch", json.dumps(specs).encode())
        assert status == 202, body[:300]
    done = nb.wait_idle(conn)
    completed = nb.list_jobs(conn, "completed")
    assert len(completed) == 2000, f"{len(completed)} of 2000 completed when the queue looked empty"
    elsewhere = 0
    for job in completed[:200]:
        events = nb.request(conn, "GET", f"/jobs/{job['job_id']}/events")[1].decode()
        if f'"worker":"{tagged_id}"' not in events:
            elsewhere += 1
    plain.stop()
    tagged.stop()
    return done - t0, elsewhere


def main():
    lateness, jobs, distinct, expected, missed = schedule_ticks()
    nb.figure("schedule_tick_lateness", f"job created after its tick: median {statistics.median(lateness):.0f} ms, "
              f"max {max(lateness):.0f} ms", "< 1000 ms", "every_s 1, three noxd on one Redis, 30 ticks")
    nb.figure("schedule_exactly_once", f"{jobs} jobs for {expected} ticks ({distinct} distinct ticks, {missed} missed)",
              "one job per tick", "")
    memory = queue_overview()
    nb.figure("queue_overview_memory", f"GET /queue p50 {percentile(memory, 50):.2f} ms, p99 {percentile(memory, 99):.2f} ms",
              "< 10 ms", "20,000 pending jobs in 5 lanes, 300 requests")
    redis = nb.Redis()
    try:
        on_redis = queue_overview("--redis-url", redis.url)
        nb.figure("queue_overview_redis", f"GET /queue p50 {percentile(on_redis, 50):.2f} ms, "
                  f"p99 {percentile(on_redis, 99):.2f} ms", "< 20 ms", "20,000 pending jobs in 5 lanes, 300 requests")
    finally:
        redis.stop()
    redis = nb.Redis()
    try:
        seconds, elsewhere = routing(redis.url)
        nb.figure("routing_by_tag", f"2,000 echo jobs requiring a tag: all completed in {seconds:.2f} s; "
                  f"{elsewhere} of 200 sampled ran elsewhere than the tagged instance", "0 elsewhere",
                  "submitted to an instance without the tag")
    finally:
        redis.stop()


if __name__ == "__main__":
    main()
