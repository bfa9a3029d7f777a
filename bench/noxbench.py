"""Shared helpers for the Python bench scripts (stdlib only): start/stop noxd on a free
loopback port, small HTTP calls on keep-alive connections, paging through GET /jobs,
and /proc readings (CPU seconds, RSS) of a process."""
import atexit
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_DIR = os.path.dirname(BENCH_DIR)
NOXD = os.environ.get("NOXD", os.path.join(REPO_DIR, "build", "server", "noxd"))
WATER_XYZ = "3\nwater\nO 0 0 0.117\nH 0 0.757 -0.467\nH 0 -0.757 -0.467\n"
CLK_TCK = os.sysconf("SC_CLK_TCK")

_started = []
_dirs = []


def _cleanup():
    for proc in _started:
        if proc.poll() is None:
            proc.terminate()
    for proc in _started:
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for d in _dirs:
        shutil.rmtree(d, ignore_errors=True)


atexit.register(_cleanup)
# SIGTERM/SIGINT -> normal exit, so atexit stops what we started.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


class Noxd:
    """One noxd on 127.0.0.1 with a free port and a temp data/scratch dir."""

    def __init__(self, *args, env=None):
        self.dir = tempfile.mkdtemp(prefix="nox-bench-py.")
        _dirs.append(self.dir)
        cmd = [NOXD, "--listen", "127.0.0.1:0", "--data-dir", os.path.join(self.dir, "data"),
               "--scratch-dir", self.dir, "--log-level", "warn", *map(str, args)]
        self.stderr = open(os.path.join(self.dir, "stderr"), "wb")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.stderr,
                                     env={**os.environ, **env} if env else None)
        _started.append(self.proc)
        line = self.proc.stdout.readline().decode()
        m = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        if not m:
            self.stop()
            raise RuntimeError(f"noxd did not start: {line!r}")
        self.banner = line.strip()
        self.port = int(m.group(1))
        self.url = f"http://127.0.0.1:{self.port}"
        self.pid = self.proc.pid

    def conn(self, timeout=60):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Redis:
    """A throwaway redis-server on 127.0.0.1 (no persistence), for a bench run."""

    def __init__(self):
        self.port, self.dir = free_port(), tempfile.mkdtemp(prefix="nox-bench-redis.")
        _dirs.append(self.dir)
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", self.dir], stdout=subprocess.DEVNULL)
        _started.append(self.proc)
        time.sleep(0.5)
        self.url = f"redis://127.0.0.1:{self.port}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


class StaticNginx:
    """nginx (one worker, no access log, as ../shared/anchors/nginx-static) serving `body` at
    /body on 127.0.0.1: the anchor a Nox route is measured beside. None when nginx is missing."""

    @staticmethod
    def start(body, content_type="application/json"):
        if not shutil.which("nginx"):
            return None
        return StaticNginx(body, content_type)

    def __init__(self, body, content_type):
        self.port, self.dir = free_port(), tempfile.mkdtemp(prefix="nox-bench-nginx.")
        _dirs.append(self.dir)
        os.makedirs(os.path.join(self.dir, "html"))
        os.makedirs(os.path.join(self.dir, "logs"))
        with open(os.path.join(self.dir, "html", "body"), "wb") as f:
            f.write(body)
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""worker_processes 1;
daemon off;
pid {self.dir}/nginx.pid;
error_log {self.dir}/logs/error.log;
events {{ worker_connections 1024; }}
http {{ access_log off; server {{ listen 127.0.0.1:{self.port};
  location = /body {{ root {self.dir}/html; default_type "{content_type}"; }} }} }}
""")
        self.proc = subprocess.Popen(["nginx", "-c", conf, "-p", self.dir], stderr=subprocess.DEVNULL)
        _started.append(self.proc)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("nginx did not start")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def request(conn, method, path, body=None, headers=None):
    """One request on a keep-alive connection -> (status, body bytes)."""
    h = {"content-type": "application/json"} if body is not None else {}
    h.update(headers or {})
    conn.request(method, path, body=body, headers=h)
    r = conn.getresponse()
    return r.status, r.read()


def get_json(conn, path):
    status, body = request(conn, "GET", path)
    if status != 200:
        raise RuntimeError(f"GET {path}: {status} {body[:200]!r}")
    return json.loads(body)


def echo_spec(**extra):
    spec = {"engine": "echo", "task": "energy", "method": "gfn2", "molecule": {"xyz": WATER_XYZ}}
    spec.update(extra)
    return spec


def list_jobs(conn, state=None):
    """Every job record of GET /jobs (optionally one state), paging with limit=1000.
    If noxd closes the keep-alive connection between pages (seen once), says so and
    goes on with a new connection from the same cursor."""
    jobs, cursor = [], None
    while True:
        q = "/jobs?limit=1000" + (f"&state={state}" if state else "")
        if cursor:
            q += "&cursor=" + cursor
        try:
            page = get_json(conn, q)
        except (http.client.RemoteDisconnected, ConnectionResetError) as e:
            print(f"  NOTE: noxd closed a keep-alive connection during GET /jobs paging ({e!r}); retrying the page",
                  file=sys.stderr, flush=True)
            conn.close()
            page = get_json(conn, q)
        jobs.extend(page["jobs"])
        cursor = page.get("next_cursor")
        if not cursor:
            return jobs


def rfc3339_ms(s):
    """'2026-11-24T01:35:21.607Z' -> seconds since the epoch (float)."""
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def cpu_seconds(pid):
    """utime + stime of a process, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def minor_faults(pid, thread=None):
    """Page faults the process (or one of its threads) has taken that needed no disk (first
    touches of fresh memory)."""
    with open(f"/proc/{pid}/task/{thread}/stat" if thread else f"/proc/{pid}/stat") as f:
        # Field 10 (minflt), counted after the command name, which may hold spaces.
        return int(f.read().rsplit(")", 1)[1].split()[7])


def wait_idle(conn, timeout=120, poll=0.005):
    """Polls GET /health until nothing is pending or running; returns the time it saw that."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        h = get_json(conn, "/health")
        if h["queue"]["pending"] == 0 and h["queue"]["running"] == 0:
            return time.perf_counter()
        time.sleep(poll)
    raise TimeoutError("queue did not empty")


def figure(name, value, goal="", verdict=""):
    """One machine-readable result line; bench/run-all.sh collects them into the table."""
    print(f"FIGURE\t{name}\t{value}\t{goal}\t{verdict}", flush=True)
