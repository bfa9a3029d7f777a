// SSE fan-out benchmark driver: for each level N (a fresh noxd each time, started with
// --max-connections 19000):
//  1. idle: N subscribers on GET /events spread over P client processes (subscriber.mjs,
//     source addresses 127.0.0.2..127.0.0.(P+1)); server VmRSS before/after -> KiB per idle
//     subscriber;
//  2. load: a generator POSTs one echo job (water) every 1000/RATE ms for SECS s on a
//     keep-alive connection; each job makes 3 transitions (submitted, started, completed),
//     so RATE=33.3 jobs/s gives 100 transitions/s, all three of a job at the same instant.
//     Every subscriber should receive every event; per event delay = receive - "time".
//     Server CPU (utime+stime of the process, and of its busiest thread = the loop) and the
//     client processes' CPU over the phase.
// A level whose client processes were near a full core (> 85%) ends the ramp: higher levels
// get the idle (memory) measurement only. A server that falls behind does not end it.
// Each load phase is bounded: SECS of submitting, at most DRAIN s more for the submits'
// answers, then at most DRAIN s more for delivery.
// Prints a human summary and FIGURE lines. Usage (via run.sh, which raises ulimit -n):
//   node fanout.mjs --noxd PATH [--levels 1000,5000,18000] [--rate 33.3] [--secs 15]
import { spawn, fork } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const NOXD = arg('noxd', path.join(here, '..', '..', 'build', 'server', 'noxd'));
const LEVELS = arg('levels', '1000,5000,18000').split(',').map(Number);
const RATE = Number(arg('rate', '33.3'));
const SECS = Number(arg('secs', '15'));
const PER_PROC = Number(arg('per-proc', '4500'));
const DRAIN = Number(arg('drain', '15'));  // s to wait for delivery after the last submit
const CLK_TCK = 100;  // Linux USER_HZ
const WATER = '3\nwater\nO 0 0 0.117\nH 0 0.757 -0.467\nH 0 -0.757 -0.467\n';
const BODY = JSON.stringify({ engine: 'echo', task: 'energy', method: 'gfn2', molecule: { xyz: WATER } });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const figure = (name, value, goal = '', verdict = '') => console.log(`FIGURE\t${name}\t${value}\t${goal}\t${verdict}`);
let noxd = null, children = [], tmp = null;

function cleanup() {
  for (const c of children) { try { c.kill('SIGKILL'); } catch {} }
  children = [];
  if (noxd && noxd.exitCode === null) { try { noxd.kill('SIGKILL'); } catch {} }
  noxd = null;
  if (tmp) { fs.rmSync(tmp, { recursive: true, force: true }); tmp = null; }
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { cleanup(); process.exit(130); });

function startNoxd() {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nox-sse-'));
  noxd = spawn(NOXD, ['--listen', '127.0.0.1:0', '--max-connections', '19000', '--slots', '2',
    '--data-dir', path.join(tmp, 'data'), '--scratch-dir', tmp, '--log-level', 'warn'],
  { stdio: ['ignore', 'pipe', fs.openSync(path.join(tmp, 'stderr'), 'w')] });
  return new Promise((resolve, reject) => {
    let out = '';
    noxd.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/http:\/\/127\.0\.0\.1:(\d+)/);
      if (m) { noxd.stdout.removeAllListeners('data'); noxd.stdout.resume(); resolve(Number(m[1])); }
    });
    noxd.on('exit', (code) => reject(new Error(`noxd exited ${code}: ${out}`)));
  });
}

const rssKiB = (pid) => Number(fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]);
const statFields = (file) => fs.readFileSync(file, 'utf8').split(') ')[1].split(' ');
const statCpu = (file) => {
  const f = statFields(file);
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;  // utime + stime (fields 14, 15)
};
// schedstat: ns on the CPU, ns waiting on a run queue (runnable but not running)
const runqWait = (file) => Number(fs.readFileSync(file, 'utf8').split(' ')[1]) / 1e9;
function cpuSnapshot(pid) {
  const threads = {}, waits = {};
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      threads[tid] = statCpu(`/proc/${pid}/task/${tid}/stat`);
      waits[tid] = runqWait(`/proc/${pid}/task/${tid}/schedstat`);
    } catch {}
  }
  const f = statFields(`/proc/${pid}/stat`);
  return { total: statCpu(`/proc/${pid}/stat`), user: Number(f[11]) / CLK_TCK, sys: Number(f[12]) / CLK_TCK,
    threads, waits, t: performance.now() };
}
function cpuDelta(a, b) {
  let busiest = 0, loopTid = null;
  for (const [tid, v] of Object.entries(b.threads)) {
    if (v - (a.threads[tid] ?? 0) > busiest) { busiest = v - (a.threads[tid] ?? 0); loopTid = tid; }
  }
  const wall = (b.t - a.t) / 1000;
  const loopWait = loopTid ? (b.waits[loopTid] - (a.waits[loopTid] ?? 0)) / wall : 0;
  return { total: (b.total - a.total) / wall, loop: busiest / wall, loopWait, wall, seconds: b.total - a.total,
    user: (b.user - a.user) / wall, sys: (b.sys - a.sys) / wall };
}

