#!/usr/bin/env node
// The dashboard's chemistry (issue 9) in Debian's chromium, driven by playwright-core, against a
// real noxd with xtb:
//   - the submit form is built from GET /engines;
//   - a SMILES typed into the form is previewed by POST /molecules (a bad one shows the 422 next
//     to the field), then ethanol "CCO" runs as an xtb optimize_hessian whose view shows the 3-D
//     structures, the energy of every optimization cycle (xtbopt.log), the IR spectrum with one
//     stick per mode and a normal mode playing in 3Dmol;
//   - the same calculation submitted again comes from the calculation cache, and says so;
//   - an SDF of 20 records (one broken) submitted as a batch lists its refused record, and the
//     batch view shows the counts, a table of results that sorts, and a CSV download.
//
//   NOXD=build/server/noxd node tests/browser/run-with-noxd.mjs tests/browser/chemistry.test.mjs
//   NOX_URL=http://127.0.0.1:PORT node tests/browser/chemistry.test.mjs
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { baseUrl, getJson, launchChromium, ok, done, fail, screenshotChecks } from './support.mjs';

const base = baseUrl();
const screenshot = process.env.SCREENSHOT || '/tmp/nox-chemistry.png';
const JOB_TIMEOUT_MS = Number(process.env.JOB_TIMEOUT_MS || 90000);
const UI_TIMEOUT_MS = 20000;
const ETHANOL_INCHIKEY = 'LFQSCWFLJHTTHZ-UHFFFAOYSA-N';
const twentySdf = fileURLToPath(new URL('../fixtures/molecules/twenty.sdf', import.meta.url));

const browser = await launchChromium();
const pageErrors = [];
let page;
const { saveScreenshot, check } = screenshotChecks(browser, () => page, screenshot);

