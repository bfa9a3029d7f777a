#!/usr/bin/env node
// The SSE streams seen by Node's `eventsource` package (a second opinion beside the C++ tests):
// one job's stream replays submitted, started, completed with increasing ids; resuming with
// Last-Event-ID (header, then ?last_event_id=) delivers only the later events, no duplicate;
// GET /events shows the same job's transitions live; a stale Last-Event-ID gets 'reset'.
//
//   NOX_URL=http://127.0.0.1:PORT node tests/browser/sse.test.mjs
import { baseUrl, loadPackage, ok, done, fail, postJson, compareEventIds, withTimeout, WATER_XYZ } from './support.mjs';

const TERMINAL = new Set(['completed', 'failed', 'cancelled', 'deleted']);
const TYPES = ['submitted', 'scheduled', 'started', 'progress', 'completed', 'failed', 'cancelled', 'retrying', 'deleted',
  'reset'];
const QUIET_MS = 1000; // how long to keep listening after the terminal event, to catch duplicates
const WAIT_MS = 30000;

const { EventSource } = await loadPackage('eventsource');
const base = baseUrl();

// Collects events from url until a terminal event of jobId, then listens QUIET_MS more.
function collect(url, { jobId, headers = {}, onOpen } = {}) {
  const events = [];
  const source = new EventSource(url, {
    fetch: (input, init) => fetch(input, { ...init, headers: { ...init.headers, ...headers } }),
  });
  const finished = new Promise((resolve, reject) => {
    let terminalSeen = false;
    source.addEventListener('open', () => onOpen && onOpen());
    source.addEventListener('error', (err) => {
      // After the terminal event the server ends a job stream: the client would reconnect.
      if (!terminalSeen) reject(new Error(`stream ${url} failed: ${err.message || err.code || 'error event'}`));
    });
    for (const type of TYPES) {
      source.addEventListener(type, (message) => {
        let data = null;
        try {
          data = JSON.parse(message.data);
        } catch {
          reject(new Error(`event ${type} (id ${message.lastEventId}) has data that is not JSON: ${message.data}`));
          return;
        }
        if (jobId && data.job_id !== jobId) return;
        events.push({ type, id: message.lastEventId, data });
        if (TERMINAL.has(type) && !terminalSeen) {
          terminalSeen = true;
          setTimeout(resolve, QUIET_MS);
        }
      });
    }
  });
  return withTimeout(finished, WAIT_MS + QUIET_MS, `the terminal event on ${url}`)
    .then(() => events)
    .finally(() => source.close());
}

const echoSpec = (name) => ({ engine: 'echo', task: 'energy', method: 'gfn2', molecule: { xyz: WATER_XYZ },
  charge: 0, multiplicity: 1, name, tags: ['sse-test'] });

async function submit(name) {
  const response = await postJson(`${base}/jobs`, echoSpec(name));
  if (response.status !== 202) fail(`POST /jobs answered ${response.status}, not 202: ${response.text}`);
  const id = response.json && response.json.job_id;
  if (!/^[0-9a-f]{32}$/.test(id || '')) fail(`POST /jobs gave no job_id: ${response.text}`);
  return id;
}

const describe = (events) => events.map((e) => `${e.type}#${e.id}`).join(', ');

