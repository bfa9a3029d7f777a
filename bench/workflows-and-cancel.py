#!/usr/bin/env python3
"""Part 7 figures (issue 10):
  - how long a workflow's child waits after its parent completed (started_at of the child -
    finished_at of the parent), for 20 three-job echo chains, on the memory store and on Redis;
  - how long a cancel made through one instance takes to stop the process on another: an
    API-only noxd takes the cancel, a worker noxd on the same Redis runs a long xtb Hessian; the
    time from the cancel's answer to the worker's busy slot being free (10 trials). Before this
    part the kill waited for the next lease renewal: up to lease_s / 3 = 10 s with the defaults.
  bench/workflows-and-cancel.py          env: NOXD"""
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import noxbench as nb  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TRIACONTANE = open(os.path.join(HERE, "..", "tests", "fixtures", "molecules", "triacontane.xyz")).read()


def chain_waits(*args):
    noxd = nb.Noxd("--slots", 2, *args)
    conn = noxd.conn()
    waits = []
    for i in range(20):
        water = nb.echo_spec()
        body = {"jobs": {"a": water, "b": dict(water, depends_on=["a"]), "c": dict(water, depends_on=["b"])}}
        status, answer = nb.request(conn, "POST", "/workflows", json.dumps(body).encode())
        assert status == 202, answer
        ids = {j["name"]: j["job_id"] for j in json.loads(answer)["jobs"]}
        workflow = json.loads(answer)["workflow_id"]
        for _ in range(1000):
            if nb.get_json(conn, f"/workflows/{workflow}")["state"] == "completed":
                break
            time.sleep(0.01)
        jobs = {name: nb.get_json(conn, f"/jobs/{job_id}") for name, job_id in ids.items()}
        for parent, child in (("a", "b"), ("b", "c")):
            waits.append((nb.rfc3339_ms(jobs[child]["started_at"]) - nb.rfc3339_ms(jobs[parent]["finished_at"])) * 1000)
    noxd.stop()
    return sorted(waits)


def cancel_reach():
    redis = nb.Redis()
    try:
        api = nb.Noxd("--redis-url", redis.url, "--role", "api")
        worker = nb.Noxd("--redis-url", redis.url, "--role", "worker", "--slots", 1)
        front, back = api.conn(), worker.conn()
        times = []
        for _ in range(10):
            spec = {"engine": "xtb", "task": "hessian", "molecule": {"xyz": TRIACONTANE}, "cache": False}
            status, body = nb.request(front, "POST", "/jobs", json.dumps(spec).encode())
            assert status == 202, body
            job_id = json.loads(body)["job_id"]
            while nb.get_json(front, f"/jobs/{job_id}/status")["state"] != "running":
                time.sleep(0.01)
            time.sleep(0.3)
            status, body = nb.request(front, "POST", f"/jobs/{job_id}/cancel")
            cancelled = time.monotonic()
            assert status == 200, body
            while nb.get_json(back, "/health")["slots"]["busy"] != 0:
                time.sleep(0.002)
            times.append((time.monotonic() - cancelled) * 1000)
        api.stop()
        worker.stop()
        return sorted(times)
    finally:
        redis.stop()


def main():
    memory = chain_waits()
    redis = nb.Redis()
    try:
        on_redis = chain_waits("--redis-url", redis.url)
    finally:
        redis.stop()
    for store, waits in (("memory", memory), ("redis", on_redis)):
        print(f"FIGURE\tworkflow_child_start_{store}\tchild started after its parent finished: median "
              f"{statistics.median(waits):.0f} ms, max {waits[-1]:.0f} ms\t\t20 three-job echo chains (40 waits)")
    reach = cancel_reach()
    print(f"FIGURE\tcancel_other_instance\tprocess gone after the cancel answered: median {statistics.median(reach):.0f} ms, "
          f"max {reach[-1]:.0f} ms\tgoal < 1000 ms\tAPI-only noxd takes the cancel, worker noxd runs xtb (10 trials)")


if __name__ == "__main__":
    main()
