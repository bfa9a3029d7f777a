#!/usr/bin/env node
// Runs browser tests against a noxd of their own: starts $NOXD on a free loopback port with a
// fresh data directory, runs each test file with NOX_URL set, stops noxd (SIGTERM), and exits
// non-zero if any test failed or noxd crashed.
//
//   NOXD=build/server/noxd node tests/browser/run-with-noxd.mjs tests/browser/sse.test.mjs tests/browser/dashboard.test.mjs
//
// NOX_TEST_KEYS="alice=compute:read,compute:write root=admin" starts noxd with a keys file made by
// `noxd keys add`, and gives each test its key as NOX_KEY_<NAME> (NOX_KEY_ALICE, ...).
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const STARTUP_MS = 20000;
const STOP_MS = 15000;

function die(message) {
  console.log(`FAIL: ${message}`);
  process.exit(1);
}

const tests = process.argv.slice(2);
if (!tests.length) die('usage: NOXD=path/to/noxd node run-with-noxd.mjs TEST.mjs...');
const noxd = process.env.NOXD;
if (!noxd || !fs.existsSync(noxd)) die(`set NOXD to the noxd executable (got ${noxd || 'nothing'})`);

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nox-browser-'));
const keyEnv = {};
const keyArgs = [];
if (process.env.NOX_TEST_KEYS) {
  const keysFile = path.join(dataDir, 'keys');
  for (const entry of process.env.NOX_TEST_KEYS.split(/\s+/).filter(Boolean)) {
    const [name, scopes] = entry.split('=');
    const key = execFileSync(noxd, ['keys', 'add', name, '--scopes', scopes, '--keys-file', keysFile],
      { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    keyEnv[`NOX_KEY_${name.toUpperCase()}`] = key;
  }
  keyArgs.push('--keys-file', keysFile);
}
let log = '';
const server = spawn(noxd, ['--listen', '127.0.0.1:0', '--data-dir', path.join(dataDir, 'data'),
  '--scratch-dir', dataDir, ...keyArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
let serverExit = null;
const exited = new Promise((resolve) => {
  server.on('exit', (code, signal) => {
    serverExit = { code, signal };
    resolve(serverExit);
  });
});
server.on('error', (err) => die(`cannot start ${noxd}: ${err.message}`));

const url = await new Promise((resolve) => {
  const timer = setTimeout(() => resolve(null), STARTUP_MS);
  const onData = (chunk) => {
    log += chunk;
    const match = /listening on (http:\/\/[^\s]+)/.exec(log);
    if (match) {
      clearTimeout(timer);
      resolve(match[1]);
    }
  };
  server.stdout.on('data', onData);
  server.stderr.on('data', onData);
  exited.then(() => {
    clearTimeout(timer);
    resolve(null);
  });
});

async function stopServer() {
  if (serverExit) return serverExit;
  server.kill('SIGTERM');
  const timer = setTimeout(() => server.kill('SIGKILL'), STOP_MS);
  const result = await exited;
  clearTimeout(timer);
  return result;
}

function cleanUp() {
  fs.rmSync(dataDir, { recursive: true, force: true });
}

if (!url) {
  await stopServer();
  cleanUp();
  die(`noxd did not say where it listens within ${STARTUP_MS} ms; its output:\n${log}`);
}
console.log(`noxd at ${url} (pid ${server.pid})`);

let failed = 0;
for (const test of tests) {
  console.log(`--- ${test}`);
  const child = spawn(process.execPath, [test], { stdio: 'inherit', env: { ...process.env, ...keyEnv, NOX_URL: url } });
  const code = await new Promise((resolve) => child.on('exit', (c, signal) => resolve(signal ? 1 : c)));
  if (code !== 0) failed += 1;
  if (serverExit) {
    console.log(`FAIL: noxd exited during ${test} (${JSON.stringify(serverExit)}); its output:\n${log}`);
    failed += 1;
    break;
  }
}

const stopped = await stopServer();
cleanUp();
if (stopped.signal && stopped.signal !== 'SIGTERM') {
  console.log(`FAIL: noxd ended by ${stopped.signal} when asked to stop; its output:\n${log}`);
  failed += 1;
}
console.log(failed ? `browser tests: ${failed} failed` : 'browser tests: all passed');
process.exit(failed ? 1 : 0);
