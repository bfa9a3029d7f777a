// Shared by the browser tests: packages from www/node_modules, the server's URL, checks.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const wwwRequire = createRequire(new URL('../../www/package.json', import.meta.url));

let passed = 0;

export function fail(message) {
  console.log(`FAIL: ${message}`);
  console.log(`${passed} passed, 1 failed`);
  process.exit(1);
}

// Loads an npm package installed by `cd www && npm install`.
export async function loadPackage(name) {
  let resolved;
  try {
    resolved = wwwRequire.resolve(name);
  } catch {
    fail(`npm package '${name}' is not installed: run 'cd www && npm install' first`);
  }
  return import(pathToFileURL(resolved).href);
}

export function baseUrl() {
  const url = process.env.NOX_URL;
  if (!url) fail('set NOX_URL to the base URL of a running noxd, e.g. NOX_URL=http://127.0.0.1:8080');
  return url.replace(/\/+$/, '');
}

// GET a JSON document of the server under test; a failure ends the test.
export async function getJson(pathname) {
  const response = await fetch(`${baseUrl()}${pathname}`);
  if (!response.ok) fail(`GET ${pathname} answered ${response.status}`);
  return response.json();
}

export const WATER_XYZ = '3\n\nO 0 0 0.12\nH 0 0.76 -0.47\nH 0 -0.76 -0.47\n';

export function ok(condition, message) {
  if (!condition) fail(message);
  passed += 1;
  console.log(`ok ${passed} - ${message}`);
}
export function done() {
  console.log(`${passed} passed, 0 failed`);
  process.exit(0);
}

export async function postJson(url, body) {
  const response = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const text = await response.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: response.status, json, text };
}

// Event ids are store sequences: "<ms>-<n>" (Redis stream ids) or plain counters.
export function compareEventIds(a, b) {
  const parse = (id) => String(id).split('-').map((part) => BigInt(part));
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < Math.max(x.length, y.length); i += 1) {
    const p = x[i] ?? 0n;
    const q = y[i] ?? 0n;
    if (p !== q) return p < q ? -1 : 1;
  }
  return 0;
}

export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Debian's chromium, headless, through playwright-core (CHROMIUM names another binary).
export async function launchChromium() {
  const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
  if (!fs.existsSync(executablePath)) fail(`${executablePath} not found: install Debian's chromium (apt-get install -y chromium)`);
  const { chromium } = (await loadPackage('playwright-core')).default;
  return chromium.launch({
    executablePath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

// saveScreenshot() of the page currentPage() returns (full page, to `screenshot`), and
// check(promise, message): a passed check, or a screenshot, the browser closed and the test failed.
export function screenshotChecks(browser, currentPage, screenshot) {
  async function saveScreenshot() {
    const page = currentPage();
    if (!page) return;
    try {
      fs.mkdirSync(path.dirname(screenshot), { recursive: true });
      await page.screenshot({ path: screenshot, fullPage: true });
      console.log(`screenshot: ${screenshot}`);
    } catch (err) {
      console.log(`could not save the screenshot: ${err.message}`);
    }
  }
  async function check(promise, message) {
    try {
      await promise;
    } catch (err) {
      await saveScreenshot();
      await browser.close();
      fail(`${message}: ${err.message.split('\n')[0]}`);
    }
    ok(true, message);
  }
  return { saveScreenshot, check };
}
