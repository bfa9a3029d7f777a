#!/usr/bin/env python3
"""Part 6's two pool features, measured on one noxd (memory store, 2 slots):
  - the calculation cache: a GFN2 Hessian of caffeine computed once (submit to completed), then
    the same calculation submitted ROUNDS times (each answered `completed` from the cache: the
    POST's own time, files copied); and ROUNDS identical submissions while one is under way
    (joined: all complete when it does, one xtb run in all).
  - per-job threads: the same Hessian with "cache": false and threads 1 vs 2, alone on the
    server, alternating, ROUNDS each (wall time from the job's started_at to finished_at).
Prints one FIGURE line per measure.
  bench/cache-and-threads.py          env: NOXD, ROUNDS (default 5)"""
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import noxbench as nb  # noqa: E402

CAFFEINE = "CN1C=NC2=C1C(=O)N(C(=O)N2C)C"


def spec(**extra):
    s = {"engine": "xtb", "task": "hessian", "method": "gfn2", "molecule": {"smiles": CAFFEINE}}
    s.update(extra)
    return json.dumps(s).encode()


def submit(conn, body):
    t = time.perf_counter()
    status, answer = nb.request(conn, "POST", "/jobs", body)
    ms = (time.perf_counter() - t) * 1000
    if status != 202:
        raise RuntimeError(f"POST /jobs answered {status}: {answer[:300]!r}")
    return json.loads(answer), ms


def wait(conn, job_id):
    while True:
        job = nb.get_json(conn, f"/jobs/{job_id}")
        if job["state"] in ("completed", "failed", "cancelled"):
            return job
        time.sleep(0.02)


def main():
    rounds = int(os.environ.get("ROUNDS", "5"))
    noxd = nb.Noxd("--slots", 2, "--cache-scope", "owner")
    conn = noxd.conn()

    first, _ = submit(conn, spec())
    t0 = time.perf_counter()
    computed = wait(conn, first["job_id"])
    compute_s = time.perf_counter() - t0
    assert computed["state"] == "completed", computed["error"]
    # The same calculation as SMILES (built in 3-D again, ~0.25 s of RDKit) and as the XYZ the
    # first job stored (the cache's own cost: hash, index, copy of the files).
    xyz = computed["spec"]["molecule"]["xyz"]
    for form, body in (("SMILES", spec(name="again")), ("XYZ", spec(name="again", molecule={"xyz": xyz}))):
        hit_ms = []
        for _ in range(rounds):
            answer, ms = submit(conn, body)
            assert answer["state"] == "completed", answer
            hit_ms.append(ms)
        files = nb.get_json(conn, f"/jobs/{answer['job_id']}/artifacts")["artifacts"]
        size = sum(f["size"] for f in files)
        print(f"FIGURE\tcache_hit\tPOST of a cached calculation given as {form}: median {statistics.median(hit_ms):.1f} ms, "
              f"max {max(hit_ms):.1f} ms (answer `completed`, {len(files)} files, {size / 1024:.0f} KiB copied)\t"
              f"computing it: {compute_s:.1f} s submit to completed\tcaffeine GFN2 Hessian, {rounds} hits")

    # Joined: one calculation under way (another geometry: a new one), ROUNDS more submitted meanwhile.
    body = spec(method="gfn1")
    leader, _ = submit(conn, body)
    joined = [submit(conn, body)[0] for _ in range(rounds)]
    states = {j["state"] for j in joined}
    t0 = time.perf_counter()
    done = [wait(conn, j["job_id"]) for j in [leader] + joined]
    attempts = sum(j["attempts"] for j in done)
    print(f"FIGURE\tcache_join\t{rounds} submissions during one run answered {sorted(states)}; all "
          f"{len(done)} completed within {time.perf_counter() - t0:.1f} s of the last submission with "
          f"{attempts} engine run(s) in all\t\tcaffeine GFN1 Hessian")

    # Threads: alone on the server, alternating 1 and 2.
    walls = {1: [], 2: []}
    for _ in range(rounds):
        for threads in (1, 2):
            answer, _ = submit(conn, spec(cache=False, threads=threads))
            job = wait(conn, answer["job_id"])
            assert job["state"] == "completed", job["error"]
            walls[threads].append(nb.rfc3339_ms(job["finished_at"]) - nb.rfc3339_ms(job["started_at"]))
    one, two = statistics.median(walls[1]), statistics.median(walls[2])  # seconds
    print(f"FIGURE\tthreads\tcaffeine GFN2 Hessian alone: threads 1 median {one:.2f} s, threads 2 median "
          f"{two:.2f} s ({one / two:.2f}x)\t\t{rounds} alternating rounds, wall time started to finished")
    noxd.stop()


if __name__ == "__main__":
    main()