function getJson(port, p) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: p, agent: false }, (res) => {
      let s = '';
      res.on('data', (d) => { s += d; });
      res.on('end', () => { try { resolve(JSON.parse(s)); } catch (e) { reject(e); } });
    }).on('error', reject);
  });
}

function ask(child, msg, type) {
  return new Promise((resolve) => {
    const on = (m) => { if (m.type === type) { child.off('message', on); resolve(m); } };
    child.on('message', on);
    child.send(msg);
  });
}

async function generate(port, secs) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const g = { sent: 0, accepted: 0, failed: 0, lastAccepted: 0, t0: performance.now(), agent };
  const t0 = g.t0;
  const post = () => new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/jobs', method: 'POST', agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY) } }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode === 202) { g.accepted++; g.lastAccepted = performance.now(); } else g.failed++;
        resolve();
      });
    });
    req.on('error', () => { g.failed++; resolve(); });
    req.end(BODY);
  });
  const pending = [];
  // Paced by the clock (not by setInterval drift): job k is due at t0 + k / RATE.
  while (performance.now() - t0 < secs * 1000) {
    const due = t0 + (g.sent * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    pending.push(post());
    g.sent++;
  }
  g.allAnswered = Promise.all(pending);
  return g;  // answers may still be coming: the caller waits (bounded) and destroys the agent
}

// Quantiles over the expected events: one not delivered in time counts as later than all.
function mergeQuantiles(reports, expected) {
  const hist = new Map();
  let total = 0, max = 0;
  for (const r of reports) {
    for (const [i, c] of r.hist) { hist.set(i, (hist.get(i) ?? 0) + c); total += c; }
    max = Math.max(max, r.max);
  }
  const keys = [...hist.keys()].sort((a, b) => a - b);
  const q = (p) => {
    let acc = 0;
    const want = Math.ceil(p * Math.max(expected, total));
    for (const k of keys) { acc += hist.get(k); if (acc >= want) return (k + 1) * 0.1; }
    return null;
  };
  return { total, p50: q(0.5), p99: q(0.99), max };
}

