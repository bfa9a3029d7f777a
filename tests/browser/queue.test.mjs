#!/usr/bin/env node
// The dashboard's queue view and the job view's Retry in Debian's chromium, driven by
// playwright-core, against a real noxd (echo and xtb):
//   - queue "nightly" paused (POST /queues/nightly/pause), two echo jobs submitted to it and one
//     job that requires a compute tag no instance has; the header's "Queue" link opens #/queue:
//     the counts by state, the oldest pending age, pending by priority (highest first) and by
//     required tag, the nightly row paused with 2 pending, the instances;
//   - the concurrency input: a value the server refuses shows its 422 message beside the input,
//     a good one is kept, an empty one means no limit;
//   - Resume in nightly's row: the view reads the queue again at once, the jobs complete (the
//     API says so) and the row shows 0 pending; Pause there holds the next job; closing the
//     view stops its polling;
//   - a job's view names its queue and the tags it requires;
//   - an xtb job that fails (1 ms time limit): Retry in its view runs it again as the same job
//     (attempts 2, a `retrying` event), the view follows it live to its second failure; a Retry
//     the server refuses shows why.
//
//   NOXD=build/server/noxd node tests/browser/run-with-noxd.mjs tests/browser/queue.test.mjs
//   NOX_URL=http://127.0.0.1:PORT node tests/browser/queue.test.mjs
import { baseUrl, getJson, launchChromium, ok, done, fail, postJson, screenshotChecks, WATER_XYZ } from './support.mjs';

const base = baseUrl();
const screenshot = process.env.SCREENSHOT || '/tmp/nox-queue.png';
const retryScreenshot = screenshot.replace(/(\.png)?$/, '-retry.png');
const JOB_TIMEOUT_MS = Number(process.env.JOB_TIMEOUT_MS || 90000);
const UI_TIMEOUT_MS = 20000;

const browser = await launchChromium();
const pageErrors = [];
let page;
const { saveScreenshot, check } = screenshotChecks(browser, () => page, screenshot);

async function submit(spec) {
  const answer = await postJson(`${base}/jobs`, spec);
  if (answer.status !== 202 || !answer.json || !answer.json.job_id) fail(`POST /jobs answered ${answer.status}: ${answer.text}`);
  return answer.json.job_id;
}

// Polls GET /jobs/{id} until `until(job)` holds; the job, or a failure after `ms`.
async function waitForJob(id, until, what, ms = JOB_TIMEOUT_MS) {
  const deadline = Date.now() + ms;
  let job;
  while (Date.now() < deadline) {
    job = await getJson(`/jobs/${id}`);
    if (until(job)) return job;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  fail(`job ${id} did not become ${what} within ${ms} ms (state ${job && job.state})`);
  return job;
}

// The text of GET /jobs/{id}/events: the job is finished, so the server ends the stream.
async function eventsText(id) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 5000);
  try {
    const response = await fetch(`${base}/jobs/${id}/events`, { signal: controller.signal });
    return await response.text();
  } finally {
    clearTimeout(timer);
  }
}

// A table of pending counts as "key:count,...", in the order shown.
const counts = (table) => page.$$eval(`${table} tbody tr`,
  (rows) => rows.map((r) => `${r.dataset.key}:${r.querySelector('td').textContent}`).join());

