// SSE load client process (forked by fanout.mjs): holds many GET /events streams on raw
// TCP sockets (net, one event loop, no per-connection parser objects) from one loopback
// source address, and measures per event: delay = receive time - the event's "time"
// (RFC 3339, ms; the server truncates to the ms, so delays read up to 1 ms high).
// Protocol over IPC: {cmd:'open', port, n, localAddress} -> {type:'opened', ok, failed};
// {cmd:'start'} zeroes counters; {cmd:'report'} -> {type:'report', ...stats}; {cmd:'exit'}.
import net from 'node:net';
import { performance } from 'node:perf_hooks';

const BUCKET_MS = 0.1;                 // histogram resolution
const hist = new Uint32Array(600001);  // 0 .. 60 s, last bucket = overflow
let events = 0, bytes = 0, closed = 0, byType = {};
let cpuStart = process.cpuUsage(), wallStart = performance.now();
const timeCache = new Map();           // "2026-...Z" -> epoch ms (many events share a time)
const sockets = [];

function epochMs(s) {
  let t = timeCache.get(s);
  if (t === undefined) {
    t = Date.parse(s);
    if (timeCache.size > 100000) timeCache.clear();
    timeCache.set(s, t);
  }
  return t;
}

// Handles the complete part of a stream's text (up to the last blank line).
function consume(text, now) {
  let i = 0;
  for (;;) {
    const e = text.indexOf('event: ', i);
    if (e < 0) return;
    const eol = text.indexOf('\n', e);
    const type = text.slice(e + 7, eol);
    const t = text.indexOf('"time":"', eol);
    if (t < 0) return;
    const delay = now - epochMs(text.slice(t + 8, t + 32));
    let b = Math.floor(delay / BUCKET_MS);
    if (b < 0) b = 0; else if (b >= hist.length) b = hist.length - 1;
    hist[b]++;
    events++;
    byType[type] = (byType[type] || 0) + 1;
    i = t + 32;
  }
}

function openOne(port, localAddress) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port, localAddress });
    let carry = '', connected = false;
    s.setNoDelay(true);
    s.on('connect', () => s.write('GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n'));
    s.on('data', (buf) => {
      const now = performance.timeOrigin + performance.now();
      bytes += buf.length;
      let text = carry + buf.toString('latin1');
      if (!connected) {
        if (text.indexOf('retry:') < 0) { carry = text; return; }
        connected = true;
        resolve(true);
      }
      const end = text.lastIndexOf('\n\n');
      if (end < 0) { carry = text; return; }
      consume(text.slice(0, end), now);
      carry = text.slice(end + 2);
    });
    s.on('error', () => { if (!connected) resolve(false); });
    s.on('close', () => { if (connected) closed++; else resolve(false); });
    sockets.push(s);
  });
}

async function open(port, n, localAddress) {
  let ok = 0, failed = 0, next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      (await openOne(port, localAddress)) ? ok++ : failed++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(200, n) }, worker));
  return { ok, failed };
}

function quantile(q, total) {
  let acc = 0;
  const want = Math.ceil(q * total);
  for (let i = 0; i < hist.length; i++) {
    acc += hist[i];
    if (acc >= want && acc > 0) return (i + 1) * BUCKET_MS;  // upper edge of the bucket
  }
  return null;
}

process.on('message', async (m) => {
  if (m.cmd === 'open') {
    const r = await open(m.port, m.n, m.localAddress);
    process.send({ type: 'opened', ...r });
  } else if (m.cmd === 'start') {
    hist.fill(0); events = 0; bytes = 0; closed = 0; byType = {};
    cpuStart = process.cpuUsage(); wallStart = performance.now();
    process.send({ type: 'started' });
  } else if (m.cmd === 'report') {
    const cpu = process.cpuUsage(cpuStart);
    const wall = (performance.now() - wallStart) / 1000;
    let max = 0;
    for (let i = hist.length - 1; i >= 0; i--) if (hist[i]) { max = (i + 1) * BUCKET_MS; break; }
    process.send({
      type: 'report', events, bytes, closed, byType, wall,
      cpu: (cpu.user + cpu.system) / 1e6,
      hist: Array.from(hist.entries()).filter(([, c]) => c).map(([i, c]) => [i, c]),
      p50: quantile(0.5, events), p99: quantile(0.99, events), max,
    });
  } else if (m.cmd === 'exit') {
    for (const s of sockets) s.destroy();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
