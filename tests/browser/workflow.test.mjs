#!/usr/bin/env node
// The dashboard's workflow view in Debian's chromium, driven by playwright-core, against a real
// noxd with xtb:
//   - a workflow of three xtb jobs on water, each starting from the geometry the one before
//     optimized (ff: GFN-FF optimize -> opt: GFN2 optimize -> hess: GFN2 Hessian), submitted
//     from the page (api.submitWorkflow) with ff held in a paused queue until the view has drawn
//     every box, and opened at #/workflows/<id>: three boxes in three
//     layers left to right, two arrows labelled "geometry", the header's state and counts;
//   - the boxes follow the jobs live (job events, no reload) until all are completed, and the
//     view stops listening once the workflow has finished;
//   - a box opens its job's view, which links back to the workflow and names the jobs it
//     depends on by their names in it;
//   - a workflow whose first job fails (a 1 ms time limit): its child ends failed, its box says
//     dependency_failed; an unknown workflow id says there is none.
//
//   NOXD=build/server/noxd node tests/browser/run-with-noxd.mjs tests/browser/workflow.test.mjs
//   NOX_URL=http://127.0.0.1:PORT node tests/browser/workflow.test.mjs
import { baseUrl, getJson, postJson, launchChromium, ok, done, fail, screenshotChecks, WATER_XYZ } from './support.mjs';

const base = baseUrl();
const screenshot = process.env.SCREENSHOT || '/tmp/nox-workflow.png';
const failedScreenshot = screenshot.replace(/(\.png)?$/, '-failed.png');
const JOB_TIMEOUT_MS = Number(process.env.JOB_TIMEOUT_MS || 90000);
const UI_TIMEOUT_MS = 20000;

const browser = await launchChromium();
const pageErrors = [];
let page;
const { saveScreenshot, check } = screenshotChecks(browser, () => page, screenshot);

// Submits a workflow through the dashboard's own api.js and opens its view in the same breath,
// so the view's first picture comes before the jobs can have finished.
function submitAndOpen(body) {
  return page.evaluate(async (workflow) => {
    const { api } = await import('/api.js');
    const answer = await api.submitWorkflow(workflow);
    window.location.hash = `#/workflows/${answer.workflow_id}`;
    return answer;
  }, body);
}

// Every state each box has shown, in order (the page records them from the first drawing on).
const statesSeen = () => page.evaluate(() => window.noxStatesSeen);

