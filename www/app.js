// Nox dashboard: wires the job table, the submit forms, the job view, the batch view, the
// workflow view and the queue view together. Everything it shows or does goes through the JSON
// API and its event streams.
import { api, credentials } from './api.js';
import { JobTable } from './jobs.js';
import { SubmitForm } from './submit.js';
import { BatchForm } from './batch-submit.js';
import { JobView } from './jobview.js';
import { BatchView } from './batch.js';
import { WorkflowView } from './workflow.js';
import { QueueView } from './queue.js';
import { el } from './format.js';

const ENGINES_RETRY_MS = 5000;

const $ = (selector) => document.querySelector(selector);

const table = new JobTable({
  tbody: $('#jobs-body'),
  message: $('#jobs-message'),
  empty: $('#jobs-empty'),
  loadMore: $('#load-more'),
  connection: $('#connection'),
});

const view = new JobView($('#job-view'), {
  onClosed: () => closeView(),
  onMessage: (text) => {
    $('#jobs-message').textContent = text;
  },
});

const form = new SubmitForm($('#submit-form'));
const batchForm = new BatchForm($('#batch-form'));

function closeView() {
  if (window.location.hash) window.history.pushState(null, '', window.location.pathname + window.location.search);
  route();
}
const batchView = new BatchView($('#batch-view'), { onClosed: closeView });
const workflowView = new WorkflowView($('#workflow-view'), { onClosed: closeView });
const queueView = new QueueView($('#queue-view'), { onClosed: closeView });

// The forms and the engine filter are built from what the server says its engines take.
async function loadEngines() {
  let answer;
  try {
    answer = await api.listEngines();
  } catch (err) {
    form.enginesUnavailable(err.message);
    setTimeout(loadEngines, ENGINES_RETRY_MS);
    return;
  }
  const engines = Array.isArray(answer.engines) ? answer.engines : [];
  form.setEngines(engines);
  batchForm.setEngines(engines);
  const filter = $('#filter-engine');
  const chosen = filter.value;
  filter.replaceChildren(el('option', { value: '' }, 'any'), ...engines.map((e) => el('option', { value: e.name }, e.name)));
  // A filter from the URL for an engine this server does not list stays selectable.
  if (chosen && !engines.some((e) => e.name === chosen)) filter.append(el('option', { value: chosen }, chosen));
  filter.value = chosen;
}

// Filters: engine and tag go to the server; all three are kept in the URL's query.
const filtersForm = $('#filters');
function readFilters() {
  return {
    state: filtersForm.elements.state.value,
    engine: filtersForm.elements.engine.value,
    tag: filtersForm.elements.tag.value.trim(),
  };
}
function writeFilters(filters) {
  filtersForm.elements.state.value = filters.state || '';
  const engineFilter = filtersForm.elements.engine;
  // Before GET /engines has answered, the engine from the URL is the only choice besides "any".
  if (filters.engine && ![...engineFilter.options].some((o) => o.value === filters.engine)) {
    engineFilter.append(el('option', { value: filters.engine }, filters.engine));
  }
  engineFilter.value = filters.engine || '';
  filtersForm.elements.tag.value = filters.tag || '';
}
function filtersFromUrl() {
  const q = new URLSearchParams(window.location.search);
  return { state: q.get('state') || '', engine: q.get('engine') || '', tag: q.get('tag') || '' };
}
function applyFilters(filters) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v);
  const search = q.toString() ? `?${q}` : '';
  window.history.replaceState(null, '', `${window.location.pathname}${search}${window.location.hash}`);
  table.start(filters);
}
filtersForm.addEventListener('submit', (event) => {
  event.preventDefault();
  if (!filtersForm.reportValidity()) return;
  applyFilters(readFilters());
});
filtersForm.addEventListener('reset', () => {
  setTimeout(() => applyFilters(readFilters()), 0);
});
for (const select of filtersForm.querySelectorAll('select')) {
  select.addEventListener('change', () => applyFilters(readFilters()));
}

// Routing: #/jobs/<id> opens the job view, #/batches/<id> the batch view, #/workflows/<id> the
// workflow view, #/queue the queue view (the header's "Queue" link).
function route() {
  const job = /^#\/jobs\/([0-9a-f]{32})$/.exec(window.location.hash);
  const batch = /^#\/batches\/([0-9a-f]{32})$/.exec(window.location.hash);
  const workflow = /^#\/workflows\/([0-9a-f]{32})$/.exec(window.location.hash);
  table.select(job ? job[1] : null);
  if (job) view.open(job[1]);
  else view.close();
  if (batch) batchView.open(batch[1]);
  else batchView.close();
  if (workflow) workflowView.open(workflow[1]);
  else workflowView.close();
  const queue = window.location.hash === '#/queue';
  if (queue) queueView.open();
  else queueView.close();
  if (queue) $('#queue-link').setAttribute('aria-current', 'page');
  else $('#queue-link').removeAttribute('aria-current');
}
window.addEventListener('hashchange', route);
window.addEventListener('popstate', route);

// Asks for a key when the server needs one and none is kept; checks a kept one (a refused key
// answers 401, which shows the form with the reason).
let accessChecked = false;
async function checkAccess(health) {
  if (accessChecked || health.access !== 'keys') return;
  accessChecked = true;
  if (!credentials.get()) {
    window.dispatchEvent(new CustomEvent('nox:unauthenticated', { detail: null }));
    return;
  }
  try {
    await api.listJobs({ limit: 1 });
  } catch {
    // a 401 has shown the form; other errors show where they happen
  }
}

async function showServer() {
  try {
    const health = await api.health();
    checkAccess(health);
    const parts = [];
    if (health.version) parts.push(`noxd ${health.version}`);
    if (health.store && health.store.kind) parts.push(`${health.store.kind} store`);
    if (health.engines && typeof health.engines === 'object') {
      parts.push(`engines: ${Object.entries(health.engines)
        .map(([name, e]) => `${name}${e && e.available === false ? ' (unavailable)' : e && e.version ? ` ${e.version}` : ''}`)
        .join(', ')}`);
    }
    if (health.slots && typeof health.slots.total === 'number') parts.push(`slots ${health.slots.busy ?? 0}/${health.slots.total} busy`);
    if (health.queue && typeof health.queue.pending === 'number') parts.push(`${health.queue.pending} queued`);
    $('#server-info').textContent = parts.join(' · ');
  } catch (err) {
    $('#server-info').textContent = `server health unknown: ${err.message}`;
  }
}

// A server with API keys answers 401 until the user gives one: ask for it, keep it for this tab
// (sessionStorage), and start again with it. The server shows only that key's jobs.
const keyForm = $('#key-form');
const forgetKey = $('#forget-key');
forgetKey.hidden = !credentials.get();
window.addEventListener('nox:unauthenticated', (event) => {
  keyForm.hidden = false;
  const error = event.detail && event.detail.error;
  $('#key-message').textContent = credentials.get()
    ? `This key was refused${error && error.message ? `: ${error.message}` : ''}.`
    : 'This server needs an API key.';
});
keyForm.addEventListener('submit', (event) => {
  event.preventDefault();
  credentials.set(keyForm.elements.key.value.trim());
  window.location.reload();
});
forgetKey.addEventListener('click', () => {
  credentials.set('');
  window.location.reload();
});

const initial = filtersFromUrl();
writeFilters(initial);
table.start(initial);
route();
loadEngines();
showServer();
setInterval(showServer, 15000);