// Waits until two pictures of the element differ: its content moves.
async function waitForMotion(selector, timeoutMs) {
  const element = await page.$(selector);
  const first = await element.screenshot();
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    await page.waitForTimeout(150);
    if (!first.equals(await element.screenshot())) return;
  }
  throw new Error(`${selector} did not change within ${timeoutMs} ms`);
}

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));

  await page.goto(`${base}/`, { waitUntil: 'load' });
  await check(page.waitForSelector('#engine option[value="xtb"]:not([disabled])', { state: 'attached', timeout: UI_TIMEOUT_MS }),
    'the form lists xtb from GET /engines');

  // The form says what GET /engines says.
  const engines = (await getJson('/engines')).engines;
  const xtb = engines.find((e) => e.name === 'xtb');
  ok(xtb && xtb.available, 'xtb runs on this server');
  const engineOptions = await page.$$eval('#engine option', (options) => options.map((o) => o.value));
  ok(JSON.stringify(engineOptions) === JSON.stringify(engines.map((e) => e.name)),
    `the engine choices are the server's (${engineOptions.join(', ')})`);
  await page.selectOption('#engine', 'xtb');
  const methodOptions = await page.$$eval('#method option', (options) => options.map((o) => o.value));
  ok(JSON.stringify(methodOptions) === JSON.stringify(xtb.methods), `xtb's methods are the server's (${methodOptions.join(', ')})`);
  const taskOptions = await page.$$eval('#task option', (options) => options.map((o) => o.value));
  ok(JSON.stringify(taskOptions) === JSON.stringify(xtb.tasks), 'xtb\'s tasks are the server\'s');
  await page.selectOption('#solvent-model', 'alpb');
  const solvents = await page.$$eval('#solvents option', (options) => options.map((o) => o.value));
  const alpb = xtb.solvent_models.find((m) => m.name === 'alpb');
  ok(JSON.stringify(solvents) === JSON.stringify(alpb.solvents_by_method.gfn2.map((s) => s.name)),
    `ALPB offers the server's ${solvents.length} solvents for GFN2`);
  await page.selectOption('#solvent-model', '');

  // SMILES: a broken one shows the server's 422 next to the field; ethanol is previewed in 3-D.
  await page.check('#molecule-format-smiles');
  await page.fill('#smiles', 'c1ccccc1C1CC');
  await check(page.waitForSelector('#smiles-error:not([hidden])', { timeout: UI_TIMEOUT_MS }),
    'a broken SMILES shows the conversion error next to the field');
  const smilesError = await page.textContent('#smiles-error');
  ok(/ring|never closed|position/i.test(smilesError), `the message says what is wrong (${smilesError.trim()})`);
  ok(await page.getAttribute('#smiles', 'aria-invalid') === 'true', 'the SMILES field is marked aria-invalid');
  await page.fill('#smiles', 'CCO');
  await check(page.waitForSelector('#molecule-preview[data-state="shown"] #preview-viewer[data-model="shown"] canvas',
    { timeout: UI_TIMEOUT_MS }), 'ethanol is previewed in a 3Dmol viewer');
  ok(await page.isHidden('#smiles-error'), 'the error is gone');
  const preview = await page.textContent('#preview-identifiers');
  ok(preview.includes(ETHANOL_INCHIKEY) && /C2H6O/.test(preview.replace(/\s/g, '')),
    'the preview gives the formula C2H6O and the InChIKey');

  // Ethanol: optimize + Hessian with xtb, submitted from the form.
  await page.selectOption('#task', 'optimize_hessian');
  await page.selectOption('#method', 'gfn2');
  await page.fill('#name', `ethanol ${Date.now()}`);
  await page.click('#submit-button');
  await check(page.waitForSelector('#submitted-link', { timeout: UI_TIMEOUT_MS }), 'the SMILES job is submitted (202)');
  const jobId = await page.getAttribute('#submitted-link', 'data-job-id');
  await page.click('#submitted-link');
  await check(page.waitForSelector(`#job-view[data-job-id="${jobId}"][data-state="completed"]`, { timeout: JOB_TIMEOUT_MS }),
    'the job view shows it completed');
  const job = await getJson(`/jobs/${jobId}`);
  ok(job.spec.molecule.identifiers.inchikey === ETHANOL_INCHIKEY, 'the server stored ethanol\'s InChIKey');
  await check(page.waitForSelector('#viewer-input[data-model="shown"] canvas', { timeout: UI_TIMEOUT_MS }),
    'the structure built from the SMILES is shown in 3-D');
  await check(page.waitForSelector('#viewer-optimized[data-model="shown"] canvas', { timeout: UI_TIMEOUT_MS }),
    'the optimized structure is shown in 3-D');
  ok((await page.textContent('#job-summary')).includes(ETHANOL_INCHIKEY), 'the summary names the molecule by InChIKey');

  // The energy of every optimization cycle, from xtbopt.log.
  const trajectory = await (await fetch(`${base}/jobs/${jobId}/artifacts/xtbopt.log`)).text();
  const cycles = (trajectory.match(/energy:/g) || []).length;
  await check(page.waitForSelector(`#energy-chart[data-source="trajectory"][data-points="${cycles}"]`, { timeout: UI_TIMEOUT_MS }),
    `the energy chart shows all ${cycles} cycles of xtbopt.log`);
  ok(await page.$$eval('#energy-svg circle', (c) => c.length) === cycles, 'one point per cycle');

  // The IR spectrum: one stick per real mode of the result.
  const frequencies = job.result.frequencies_cm1;
  const realModes = frequencies.filter((f) => f > 0).length;
  ok(Array.isArray(job.result.ir_intensities_km_mol) && job.result.ir_intensities_km_mol.length === frequencies.length,
    `the result has ${frequencies.length} frequencies with IR intensities`);
  await check(page.waitForSelector(`#vibrations-card:not([hidden]) #ir-spectrum[data-points="${realModes}"]`, { timeout: UI_TIMEOUT_MS }),
    `the IR spectrum plots ${realModes} modes`);
  ok(await page.$$eval('#ir-svg .stick', (s) => s.length) === realModes, 'one stick per mode');
  ok(await page.$$eval('#mode-select option', (o) => o.length) === frequencies.length, 'every mode can be chosen');

  // A normal mode plays in 3Dmol: the animation runs and the picture moves.
  await check(page.waitForSelector('#mode-viewer[data-animating="true"][data-model="shown"] canvas', { timeout: UI_TIMEOUT_MS }),
    'the strongest IR mode is animated (g98.out displacements)');
  ok(Number(await page.getAttribute('#mode-viewer', 'data-frames')) > 2, 'the animation has frames');
  await check(waitForMotion('#mode-viewer', 10000), 'the mode animation is running (the picture changes)');
  const playing = await page.getAttribute('#mode-viewer', 'data-mode');
  const stick = await page.$(`#ir-svg .stick:not([data-mode="${playing}"])`);
  const chosen = await stick.getAttribute('data-mode');
  await stick.click();
  await check(page.waitForSelector(`#mode-viewer[data-mode="${chosen}"][data-animating="true"]`, { timeout: UI_TIMEOUT_MS }),
    `clicking a stick plays its mode (${chosen})`);
  ok(await page.inputValue('#mode-select') === chosen, 'the mode list follows');
  await page.click('#mode-toggle');
  await check(page.waitForSelector('#mode-viewer[data-animating="false"]', { timeout: UI_TIMEOUT_MS }), 'Pause stops it');
  await page.click('#mode-toggle');
  await check(page.waitForSelector('#mode-viewer[data-animating="true"]', { timeout: UI_TIMEOUT_MS }), 'Play starts it again');

  // The same calculation again: the calculation cache answers it, and the dashboard says so.
  await page.click('#submit-button');
  await check(page.waitForFunction((previous) => {
    const link = document.querySelector('#submitted-link');
    return link && link.dataset.jobId !== previous;
  }, jobId, { timeout: UI_TIMEOUT_MS }), 'the same calculation is submitted again');
  const againId = await page.getAttribute('#submitted-link', 'data-job-id');
  await check(page.waitForSelector(`#jobs-body tr[data-job-id="${againId}"] .cache-badge[href="#/jobs/${jobId}"]`,
    { timeout: JOB_TIMEOUT_MS }), 'its row carries a "cached" badge linking to the first job');
  await page.click('#submitted-link');
  await check(page.waitForSelector(`#job-view[data-job-id="${againId}"] #cache-note:not([hidden]) a[href="#/jobs/${jobId}"]`,
    { timeout: UI_TIMEOUT_MS }), 'its view says the result came from the cache, with a link to the source job');
  await saveScreenshot();

  // A batch from an SDF: 20 records, record 7 broken.
  await page.setInputFiles('#batch-file', twentySdf);
  await page.selectOption('#batch-engine', 'xtb');
  await page.selectOption('#batch-task', 'energy');
  await page.selectOption('#batch-method', 'gfn2');
  await page.click('#batch-form details.advanced summary');
  await page.fill('#batch-tags', 'browser-batch');
  await page.click('#batch-submit-button');
  await check(page.waitForSelector('#batch-link', { timeout: UI_TIMEOUT_MS }), 'the SDF batch is submitted (202)');
  const batchAnswer = await page.textContent('#batch-result');
  ok(/19 jobs submitted, 1 record refused/.test(batchAnswer), `the answer counts them (${batchAnswer.trim()})`);
  const refused = await page.$$eval('#batch-records li.refused', (items) => items.map((li) => li.textContent));
  ok(refused.length === 1 && /record 7\b/.test(refused[0]), `the broken record is named with its error (${refused[0]})`);
  const batchId = await page.getAttribute('#batch-link', 'data-batch-id');
  await page.click('#batch-link');
  await check(page.waitForSelector(`#batch-view[data-batch-id="${batchId}"]:not([hidden])`, { timeout: UI_TIMEOUT_MS }),
    'the batch view opens');
  await check(page.waitForSelector('#batch-view[data-total="19"][data-finished="19"][data-results-pending="0"]',
    { timeout: JOB_TIMEOUT_MS }), 'it follows the batch until all 19 jobs have finished and their results are read');
  const batch = await getJson(`/batches/${batchId}`);
  const counts = await page.$$eval('#batch-counts li', (items) => Object.fromEntries(items.map((li) => [li.dataset.state,
    Number(li.querySelector('.count').textContent)])));
  ok(Object.entries(batch.counts).filter(([, n]) => n > 0).every(([state, n]) => counts[state] === n),
    `the counts are the server's (${JSON.stringify(counts)})`);
  ok(Number(await page.getAttribute('#batch-progress', 'value')) === 1, 'the progress bar is full');
  ok(await page.$$eval('#batch-jobs tr', (rows) => rows.length) === 19, 'the table has a row per job');
  const energies = () => page.$$eval('#batch-jobs tr[data-state="completed"] td:nth-child(4)',
    (cells) => cells.map((c) => Number(c.textContent)));
  const completedEnergies = await energies();
  ok(completedEnergies.length === batch.counts.completed && completedEnergies.every((e) => e < 0),
    `each completed job shows its energy (${completedEnergies.length})`);

  // Sorting by energy, both ways.
  await page.click('#batch-table th[data-column="energy"] button');
  ok(await page.getAttribute('#batch-table th[data-column="energy"]', 'aria-sort') === 'ascending', 'sorted by energy, ascending');
  let sorted = await energies();
  ok(sorted.every((e, i) => i === 0 || sorted[i - 1] <= e), 'the energies ascend');
  await page.click('#batch-table th[data-column="energy"] button');
  sorted = await energies();
  ok(sorted.every((e, i) => i === 0 || sorted[i - 1] >= e), 'clicked again, they descend');

  // The CSV, built in the browser.
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: UI_TIMEOUT_MS }), page.click('#batch-csv')]);
  const csv = fs.readFileSync(await download.path(), 'utf8').trim().split(/\r\n/);
  ok(download.suggestedFilename() === `batch-${batchId}.csv`, `the CSV is named ${download.suggestedFilename()}`);
  ok(csv[0] === 'job_id,name,state,formula,energy_eh,homo_lumo_gap_ev,dipole_debye,imaginary_frequency_count,error',
    'the CSV has its header');
  ok(csv.length === 20, 'and a line per job');
  const firstRow = csv[1].split(',');
  ok(Number(firstRow[4]).toFixed(8) === sorted[0].toFixed(8), 'in the order shown (highest energy first), full precision');

  ok(pageErrors.length === 0, `no uncaught errors in the page${pageErrors.length ? `: ${pageErrors.join('; ')}` : ''}`);
  await saveScreenshot();
} catch (err) {
  await saveScreenshot();
  await browser.close();
  fail(err.message);
}
await browser.close();
done();