// Where each box is drawn, in page pixels.
const boxes = () => page.$$eval('#workflow-graph [data-node]', (nodes) => Object.fromEntries(nodes.map((n) => {
  const r = n.querySelector('rect').getBoundingClientRect();
  return [n.dataset.node, { x: r.x, y: r.y, width: r.width, height: r.height }];
})));

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
  await page.goto(`${base}/`, { waitUntil: 'load' });
  await check(page.waitForSelector('#connection[data-status="live"]', { timeout: UI_TIMEOUT_MS }), 'the dashboard is up');
  await page.evaluate(() => {
    window.noxNotReloaded = true;
    window.noxStatesSeen = {};
    const record = () => {
      for (const node of document.querySelectorAll('#workflow-graph [data-node]')) {
        const seen = (window.noxStatesSeen[node.dataset.node] ||= []);
        if (node.dataset.state && seen[seen.length - 1] !== node.dataset.state) seen.push(node.dataset.state);
      }
    };
    new MutationObserver(record).observe(document.querySelector('#workflow-graph'),
      { subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'] });
  });

  // ff -> opt -> hess, each job from the geometry its parent optimized. ff goes to a paused
  // queue and is let go only once the view has drawn every box, so the view sees each job
  // before it completes however fast the machine (water's GFN2 optimization takes ~0.1 s: on a
  // fast machine ff and opt had completed before the first drawing). ff also skips the
  // calculation cache, for a server that ran this test before.
  const held = await postJson(`${base}/queues/held/pause`, {});
  ok(held.status === 200 && held.json.paused === true, `the queue ff waits in is paused (${held.text})`);
  const answer = await submitAndOpen({
    name: 'water ff-opt-hess',
    jobs: {
      ff: { engine: 'xtb', task: 'optimize', method: 'gfnff', molecule: { xyz: WATER_XYZ }, cache: false, queue: 'held' },
      opt: { engine: 'xtb', task: 'optimize', method: 'gfn2', molecule: { from_job: 'ff', geometry: 'optimized' } },
      hess: { engine: 'xtb', task: 'hessian', method: 'gfn2', molecule: { from_job: 'opt' } },
    },
  });
  const workflowId = answer.workflow_id;
  ok(/^[0-9a-f]{32}$/.test(workflowId || ''), `POST /workflows answered a workflow id (${workflowId})`);
  ok(Array.isArray(answer.jobs) && answer.jobs.map((j) => j.name).join() === 'ff,opt,hess',
    'its jobs come parents first: ff, opt, hess');
  const ids = Object.fromEntries(answer.jobs.map((j) => [j.name, j.job_id]));
  ok(answer.jobs.every((j) => /^[0-9a-f]{32}$/.test(j.job_id) && j.url === `/jobs/${j.job_id}`), 'each with its job id and URL');
  ok(answer.jobs.find((j) => j.name === 'hess').state === 'waiting', 'hess waits for its parents');

  await check(page.waitForSelector(`#workflow-view[data-workflow-id="${workflowId}"][data-loaded="true"]`,
    { timeout: UI_TIMEOUT_MS }), 'the workflow view opens at #/workflows/<id>');
  ok((await page.textContent('#workflow-heading')).includes('water ff-opt-hess'), 'its heading is the workflow\'s name');
  ok(await page.$$eval('#workflow-graph [data-node]', (n) => n.length) === 3, 'the graph has three boxes');
  ok(await page.$$eval('#workflow-graph .wf-edge', (e) => e.length) === 2, 'and two arrows');
  ok(await page.$('#workflow-graph .wf-edge.geometry[data-from="ff"][data-to="opt"]') !== null
    && await page.$('#workflow-graph .wf-edge.geometry[data-from="opt"][data-to="hess"]') !== null,
  'ff → opt and opt → hess, each labelled as handing on the geometry');
  ok(await page.$$eval('#workflow-graph .wf-edge-label', (l) => l.filter((t) => t.textContent === 'geometry').length) === 2,
    'the labels read "geometry"');
  const drawn = await boxes();
  ok(drawn.ff.x + drawn.ff.width <= drawn.opt.x && drawn.opt.x + drawn.opt.width <= drawn.hess.x,
    `the layers go left to right: ff (x ${Math.round(drawn.ff.x)}), opt (${Math.round(drawn.opt.x)}), hess (${Math.round(drawn.hess.x)})`);
  ok(await page.$eval('[data-node="opt"]', (n) => n.textContent.includes('xtb · gfn2 · optimize')),
    'a box gives engine, method and task');
  ok(await page.getAttribute('[data-node="hess"]', 'href') === `#/jobs/${ids.hess}`, 'a box links to its job');
  await check(page.waitForFunction(() => ['ff', 'opt', 'hess'].every((name) => (window.noxStatesSeen[name] || []).length > 0),
    null, { timeout: UI_TIMEOUT_MS }), 'every box has been drawn with its first state');
  const firstSeen = await statesSeen();
  ok(firstSeen.ff[0] === 'pending' && firstSeen.opt[0] === 'waiting' && firstSeen.hess[0] === 'waiting',
    `ff is drawn pending, opt and hess waiting (${firstSeen.ff[0]}, ${firstSeen.opt[0]}, ${firstSeen.hess[0]})`);
  const resumed = await postJson(`${base}/queues/held/resume`, {});
  ok(resumed.status === 200 && resumed.json.paused === false, 'the queue is resumed and ff may run');

  // Live: the boxes reach completed by job events, without a reload.
  await check(page.waitForSelector('#workflow-graph [data-node="hess"][data-state="completed"]', { timeout: JOB_TIMEOUT_MS }),
    'hess reaches completed on screen');
  ok(await page.$$eval('#workflow-graph [data-node][data-state="completed"]', (n) => n.length) === 3, 'all three boxes are completed');
  const seen = await statesSeen();
  ok(seen.hess.length > 1 && seen.hess[seen.hess.length - 1] === 'completed',
    `hess was drawn before it completed and followed live (${seen.hess.join(' → ')})`);
  ok(seen.opt.length > 1 && seen.opt[seen.opt.length - 1] === 'completed', `opt too (${seen.opt.join(' → ')})`);
  ok(seen.ff.length > 1 && seen.ff[seen.ff.length - 1] === 'completed', `and ff (${seen.ff.join(' → ')})`);
  ok(await page.evaluate(() => window.noxNotReloaded === true), 'the page was not reloaded');
  await check(page.waitForSelector('#workflow-view[data-state="completed"][data-live="false"]', { timeout: UI_TIMEOUT_MS }),
    'the workflow shows completed, and the view stops listening');
  ok(await page.textContent('#workflow-state') === 'completed', 'its state badge says completed');
  const workflow = await getJson(`/workflows/${workflowId}`);
  ok(workflow.state === 'completed' && workflow.counts.completed === 3, 'GET /workflows/{id} agrees: completed, 3 completed');
  const counts = await page.$$eval('#workflow-counts li', (items) => Object.fromEntries(items.map((li) => [li.dataset.state,
    Number(li.querySelector('.count').textContent)])));
  ok(JSON.stringify(counts) === JSON.stringify({ completed: 3 }), `the counts are the server's (${JSON.stringify(counts)})`);
  await saveScreenshot();

  // A box opens its job; the job view links back to the workflow.
  await page.click('#workflow-graph [data-node="hess"]');
  await check(page.waitForSelector(`#job-view[data-job-id="${ids.hess}"][data-state="completed"]`, { timeout: UI_TIMEOUT_MS }),
    'clicking hess opens its job view');
  ok(await page.isHidden('#workflow-view'), 'in place of the workflow view');
  await check(page.waitForSelector(`#workflow-link[href="#/workflows/${workflowId}"]`, { timeout: UI_TIMEOUT_MS }),
    'the job view links to its workflow');
  await check(page.waitForFunction(() => document.querySelector('#workflow-link').textContent === 'workflow water ff-opt-hess',
    null, { timeout: UI_TIMEOUT_MS }), 'by the workflow\'s name');
  ok((await page.textContent('#job-depends-on')).trim() === 'opt', 'it names the job it depends on as the workflow does (opt)');
  await check(page.waitForSelector('#viewer-input[data-model="shown"] canvas', { timeout: UI_TIMEOUT_MS }),
    'its input geometry (opt\'s optimized one) is shown in 3-D');
  await check(page.waitForSelector('#vibrations-card:not([hidden])', { timeout: UI_TIMEOUT_MS }), 'with its vibrations');
  await page.click('#workflow-link');
  await check(page.waitForSelector(`#workflow-view[data-workflow-id="${workflowId}"][data-state="completed"]`,
    { timeout: UI_TIMEOUT_MS }), 'the link opens the workflow again');

  // A workflow whose first job fails: the job depending on it fails with dependency_failed.
  const failing = await submitAndOpen({
    name: 'doomed',
    jobs: {
      root: { engine: 'xtb', task: 'optimize', method: 'gfn2', molecule: { xyz: WATER_XYZ }, timeout_s: 0.0005, cache: false },
      child: { engine: 'xtb', task: 'energy', method: 'gfn2', molecule: { from_job: 'root' } },
    },
  });
  await check(page.waitForSelector(`#workflow-view[data-workflow-id="${failing.workflow_id}"] [data-node="child"]`,
    { timeout: UI_TIMEOUT_MS }), 'the second workflow opens');
  await check(page.waitForSelector('#workflow-graph [data-node="root"][data-state="failed"]', { timeout: JOB_TIMEOUT_MS }),
    'its root fails (1 ms time limit)');
  await check(page.waitForSelector('#workflow-graph [data-node="child"][data-state="failed"][data-error="dependency_failed"]',
    { timeout: JOB_TIMEOUT_MS }), 'its child ends failed, with dependency_failed');
  ok(await page.$eval('[data-node="child"] .wf-state', (t) => t.textContent.includes('dependency_failed')),
    'the child\'s box says dependency_failed');
  ok(await page.$eval('[data-node="child"] title', (t) => t.textContent.includes('dependency_failed')),
    'and so does its tooltip');
  await check(page.waitForSelector('#workflow-view[data-state="failed"][data-live="false"]', { timeout: UI_TIMEOUT_MS }),
    'the workflow shows failed');
  await page.screenshot({ path: failedScreenshot, fullPage: true });
  console.log(`screenshot: ${failedScreenshot}`);

  // An id the server does not know.
  await page.evaluate(() => {
    window.location.hash = `#/workflows/${'0'.repeat(32)}`;
  });
  await check(page.waitForFunction(() => /There is no workflow/.test(document.querySelector('#workflow-message').textContent),
    null, { timeout: UI_TIMEOUT_MS }), 'an unknown workflow id says there is none');

  // The completed workflow for the screenshot.
  await page.evaluate((id) => {
    window.location.hash = `#/workflows/${id}`;
  }, workflowId);
  await check(page.waitForSelector(`#workflow-view[data-workflow-id="${workflowId}"][data-loaded="true"]`,
    { timeout: UI_TIMEOUT_MS }), 'back to the first workflow');
  ok(pageErrors.length === 0, `no uncaught errors in the page${pageErrors.length ? `: ${pageErrors.join('; ')}` : ''}`);
  await saveScreenshot();
} catch (err) {
  await saveScreenshot();
  await browser.close();
  fail(err.message);
}
await browser.close();
done();