const nightlyRow = '#queues-body tr[data-queue="nightly"]';
const echoSpec = (name) => ({ engine: 'echo', task: 'energy', name, molecule: { xyz: WATER_XYZ }, queue: 'nightly',
  priority: 5, cache: false });

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
  // Every GET /queue the page makes, and when.
  const queueReads = [];
  page.on('request', (request) => {
    if (request.method() === 'GET' && new URL(request.url()).pathname === '/queue') queueReads.push(Date.now());
  });
  await page.goto(`${base}/`, { waitUntil: 'load' });
  await check(page.waitForSelector('#connection[data-status="live"]', { timeout: UI_TIMEOUT_MS }), 'the dashboard is up');
  ok(await page.isHidden('#queue-view'), 'the queue view is closed at first');

  // Paused before its jobs come, so they wait.
  const paused = await postJson(`${base}/queues/nightly/pause`, {});
  ok(paused.status === 200 && paused.json.paused === true, `POST /queues/nightly/pause answers it paused (${paused.text})`);
  const nightlyJobs = [await submit(echoSpec('nightly one')), await submit(echoSpec('nightly two'))];
  // No instance offers "big-memory": this job stays pending (cancelled at the end).
  const taggedJob = await submit({ engine: 'echo', task: 'energy', name: 'needs big memory', molecule: { xyz: WATER_XYZ },
    requires: ['big-memory'], priority: 0, cache: false });

  await page.click('#queue-link');
  await check(page.waitForSelector('#queue-view[data-loaded="true"]', { timeout: UI_TIMEOUT_MS }),
    'the header\'s Queue link opens the queue view');
  ok(await page.evaluate(() => window.location.hash) === '#/queue', 'at #/queue');
  ok(await page.getAttribute('#queue-link', 'aria-current') === 'page', 'the link is marked as the current view');
  await check(page.waitForSelector(`${nightlyRow}[data-paused="true"][data-pending="2"]`, { timeout: UI_TIMEOUT_MS }),
    'the nightly row shows paused with 2 pending');
  ok((await page.textContent(`${nightlyRow} td.pending`)).trim() === '2', 'its Pending cell says 2');
  ok((await page.textContent(`${nightlyRow} td.paused`)).trim() === 'paused', 'its Paused cell says paused');
  ok((await page.textContent(`${nightlyRow} button.queue-toggle`)).startsWith('Resume'), 'its button offers Resume');
  ok(await page.$$eval('#queues-table thead th', (ths) => ths.map((th) => th.textContent.trim()).slice(0, 5).join()) ===
    'Queue,Pending,Running,Concurrency,Paused', 'the queues table has its column headers');
  const pendingCount = Number(await page.textContent('#queue-states li[data-state="pending"] .count'));
  ok(pendingCount === 3, `the state counts say 3 pending (${pendingCount})`);
  ok(await page.$$eval('#queue-states li', (items) => items.map((li) => li.dataset.state).join())
    === 'pending,running,scheduled,waiting', 'with running, scheduled and waiting beside it');
  const oldest = await page.textContent('#queue-oldest');
  ok(/^\d+(\.\d)? (ms|s)$|min/.test(oldest), `the oldest pending job's age reads as a duration (${oldest})`);
  ok(await counts('#queue-priority-table') === '5:2,0:1', 'pending by priority: 5 (2 jobs) before 0 (1 job)');
  ok(await counts('#queue-tag-table') === 'big-memory:1', 'pending by required tag: big-memory 1');
  const instances = await getJson('/queue').then((q) => q.instances);
  ok(await page.$$eval('#instances-body tr', (rows) => rows.length) === instances.length && instances.length > 0,
    `the instances table has a row per instance (${instances.length})`);
  const slotsText = await page.textContent(`#instances-body tr[data-worker="${instances[0].worker_id}"] td.slots`);
  ok(new RegExp(`\\d+ / ${instances[0].slots}$`).test(slotsText.trim()), `with running / slots (${slotsText.trim()})`);

  // Polling: the view reads GET /queue again every 2 s while open.
  const readsBefore = queueReads.length;
  await page.waitForTimeout(4500);
  ok(queueReads.length - readsBefore >= 2, `the view reads the queue every 2 s (${queueReads.length - readsBefore} reads in 4.5 s)`);

  // Concurrency: the server's refusal beside the input, then a good value, then none.
  const input = `${nightlyRow} input.concurrency`;
  await page.fill(input, '1.5');
  await page.press(input, 'Tab');
  await check(page.waitForSelector(`${nightlyRow} .field-error:not([hidden])`, { timeout: UI_TIMEOUT_MS }),
    'a concurrency of 1.5 is refused beside the input');
  const refusal = await page.textContent(`${nightlyRow} .field-error`);
  ok(/whole number/.test(refusal), `with the server's reason (${refusal})`);
  ok(await page.getAttribute(input, 'aria-invalid') === 'true', 'the input is marked invalid');
  await page.waitForTimeout(2500);
  ok(await page.inputValue(input) === '1.5', 'the refused value stays for correcting across refreshes');
  await page.fill(input, '3');
  await page.press(input, 'Tab');
  await check(page.waitForSelector(`${nightlyRow}[data-concurrency="3"]`, { timeout: UI_TIMEOUT_MS }), 'a concurrency of 3 is taken');
  ok(await page.isHidden(`${nightlyRow} .field-error`) && await page.getAttribute(input, 'aria-invalid') === null,
    'and the refusal is gone');
  ok((await getJson('/queue')).queues.find((q) => q.name === 'nightly').concurrency === 3, 'GET /queue agrees: concurrency 3');
  await page.fill(input, '');
  await page.press(input, 'Tab');
  await check(page.waitForSelector(`${nightlyRow}[data-concurrency=""]`, { timeout: UI_TIMEOUT_MS }), 'an empty concurrency is no limit');
  ok((await getJson('/queue')).queues.find((q) => q.name === 'nightly').concurrency === null, 'GET /queue agrees: null');

  // Resume: read again at once, the jobs run, the row empties.
  const [resumed] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === '/queues/nightly/resume' && r.request().method() === 'POST'),
    page.click(`${nightlyRow} button.queue-toggle`),
  ]);
  const resumedAt = Date.now();
  ok(resumed.status() === 200, 'Resume POSTs /queues/nightly/resume (200)');
  await check(page.waitForSelector(`${nightlyRow}[data-paused="false"]`, { timeout: UI_TIMEOUT_MS }), 'the row shows nightly not paused');
  ok((await page.textContent(`${nightlyRow} button.queue-toggle`)).startsWith('Pause'), 'its button offers Pause now');
  while (!queueReads.some((t) => t >= resumedAt - 100) && Date.now() < resumedAt + 1000) await page.waitForTimeout(50);
  ok(queueReads.some((t) => t >= resumedAt - 100), 'the view reads the queue again right after the action');
  for (const id of nightlyJobs) {
    const job = await waitForJob(id, (j) => j.state === 'completed' || j.state === 'failed', 'finished');
    ok(job.state === 'completed', `nightly job ${id.slice(0, 8)} completed after the resume`);
  }
  await check(page.waitForSelector(`${nightlyRow}[data-pending="0"]`, { timeout: UI_TIMEOUT_MS }), 'the nightly row shows 0 pending');
  ok((await page.textContent(`${nightlyRow} td.pending`)).trim() === '0', 'its Pending cell says 0');

  // Pause from the page: the queue holds the next job.
  const [pausedAgain] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === '/queues/nightly/pause' && r.request().method() === 'POST'),
    page.click(`${nightlyRow} button.queue-toggle`),
  ]);
  ok(pausedAgain.status() === 200, 'Pause POSTs /queues/nightly/pause (200)');
  await check(page.waitForSelector(`${nightlyRow}[data-paused="true"]`, { timeout: UI_TIMEOUT_MS }), 'the row shows nightly paused again');
  ok((await getJson('/queue')).queues.find((q) => q.name === 'nightly').paused === true, 'GET /queue agrees');
  const heldJob = await submit(echoSpec('held'));
  await check(page.waitForSelector(`${nightlyRow}[data-paused="true"][data-pending="1"]`, { timeout: UI_TIMEOUT_MS }),
    'a job submitted now waits in it (1 pending)');

  // Closed, the view stops polling.
  await page.click('#close-queue');
  await check(page.waitForSelector('#queue-view', { state: 'hidden', timeout: UI_TIMEOUT_MS }), 'Close hides the queue view');
  await page.waitForTimeout(300);
  const readsAtClose = queueReads.length;
  await page.waitForTimeout(4500);
  ok(queueReads.length === readsAtClose, `and it stops reading the queue (${queueReads.length - readsAtClose} reads in 4.5 s)`);

  // The job view names the queue and the compute tags a job requires.
  await page.evaluate((id) => { window.location.hash = `#/jobs/${id}`; }, nightlyJobs[0]);
  await check(page.waitForSelector(`#job-view[data-job-id="${nightlyJobs[0]}"][data-state="completed"]`, { timeout: UI_TIMEOUT_MS }),
    'a nightly job\'s view opens');
  ok((await page.textContent('#job-queue')).trim() === 'nightly', 'its summary names its queue (nightly)');
  ok(await page.isHidden('#retry-job'), 'a completed job offers no Retry');
  await page.evaluate((id) => { window.location.hash = `#/jobs/${id}`; }, taggedJob);
  await check(page.waitForSelector(`#job-view[data-job-id="${taggedJob}"][data-state="pending"]`, { timeout: UI_TIMEOUT_MS }),
    'the job requiring big-memory is pending');
  ok((await page.textContent('#job-requires')).includes('big-memory'), 'its summary says it requires big-memory');

  // Retry: an xtb job that runs out of time, run again as the same job from its view.
  const failing = await submit({ engine: 'xtb', task: 'optimize', name: 'too little time', molecule: { xyz: WATER_XYZ },
    timeout_s: 0.001, cache: false });
  const failed = await waitForJob(failing, (j) => j.state === 'failed', 'failed');
  ok(failed.attempts === 1, `the xtb job failed after 1 attempt (${failed.error && failed.error.code})`);
  await page.evaluate((id) => { window.location.hash = `#/jobs/${id}`; }, failing);
  await check(page.waitForSelector(`#job-view[data-job-id="${failing}"][data-state="failed"]`, { timeout: UI_TIMEOUT_MS }),
    'its view opens failed');
  await check(page.waitForSelector('#retry-job:not([hidden]):not([disabled])', { timeout: UI_TIMEOUT_MS }), 'with a Retry button');
  ok((await page.textContent('#retry-job')).trim().startsWith('Retry'), 'that says Retry');
  const [retried] = await Promise.all([
    page.waitForResponse((r) => new URL(r.url()).pathname === `/jobs/${failing}/retry` && r.request().method() === 'POST'),
    page.click('#retry-job'),
  ]);
  ok(retried.status() === 202, 'Retry POSTs /jobs/{id}/retry (202)');
  ok((await retried.json()).job_id === failing, 'which answers the same job');
  await check(page.waitForSelector('#timeline li[data-event-type="retrying"]', { timeout: UI_TIMEOUT_MS }),
    'the view shows the retrying event live');
  await check(page.waitForFunction(() => document.querySelectorAll('#timeline li[data-event-type="failed"]').length === 2
    && document.querySelector('#job-view').dataset.state === 'failed', null, { timeout: JOB_TIMEOUT_MS }),
  'and follows the job to its second failure');
  ok(await page.$$eval('#timeline li', (items) => items.map((li) => li.dataset.eventType).join()) ===
    'submitted,started,failed,retrying,started,failed', 'the timeline reads submitted, started, failed, retrying, started, failed');
  ok((await page.textContent('#timeline li[data-event-type="retrying"] .detail')).includes('retried by request: attempt 2'),
    'the retrying entry says it was retried by request, attempt 2');
  const again = await waitForJob(failing, (j) => j.state === 'failed' && j.attempts === 2, 'failed after 2 attempts');
  ok(again.attempts === 2, 'the API says the job ran twice (attempts 2)');
  const history = await eventsText(failing);
  ok(/event: retrying/.test(history), 'its events hold a retrying event');
  await check(page.waitForFunction(() => /^2\b/.test(
    [...document.querySelectorAll('#job-summary dt')].find((dt) => dt.textContent === 'Attempts').nextElementSibling.textContent),
  null, { timeout: UI_TIMEOUT_MS }), 'the summary says 2 attempts');
  await page.screenshot({ path: retryScreenshot, fullPage: true });
  console.log(`screenshot: ${retryScreenshot}`);

  // A Retry the server refuses says why (the refusal made here, as a race with another client's
  // retry would make it).
  const refused = { error: { code: 'invalid_state', message: `job ${failing} is pending: only a failed or cancelled job runs again` } };
  await page.route(`**/jobs/${failing}/retry`,
    (route) => route.fulfill({ status: 409, contentType: 'application/json', body: JSON.stringify(refused) }));
  await check(page.waitForSelector('#retry-job:not([hidden]):not([disabled])', { timeout: UI_TIMEOUT_MS }), 'Retry is offered again');
  await page.click('#retry-job');
  await check(page.waitForFunction(() => /Could not retry: .*only a failed or cancelled job runs again/
    .test(document.querySelector('#job-message').textContent), null, { timeout: UI_TIMEOUT_MS }),
  'a refused Retry shows the server\'s reason');
  ok(await page.isEnabled('#retry-job'), 'and Retry can be tried again');
  await page.unroute(`**/jobs/${failing}/retry`);

  // Opened afresh, the retried job's whole history is replayed: the first failure does not end
  // the stream, the last one does (and the page does not connect again).
  const streams = [];
  page.on('request', (request) => {
    if (new URL(request.url()).pathname === `/jobs/${failing}/events`) streams.push(request.url());
  });
  await page.click('#close-job');
  await check(page.waitForSelector('#job-view', { state: 'hidden', timeout: UI_TIMEOUT_MS }), 'the job view closes');
  await page.evaluate((id) => { window.location.hash = `#/jobs/${id}`; }, failing);
  await check(page.waitForFunction(() => document.querySelectorAll('#timeline li').length === 6
    && document.querySelector('#job-view').dataset.state === 'failed', null, { timeout: UI_TIMEOUT_MS }),
  'reopened, the retried job shows all six events and ends failed');
  ok(await page.$$eval('#timeline li', (items) => items.map((li) => li.dataset.eventType).join()) ===
    'submitted,started,failed,retrying,started,failed', 'in order');
  await check(page.waitForSelector('#job-error:not([hidden])', { timeout: UI_TIMEOUT_MS }), 'with the last failure\'s error');
  await page.waitForTimeout(4000);
  ok(streams.length === 1, `its event stream was opened once, not again after it ended (${streams.length})`);
  ok(await page.isVisible('#retry-job'), 'Retry is offered');

  // The job nothing can run is cancelled; the held one is still held. The queue view for the
  // screenshot.
  await postJson(`${base}/jobs/${taggedJob}/cancel`, {});
  await page.click('#queue-link');
  await check(page.waitForSelector(`#queue-view[data-loaded="true"] ${nightlyRow}[data-paused="true"][data-pending="1"]`,
    { timeout: UI_TIMEOUT_MS }), 'the queue view opens again, nightly still paused with its held job');
  ok((await getJson(`/jobs/${heldJob}`)).state === 'pending', 'which is pending');
  await check(page.waitForFunction(() => document.querySelector('#queue-tag-table').textContent === 'Nothing pending.',
    null, { timeout: UI_TIMEOUT_MS }), 'no job requires a tag any more');
  ok(pageErrors.length === 0, `no uncaught errors in the page${pageErrors.length ? `: ${pageErrors.join('; ')}` : ''}`);
  await saveScreenshot();
} catch (err) {
  await saveScreenshot();
  await browser.close();
  fail(err.message);
}
await browser.close();
done();
