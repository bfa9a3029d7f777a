#!/usr/bin/env python3
"""Four concurrent downloads of a 50 MiB artifact, on each store: how long an unrelated
request (GET /jobs/{id}/status every 10 ms) waits meanwhile, and how much noxd's RSS grows.
Goals (issue 7): probe p99 < 20 ms, RSS growth < 20 MiB.

The artifact comes through the ordinary path: noxd runs a stand-in for xtb (the real xtb,
then `head -c SIZE /dev/urandom > density.cub`, a file the xtb engine keeps), so the runner
collects it, the store keeps it, and the route serves it. Downloads are curl processes
(-o /dev/null, as fast as the loopback allows); each is checked against the ETag when the
server sends a SHA-256 one.

    bench/artifact-downloads.py     env: NOXD (build/server/noxd), SIZE_MIB (50), ROUNDS (3),
                                        SKIP_REDIS=1
"""
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

import noxbench as nb

SIZE = int(os.environ.get("SIZE_MIB", "50")) * 1024 * 1024
ROUNDS = int(os.environ.get("ROUNDS", "3"))
DOWNLOADS = 4


def fake_xtb(directory):
    path = os.path.join(directory, "xtb")
    with open(path, "w") as f:
        f.write("#!/bin/sh\n"
                'if [ "$1" = "--version" ]; then exec /usr/bin/xtb --version; fi\n'
                '/usr/bin/xtb "$@"\nrc=$?\n'
                f"head -c {SIZE} /dev/urandom > density.cub\n"
                "exit $rc\n")
    os.chmod(path, 0o755)
    return path


def start_redis(directory):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    proc = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--dir", directory,
                             "--save", "", "--appendonly", "no", "--logfile", os.path.join(directory, "redis.log")])
    nb._started.append(proc)
    for _ in range(100):
        if subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).stdout.strip() == b"PONG":
            return port
        time.sleep(0.05)
    raise RuntimeError("redis-server did not start")


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))] if values else float("nan")


def run(label, *noxd_args):
    work = tempfile.mkdtemp(prefix="nox-bench-art.")
    nb._dirs.append(work)
    noxd = nb.Noxd("--slots", "1", "--xtb", fake_xtb(work), *noxd_args)
    conn = noxd.conn()
    spec = {"engine": "xtb", "task": "energy", "method": "gfn2", "molecule": {"xyz": nb.WATER_XYZ}}
    status, body = nb.request(conn, "POST", "/jobs", json.dumps(spec))
    job_id = json.loads(body)["job_id"]
    nb.wait_idle(conn)
    listing = nb.get_json(conn, f"/jobs/{job_id}/artifacts")
    sizes = {a["name"]: a["size"] for a in listing["artifacts"]}
    if sizes.get("density.cub") != SIZE:
        raise RuntimeError(f"{label}: no {SIZE}-byte density.cub: {sizes} "
                           f"(job: {nb.get_json(conn, f'/jobs/{job_id}')})")
    url = f"{noxd.url}/jobs/{job_id}/artifacts/density.cub"
    head = subprocess.run(["curl", "-s", "-o", "/dev/null", "-D", "-", url], capture_output=True, text=True).stdout
    etag = next((l.split(":", 1)[1].strip().strip('"') for l in head.splitlines() if l.lower().startswith("etag:")), "")

    def probe_loop(stop, latencies):
        c = noxd.conn()
        while not stop.is_set():
            t0 = time.perf_counter()
            nb.request(c, "GET", f"/jobs/{job_id}/status")
            latencies.append((time.perf_counter() - t0) * 1000)
            time.sleep(max(0.0, 0.010 - (time.perf_counter() - t0)))

    # Idle reference for the probe.
    idle = []
    stop = threading.Event()
    t = threading.Thread(target=probe_loop, args=(stop, idle))
    t.start()
    time.sleep(1.0)
    stop.set()
    t.join()

    rss_before = nb.rss_kib(noxd.pid)
    rss_peak = rss_before
    busy = []
    stop = threading.Event()
    t = threading.Thread(target=probe_loop, args=(stop, busy))
    t.start()
    t0 = time.perf_counter()
    ok = True
    for _ in range(ROUNDS):
        procs = [subprocess.Popen(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", url],
                                  stdout=subprocess.PIPE, text=True) for _ in range(DOWNLOADS)]
        while any(p.poll() is None for p in procs):
            rss_peak = max(rss_peak, nb.rss_kib(noxd.pid))
            time.sleep(0.005)
        for p in procs:
            out = p.stdout.read().split()
            ok = ok and out == ["200", str(SIZE)]
    elapsed = time.perf_counter() - t0
    stop.set()
    t.join()
    # One more download, hashed, against the ETag (a SHA-256 one only).
    data = subprocess.run(["curl", "-s", url], capture_output=True).stdout
    digest = hashlib.sha256(data).hexdigest()
    etag_note = ("ETag = SHA-256 of the body" if etag == digest
                 else f"ETag {etag[:20]} is not the body's SHA-256")
    noxd.stop()

    growth = (rss_peak - rss_before) / 1024
    p99 = percentile(busy, 99)
    mb = ROUNDS * DOWNLOADS * SIZE / 1e6
    print(f"== {label}: {ROUNDS} rounds of {DOWNLOADS} concurrent downloads of {SIZE >> 20} MiB "
          f"({mb / elapsed:.0f} MB/s in all), all complete: {ok}; {etag_note}")
    print(f"   probe idle: p50 {percentile(idle, 50):.2f} ms, p99 {percentile(idle, 99):.2f} ms ({len(idle)} requests)")
    print(f"   probe during downloads: p50 {percentile(busy, 50):.2f} ms, p99 {p99:.2f} ms, "
          f"max {max(busy):.2f} ms ({len(busy)} requests)")
    print(f"   noxd RSS: {rss_before / 1024:.0f} MiB before, {rss_peak / 1024:.0f} MiB peak (+{growth:.0f} MiB)")
    nb.figure(f"probe p99 during 4x{SIZE >> 20} MiB downloads, {label} (ms)", f"{p99:.1f}", "< 20",
              "met" if p99 < 20 else "MISSED")
    nb.figure(f"RSS growth during 4x{SIZE >> 20} MiB downloads, {label} (MiB)", f"{growth:.0f}", "< 20",
              "met" if growth < 20 else "MISSED")


def main():
    run("memory store")
    if os.environ.get("SKIP_REDIS") != "1":
        work = tempfile.mkdtemp(prefix="nox-bench-redis.")
        nb._dirs.append(work)
        port = start_redis(work)
        run("Redis store", "--redis-url", f"redis://127.0.0.1:{port}/0")


if __name__ == "__main__":
    sys.exit(main())
