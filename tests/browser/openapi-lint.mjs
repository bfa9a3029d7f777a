#!/usr/bin/env node
// Lints www/openapi.json: Redocly's recommended rules (with www/redocly.yaml if present), then
// checks the document against the router's table in server/routes/routes.cpp: every route is
// documented with the same path template and method, and with x-nox-scope equal to the scope it
// is registered with (security: [] exactly for the public ones). Exits non-zero on any error.
//
//   node tests/browser/openapi-lint.mjs [path/to/openapi.json]   (default: www/openapi.json)
//
// Needs `cd www && npm install` (@redocly/cli is a devDependency); runs offline, no telemetry.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const www = path.join(root, 'www');
const spec = path.resolve(process.argv[2] ?? path.join(www, 'openapi.json'));
let failures = 0;

function fail(message) {
  console.log(`FAIL: ${message}`);
  failures += 1;
}

// 1. Redocly. Resolved from www/node_modules only (--no-install): never fetched here.
const redocly = spawnSync('npx', ['--no-install', 'redocly', 'lint', '--format=stylish', spec], {
  cwd: www,
  encoding: 'utf8',
  env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_UPDATE_NOTIFIER: '1' },
});
if (redocly.error) fail(`cannot run redocly: ${redocly.error.message}`);
process.stdout.write(redocly.stdout ?? '');
process.stdout.write(redocly.stderr ?? '');
if (redocly.status !== 0) fail(`redocly lint exited with ${redocly.status} (run "cd www && npm install" if it is missing)`);

// 2. The router's table.
let doc;
try {
  doc = JSON.parse(fs.readFileSync(spec, 'utf8'));
} catch (e) {
  fail(`cannot read ${spec}: ${e.message}`);
}
const table = fs.readFileSync(path.join(root, 'server/routes/routes.cpp'), 'utf8');
const scopeNames = { none: 'none', read: 'compute:read', write: 'compute:write', admin: 'admin' };
const routes = [...table.matchAll(/router\.add\("([A-Z]+)",\s*"([^"]+)",\s*[\w:]+,\s*Scope::(\w+)\)/g)].map(
  ([, method, route, scope]) => ({ method: method.toLowerCase(), route, scope: scopeNames[scope] }),
);
if (routes.length === 0) fail('found no router.add(...) lines in server/routes/routes.cpp');
// Documented although not (yet) in the router's table: served by GET /{file} or being added.
const extraRoutes = new Set(['get /openapi.json', 'get /docs']);
const methods = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

if (doc) {
  if (doc.openapi !== '3.1.0') fail(`openapi is ${doc.openapi}, expected 3.1.0`);
  const documented = new Map();
  for (const [route, item] of Object.entries(doc.paths ?? {}))
    for (const method of methods) if (item[method]) documented.set(`${method} ${route}`, item[method]);
  for (const { method, route, scope } of routes) {
    const key = `${method} ${route}`;
    const operation = documented.get(key);
    if (!operation) {
      fail(`${method.toUpperCase()} ${route} is in the router's table but not documented`);
      continue;
    }
    if (operation['x-nox-scope'] !== scope)
      fail(`${method.toUpperCase()} ${route}: x-nox-scope is ${operation['x-nox-scope']}, the router says ${scope}`);
    const isPublic = Array.isArray(operation.security) && operation.security.length === 0;
    if (isPublic !== (scope === 'none'))
      fail(`${method.toUpperCase()} ${route}: security ${JSON.stringify(operation.security)} does not fit scope ${scope}`);
    if (scope !== 'none' && !operation.security?.every((alt) => Object.values(alt).every((s) => s.includes(scope))))
      fail(`${method.toUpperCase()} ${route}: a security requirement does not name ${scope}`);
  }
  const routed = new Set(routes.map(({ method, route }) => `${method} ${route}`));
  for (const [key, operation] of documented) {
    if (!routed.has(key) && !extraRoutes.has(key)) fail(`${key.toUpperCase()} is documented but not in the router's table`);
    if (!['none', 'compute:read', 'compute:write', 'admin'].includes(operation['x-nox-scope']))
      fail(`${key.toUpperCase()}: x-nox-scope ${JSON.stringify(operation['x-nox-scope'])}`);
  }
  console.log(`router table: ${routes.length} routes checked, ${documented.size} operations documented`);
}

if (failures) {
  console.log(`openapi-lint: ${failures} failure(s)`);
  process.exit(1);
}
console.log('openapi-lint: ok');
