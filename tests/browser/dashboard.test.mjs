#!/usr/bin/env node
// The dashboard in Debian's chromium, driven by playwright-core: submit a water optimization
// through the form, watch its row go pending/running -> completed without a reload, open the
// job view, check the timeline, the energy chart, the 3Dmol canvas and the results; save a
// screenshot.
//
//   NOX_URL=http://127.0.0.1:PORT [SCREENSHOT=/tmp/nox-dashboard.png] [CHROMIUM=/usr/bin/chromium] \
//     node tests/browser/dashboard.test.mjs
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { baseUrl, launchChromium, ok, done, fail, screenshotChecks, WATER_XYZ } from './support.mjs';

const base = baseUrl();
const screenshot = process.env.SCREENSHOT || '/tmp/nox-dashboard.png';
const JOB_TIMEOUT_MS = Number(process.env.JOB_TIMEOUT_MS || 180000); // xtb on a busy 2-core machine
const UI_TIMEOUT_MS = 20000;

const browser = await launchChromium();
const pageErrors = [];
let page;
const { saveScreenshot, check } = screenshotChecks(browser, () => page, screenshot);

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('dialog', (dialog) => dialog.accept());

  const response = await page.goto(`${base}/`, { waitUntil: 'load' });
  ok(response && response.ok(), `GET / answers ${response && response.status()}`);
  ok((await page.title()).includes('Nox'), 'the page is the Nox dashboard');
  ok(await page.evaluate(() => typeof window.$3Dmol === 'object' && typeof window.$3Dmol.createViewer === 'function'),
    '3Dmol.js loaded from /vendor/3Dmol-min.js');
  await check(page.waitForSelector('#connection[data-status="live"]', { timeout: UI_TIMEOUT_MS }),
    'the job table is subscribed to /events');

  // Record every state each job row shows, and mark the document to prove it is never reloaded.
  await page.evaluate(() => {
    window.__noxTestMarker = true;
    window.__rowStates = {};
    const record = () => {
      for (const row of document.querySelectorAll('#jobs-body tr[data-job-id]')) {
        const seen = window.__rowStates[row.dataset.jobId] || (window.__rowStates[row.dataset.jobId] = []);
        if (seen[seen.length - 1] !== row.dataset.state) seen.push(row.dataset.state);
      }
    };
    new MutationObserver(record).observe(document.querySelector('#jobs-body'),
      { childList: true, subtree: true, attributes: true, attributeFilter: ['data-state'] });
    record();
  });

  // A spec the server refuses shows its 422 details next to the fields.
  await page.fill('#xyz', '2\n\nO 0 0 0\nXx 0 0 1\n');
  await page.click('#submit-button');
  await check(page.waitForSelector('#xyz-error:not([hidden])', { timeout: UI_TIMEOUT_MS }),
    'a 422 for a bad molecule is shown next to the XYZ field');
  ok(await page.getAttribute('#xyz', 'aria-invalid') === 'true', 'the XYZ field is marked aria-invalid');

  // The water optimization, through the form.
  const name = `browser test water ${Date.now()}`;
  await page.fill('#xyz', WATER_XYZ);
  await page.fill('#name', name);
  await page.selectOption('#engine', 'xtb');
  await page.selectOption('#task', 'optimize');
  await page.selectOption('#method', 'gfn2');
  await page.fill('#charge', '0');
  await page.fill('#multiplicity', '1');
  await page.click('#submit-button');
  await check(page.waitForSelector('#submitted-link', { timeout: UI_TIMEOUT_MS }), 'the form submitted the job (202)');
  ok(await page.isHidden('#xyz-error'), 'the earlier field error is cleared');
  const jobId = await page.getAttribute('#submitted-link', 'data-job-id');
  ok(/^[0-9a-f]{32}$/.test(jobId || ''), `the new job id is ${jobId}`);
  const row = `#jobs-body tr[data-job-id="${jobId}"]`;

  await check(page.waitForSelector(row, { timeout: UI_TIMEOUT_MS }), 'its row appears in the job table');
  await check(page.waitForSelector(`${row}[data-state="completed"], ${row}[data-state="failed"]`, { timeout: JOB_TIMEOUT_MS }),
    'its row reaches a final state without a reload');
  const finalState = await page.getAttribute(row, 'data-state');
  if (finalState !== 'completed') {
    await saveScreenshot();
    fail(`the water optimization ended ${finalState}: ${await page.getAttribute(`${row} td.state-cell`, 'title')}`);
  }
  const states = await page.evaluate((id) => window.__rowStates[id] || [], jobId);
  ok(['pending', 'running'].includes(states[0]), `the row first showed ${states[0]} (states seen: ${states.join(' -> ')})`);
  ok(states[states.length - 1] === 'completed', 'then completed');
  ok(await page.evaluate(() => window.__noxTestMarker === true), 'the page was not reloaded');
  ok((await page.textContent(`${row} td:nth-child(6)`)).replace(/\s/g, '') === 'H2O', 'the row shows the formula H2O');
  ok((await page.textContent(`${row} td:nth-child(4)`)).trim() === 'optimize', 'the row shows the task');

  // Filters: the finished job shows under "completed", not under "running".
  await page.selectOption('#filter-state', 'running');
  await check(page.waitForSelector(row, { state: 'detached', timeout: UI_TIMEOUT_MS }), 'the state filter "running" hides it');
  await page.selectOption('#filter-state', 'completed');
  await check(page.waitForSelector(row, { timeout: UI_TIMEOUT_MS }), 'the state filter "completed" shows it');
  await page.selectOption('#filter-engine', 'echo');
  await check(page.waitForSelector(row, { state: 'detached', timeout: UI_TIMEOUT_MS }), 'the engine filter "echo" hides it');
  await page.click('#filters button[type="reset"]');
  await check(page.waitForSelector(`${row}[data-state="completed"]`, { timeout: UI_TIMEOUT_MS }), 'clearing the filters shows it again');

  // The job view, opened by clicking the row once the table has settled.
  await check(page.waitForSelector('#connection[data-status="live"]', { timeout: UI_TIMEOUT_MS }), 'the table is live again');
  await check(page.waitForSelector('#jobs-table[data-loading="false"]', { timeout: UI_TIMEOUT_MS }), 'the job list is loaded');
  await page.click(`${row} td:nth-child(4)`);
  await check(page.waitForSelector(`#job-view[data-job-id="${jobId}"]:not([hidden])`, { timeout: UI_TIMEOUT_MS }),
    'clicking the row opens the job view');
  await check(page.waitForSelector('#timeline li[data-event-type="completed"]', { timeout: UI_TIMEOUT_MS }),
    'the timeline replays the job history up to completed');
  const timeline = await page.$$eval('#timeline li', (items) => items.map((li) => li.dataset.eventType));
  ok(timeline[0] === 'submitted' && timeline.includes('started') && timeline.indexOf('started') < timeline.indexOf('completed'),
    `the timeline is in order (${timeline.join(', ')})`);
  // A finished optimization's chart is drawn from its whole trajectory (xtbopt.log), not the
  // throttled progress events.
  await check(page.waitForFunction(() => {
    const chart = document.querySelector('#energy-chart');
    return chart.dataset.source === 'trajectory' && Number(chart.dataset.points) > 0;
  }, null, { timeout: UI_TIMEOUT_MS }), 'the energy chart has every cycle of the trajectory');
  const points = Number(await page.getAttribute('#energy-chart', 'data-points'));
  ok(await page.$$eval('#energy-svg circle', (c) => c.length) === points, `the chart draws all ${points} cycles`);
  await check(page.waitForSelector('#viewer-input canvas', { timeout: UI_TIMEOUT_MS }), 'the input geometry has a 3Dmol canvas');
  await check(page.waitForSelector('#viewer-optimized[data-model="shown"] canvas', { timeout: UI_TIMEOUT_MS }),
    'the optimized geometry has a 3Dmol canvas');
  await check(page.waitForSelector('#result-table', { timeout: UI_TIMEOUT_MS }), 'the results table is shown');
  const resultText = await page.textContent('#result-table');
  ok(/Total energy\s*-\d+\.\d+ Eh/.test(resultText), `the results give the total energy (${resultText.match(/-\d+\.\d+ Eh/)})`);
  ok(/Optimization\s*converged/.test(resultText), 'the results say the optimization converged');
  await check(page.waitForSelector('#artifact-list a[href]', { timeout: UI_TIMEOUT_MS }), 'the job files are listed as links');
  ok(await page.isDisabled('#cancel-job') && await page.isEnabled('#delete-job'),
    'a finished job can be deleted, not cancelled');

  ok(pageErrors.length === 0, `no uncaught errors in the page${pageErrors.length ? `: ${pageErrors.join('; ')}` : ''}`);
  await page.waitForTimeout(300); // let 3Dmol draw before the picture
  await saveScreenshot();
  ok(fs.statSync(screenshot).size > 0, `screenshot saved to ${screenshot}`);

  // Delete through the job view: the view closes and the row leaves on the 'deleted' event.
  await page.click('#delete-job');
  await check(page.waitForSelector('#job-view', { state: 'hidden', timeout: UI_TIMEOUT_MS }), 'deleting closes the job view');
  await check(page.waitForSelector(row, { state: 'detached', timeout: UI_TIMEOUT_MS }), 'the deleted job leaves the table');

  // A long job (triacontane, 92 atoms, optimization + hessian) loaded from an .xyz file and
  // cancelled from the job view while it runs.
  const triacontane = fileURLToPath(new URL('../fixtures/molecules/triacontane.xyz', import.meta.url));
  await page.fill('#name', '');
  await page.setInputFiles('#xyz-file', triacontane);
  await check(page.waitForFunction(() => document.querySelector('#xyz').value.startsWith('92'), null, { timeout: UI_TIMEOUT_MS }),
    'loading an .xyz file fills the XYZ field');
  ok(await page.inputValue('#name') === 'triacontane', 'the file name becomes the job name');
  await page.selectOption('#task', 'optimize_hessian');
  await page.click('#submit-button');
  await check(page.waitForFunction((previous) => {
    const link = document.querySelector('#submitted-link');
    return link && link.dataset.jobId !== previous;
  }, jobId, { timeout: UI_TIMEOUT_MS }), 'the long job is submitted');
  const longId = await page.getAttribute('#submitted-link', 'data-job-id');
  await page.click('#submitted-link');
  await check(page.waitForSelector(`#job-view[data-job-id="${longId}"][data-state="running"]`, { timeout: JOB_TIMEOUT_MS }),
    'its job view shows it running');
  ok(await page.isEnabled('#cancel-job') && await page.isDisabled('#delete-job'), 'a running job can be cancelled, not deleted');
  await page.click('#cancel-job');
  await check(page.waitForSelector(`#job-view[data-job-id="${longId}"][data-state="cancelled"]`, { timeout: UI_TIMEOUT_MS }),
    'cancelling ends it as cancelled');
  await check(page.waitForSelector(`#jobs-body tr[data-job-id="${longId}"][data-state="cancelled"]`, { timeout: UI_TIMEOUT_MS }),
    'its row shows cancelled');
  await check(page.waitForSelector('#timeline li[data-event-type="cancelled"]', { timeout: UI_TIMEOUT_MS }),
    'the timeline ends with the cancelled event');

  ok(pageErrors.length === 0, `still no uncaught errors in the page${pageErrors.length ? `: ${pageErrors.join('; ')}` : ''}`);
} catch (err) {
  await saveScreenshot();
  await browser.close();
  fail(err.message);
}
await browser.close();
done();
