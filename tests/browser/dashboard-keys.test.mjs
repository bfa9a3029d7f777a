#!/usr/bin/env node
// The dashboard against a server with API keys (issue 8): it asks for a key, keeps it in the
// tab's sessionStorage, and shows only that key's jobs, in the list and live over /events
// (EventSource sends the key as ?access_token=).
//
//   NOX_TEST_KEYS="alice=compute:read,compute:write bob=compute:read,compute:write" NOXD=... \
//     node tests/browser/run-with-noxd.mjs tests/browser/dashboard-keys.test.mjs
import fs from 'node:fs';
import { baseUrl, loadPackage, ok, done, fail, WATER_XYZ } from './support.mjs';

const base = baseUrl();
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const UI_TIMEOUT_MS = 20000;
const alice = process.env.NOX_KEY_ALICE;
const bob = process.env.NOX_KEY_BOB;
if (!alice || !bob) fail('run with NOX_TEST_KEYS="alice=compute:read,compute:write bob=compute:read,compute:write"');
if (!fs.existsSync(executablePath)) fail(`${executablePath} not found: install Debian's chromium`);
const { chromium } = (await loadPackage('playwright-core')).default;

async function submitAs(key, name) {
  const response = await fetch(`${base}/jobs`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-API-Key': key },
    body: JSON.stringify({ engine: 'echo', task: 'energy', name, molecule: { xyz: WATER_XYZ } }),
  });
  ok(response.status === 202, `${name} submitted (${response.status})`);
  return (await response.json()).job_id;
}

const browser = await chromium.launch({
  executablePath,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
try {
  const alicesJob = await submitAs(alice, 'alice first');
  const page = await (await browser.newContext()).newPage();
  const pageErrors = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  await page.goto(`${base}/`, { waitUntil: 'load' });
  await page.waitForSelector('#key-form:not([hidden])', { timeout: UI_TIMEOUT_MS });
  ok(true, 'without a key the dashboard asks for one');
  ok(/needs an API key/.test(await page.textContent('#key-message')), 'and says why');

  await page.fill('#api-key', 'nox_wrong');
  await page.click('#key-form button[type=submit]');
  await page.waitForSelector('#key-form:not([hidden])', { timeout: UI_TIMEOUT_MS });
  await page.waitForFunction(() => /refused/.test(document.querySelector('#key-message').textContent),
    null, { timeout: UI_TIMEOUT_MS });
  ok(true, 'a wrong key is refused, and the form stays');

  const bobsJob = await submitAs(bob, 'bob first');
  await page.fill('#api-key', bob);
  await page.click('#key-form button[type=submit]');
  await page.waitForSelector(`#jobs-body tr[data-job-id="${bobsJob}"]`, { timeout: UI_TIMEOUT_MS });
  ok(await page.isHidden('#key-form'), "with Bob's key the form is gone");
  ok(await page.evaluate(() => sessionStorage.getItem('nox.apiKey') !== null), 'the key is kept in sessionStorage');
  ok(!(await page.$(`#jobs-body tr[data-job-id="${alicesJob}"]`)), "Alice's job is not in Bob's list");
  await page.waitForSelector('#connection[data-status="live"]', { timeout: UI_TIMEOUT_MS });
  ok(true, "Bob's table is subscribed to /events with his key");

  // Live: Alice's new job never shows; Bob's does, without a reload.
  const alicesSecond = await submitAs(alice, 'alice second');
  const bobsSecond = await submitAs(bob, 'bob second');
  await page.waitForSelector(`#jobs-body tr[data-job-id="${bobsSecond}"]`, { timeout: UI_TIMEOUT_MS });
  ok(true, "Bob's new job appears live");
  ok(!(await page.$(`#jobs-body tr[data-job-id="${alicesSecond}"]`)), "Alice's new job does not");

  await page.click('#forget-key');
  await page.waitForSelector('#key-form:not([hidden])', { timeout: UI_TIMEOUT_MS });
  ok(await page.evaluate(() => sessionStorage.getItem('nox.apiKey') === null), '"Forget key" forgets it');
  ok(pageErrors.length === 0, `no page errors (${pageErrors.join('; ')})`);
} catch (err) {
  await browser.close();
  fail(err.message.split('\n')[0]);
}
await browser.close();
done();