try {
  // 1. One job's stream, subscribed after submitting: the history is replayed, then it ends.
  const jobId = await submit('sse test: history');
  ok(true, `submitted echo job ${jobId}`);
  const first = await collect(`${base}/jobs/${jobId}/events`, { jobId });
  ok(first.map((e) => e.type).join(',') === 'submitted,started,completed',
    `GET /jobs/{id}/events gives exactly submitted, started, completed (got ${describe(first)})`);
  ok(first.every((e) => /^\d+(-\d+)?$/.test(e.id)), `every event has a store sequence id (${first.map((e) => e.id).join(', ')})`);
  ok(first.every((e, i) => i === 0 || compareEventIds(first[i - 1].id, e.id) < 0), 'event ids increase');
  ok(first.map((e) => e.data.state).join(',') === 'pending,running,completed',
    `data.state follows pending, running, completed (got ${first.map((e) => e.data.state).join(', ')})`);
  ok(first.every((e) => e.data.job_id === jobId && !Number.isNaN(Date.parse(e.data.time))),
    'every data names the job and an RFC 3339 time');
  const completed = first[first.length - 1];
  ok(completed.data.result && typeof completed.data.result === 'object', 'completed carries data.result');

  // 2. Resume after the first event with the Last-Event-ID header.
  const resumed = await collect(`${base}/jobs/${jobId}/events`, { jobId, headers: { 'Last-Event-ID': first[0].id } });
  ok(describe(resumed) === describe(first.slice(1)),
    `Last-Event-ID: ${first[0].id} replays only the later events, no duplicate (got ${describe(resumed)})`);

  // 3. The same with ?last_event_id= (for clients that cannot set headers).
  const byQuery = await collect(`${base}/jobs/${jobId}/events?last_event_id=${encodeURIComponent(first[1].id)}`, { jobId });
  ok(describe(byQuery) === describe(first.slice(2)),
    `?last_event_id=${first[1].id} replays only the events after it (got ${describe(byQuery)})`);

  // 4. GET /events, subscribed before submitting: the new job's transitions arrive live, in order.
  let opened;
  const open = new Promise((resolve) => { opened = resolve; });
  let liveJobId = null;
  const liveEvents = [];
  const live = new EventSource(`${base}/events?engine=echo&tag=sse-test`);
  const liveDone = new Promise((resolve, reject) => {
    live.addEventListener('open', () => opened());
    live.addEventListener('error', (err) => reject(new Error(`GET /events failed: ${err.message || err.code || 'error event'}`)));
    for (const type of TYPES) {
      live.addEventListener(type, (message) => {
        const data = JSON.parse(message.data);
        liveEvents.push({ type, id: message.lastEventId, data });
        if (liveJobId && data.job_id === liveJobId && TERMINAL.has(type)) resolve();
      });
    }
  });
  await withTimeout(open, WAIT_MS, 'GET /events to open');
  liveJobId = await submit('sse test: live');
  // Events of the job that arrived before its id was known are kept in liveEvents too.
  await withTimeout(Promise.race([liveDone, new Promise((resolve) => {
    const check = setInterval(() => {
      if (liveEvents.some((e) => e.data.job_id === liveJobId && TERMINAL.has(e.type))) {
        clearInterval(check);
        resolve();
      }
    }, 50);
  })]), WAIT_MS, `the live job's terminal event on GET /events`);
  await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
  live.close();
  const mine = liveEvents.filter((e) => e.data.job_id === liveJobId);
  ok(mine.map((e) => e.type).join(',') === 'submitted,started,completed',
    `GET /events delivers the new job's submitted, started, completed (got ${describe(mine)})`);
  ok(liveEvents.every((e, i) => i === 0 || compareEventIds(liveEvents[i - 1].id, e.id) < 0),
    'ids on GET /events increase across jobs');
  ok(liveEvents.every((e) => e.data.job_id !== jobId), 'GET /events without Last-Event-ID starts live (no replay of older jobs)');

  // 5. A Last-Event-ID the log does not hold (another store's epoch) is answered with 'reset'.
  const staleSource = new EventSource(`${base}/events`, {
    fetch: (input, init) => fetch(input, { ...init, headers: { ...init.headers, 'Last-Event-ID': '1-1' } }),
  });
  const reset = await withTimeout(new Promise((resolve) => {
    staleSource.addEventListener('reset', (message) => resolve(message));
  }), WAIT_MS, "'reset' for a Last-Event-ID the log does not hold").finally(() => staleSource.close());
  ok(reset.type === 'reset', `a stale Last-Event-ID gets event: reset (${reset.data})`);
} catch (err) {
  fail(err.message);
}
done();