async function level(n, withLoad) {
  const port = await startNoxd();
  const pid = noxd.pid;
  const procs = Math.max(1, Math.ceil(n / PER_PROC));
  console.log(`== N=${n}: noxd pid ${pid} port ${port}; ${procs} client process(es), 127.0.0.2..127.0.0.${procs + 1}`);
  await sleep(500);
  await getJson(port, '/health');
  const rss0 = rssKiB(pid);
  children = [];
  for (let i = 0; i < procs; i++) children.push(fork(path.join(here, 'subscriber.mjs'), [], { stdio: 'inherit' }));
  const share = (i) => Math.floor(n / procs) + (i < n % procs ? 1 : 0);
  const t0 = performance.now();
  const opened = await Promise.all(children.map((c, i) =>
    ask(c, { cmd: 'open', port, n: share(i), localAddress: `127.0.0.${i + 2}` }, 'opened')));
  const ok = opened.reduce((a, o) => a + o.ok, 0), failed = opened.reduce((a, o) => a + o.failed, 0);
  const openSecs = (performance.now() - t0) / 1000;
  await sleep(2000);
  const rss1 = rssKiB(pid);
  const health = await getJson(port, '/health');
  const perSub = (rss1 - rss0) / Math.max(ok, 1);
  console.log(`   idle: ${ok} subscribed (${failed} failed) in ${openSecs.toFixed(1)} s; /health connections ${health.connections}; ` +
    `noxd RSS ${(rss0 / 1024).toFixed(1)} -> ${(rss1 / 1024).toFixed(1)} MiB = ${perSub.toFixed(2)} KiB per idle subscriber`);
  figure(`SSE RSS per idle subscriber (N=${ok})`, `${perSub.toFixed(2)} KiB`, '< 8 KiB', perSub < 8 ? 'met' : 'MISSED');
  const result = { n, ok, failed, perSub };
  if (!withLoad || ok === 0) {
    console.log('   load: not run at this N (a lower N was already limited; see above)');
    figure(`SSE delay p99 (N=${n})`, 'not measured (ramp stopped earlier)', '< 50 ms', 'not measured');
    await teardown();
    return result;
  }

  await Promise.all(children.map((c) => ask(c, { cmd: 'start' }, 'started')));
  const cpu0 = cpuSnapshot(pid);
  const gen = await generate(port, SECS);
  // A swamped loop answers the submits late: wait for the answers at most DRAIN s, then for
  // delivery of all their events to every subscriber at most DRAIN s more.
  await Promise.race([gen.allAnswered, sleep(DRAIN * 1000)]);
  let reports = [];
  const drainEnd = performance.now() + DRAIN * 1000;
  for (;;) {
    await sleep(100);
    reports = await Promise.all(children.map((c) => ask(c, { cmd: 'report' }, 'report')));
    if (reports.reduce((a, r) => a + r.events, 0) >= 3 * gen.accepted * ok || performance.now() > drainEnd) break;
  }
  gen.agent.destroy();
  gen.secs = (Math.max(gen.lastAccepted, gen.t0 + SECS * 1000) - gen.t0) / 1000;
  const unanswered = gen.sent - gen.accepted - gen.failed;
  // Jobs whose submit was never answered may exist and send events: count only up to expected.
  const expected = 3 * gen.accepted * ok;
  const cpu1 = cpuSnapshot(pid);
  const srv = cpuDelta(cpu0, cpu1);
  const q = mergeQuantiles(reports, expected);
  const closed = reports.reduce((a, r) => a + r.closed, 0);
  const clientCpu = reports.map((r) => r.cpu / r.wall);
  const received = Math.min(q.total, expected);
  const mbps = reports.reduce((a, r) => a + r.bytes, 0) / 1e6 / reports[0].wall;
  console.log(`   load: ${gen.sent} jobs sent over ${SECS} s at ${RATE} jobs/s, ${gen.accepted} accepted, last answer after ` +
    `${gen.secs.toFixed(1)} s -> ${(3 * gen.accepted / gen.secs).toFixed(0)} transitions/s made; ${gen.failed} failed submits, ` +
    `${unanswered} unanswered after ${DRAIN} s`);
  console.log(`   delivered ${received} of ${expected} events (${(100 * received / Math.max(expected, 1)).toFixed(2)}%), ` +
    `${(received / srv.wall).toFixed(0)} events/s to clients, ${mbps.toFixed(1)} MB/s; streams closed by server: ${closed}`);
  const fmt = (v) => (v === null ? `not delivered within ${DRAIN} s after the last answer` : `${v.toFixed(1)} ms`);
  console.log(`   delay p50 ${fmt(q.p50)}, p99 ${fmt(q.p99)}, max of delivered ${q.max.toFixed(1)} ms`);
  const usPerEvent = (1e6 * srv.seconds) / Math.max(received, 1);
  console.log(`   noxd CPU ${(100 * srv.total).toFixed(0)}% of a core (busiest thread = loop: ${(100 * srv.loop).toFixed(0)}%, ` +
    `runnable but waiting for a CPU ${(100 * srv.loopWait).toFixed(0)}% of the time); ` +
    `user ${(100 * srv.user).toFixed(0)}% + sys ${(100 * srv.sys).toFixed(0)}%; ${usPerEvent.toFixed(2)} CPU-us per delivered event; ` +
    `client processes CPU ${clientCpu.map((c) => (100 * c).toFixed(0) + '%').join(' ')}; load average ${os.loadavg()[0].toFixed(1)}`);
  const lossy = received < 0.999 * expected || closed > 0;
  const clientBound = clientCpu.some((c) => c > 0.85);
  figure(`SSE delay p50 / p99 (N=${ok}, ${(3 * gen.accepted / gen.secs).toFixed(0)} transitions/s)`,
    `${fmt(q.p50)} / ${fmt(q.p99)}`, 'p99 < 50 ms', q.p99 !== null && q.p99 < 50 && !lossy ? 'met' : 'MISSED');
  figure(`SSE events delivered (N=${ok})`, `${(100 * received / Math.max(expected, 1)).toFixed(2)}% (${closed} streams closed)`, '100%', lossy ? 'MISSED' : 'met');
  figure(`SSE noxd CPU (N=${ok}): process / loop thread`, `${(100 * srv.total).toFixed(0)}% / ${(100 * srv.loop).toFixed(0)}% of a core ` +
    `(${(100 * srv.sys).toFixed(0)}% sys; loop waiting for a CPU ${(100 * srv.loopWait).toFixed(0)}%; ${usPerEvent.toFixed(2)} us per delivered event)`, '', '');
  figure(`SSE client CPU (N=${ok}, ${children.length} procs)`, clientCpu.map((c) => (100 * c).toFixed(0) + '%').join(' '), '< 85% each', clientBound ? 'client-bound' : 'ok');
  Object.assign(result, { p50: q.p50, p99: q.p99, lossy, clientBound, serverCpu: srv.total });
  await teardown();
  return result;
}

async function teardown() {
  for (const c of children) { try { c.send({ cmd: 'exit' }); } catch {} }
  await sleep(300);
  cleanup();
  await sleep(500);
}

let load = true;
const results = [];
for (const n of LEVELS) {
  const r = await level(n, load);
  results.push(r);
  if (load && r.clientBound) {
    console.log(`   -> the client was (near) CPU-bound at N=${n}: higher N get the idle measurement only`);
    load = false;
  }
}
const last = results.filter((r) => r.ok).at(-1);
if (last) {
  const perSub = last.perSub;
  console.log(`per idle subscriber ${perSub.toFixed(2)} KiB -> 100,000 idle subscribers ~ ${(perSub * 100000 / 1024).toFixed(0)} MiB of noxd RSS ` +
    '(file descriptors permitting; kernel socket buffers not included)');
}
process.exit(0);
