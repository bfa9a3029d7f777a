// The batch view (#/batches/<id>): GET /batches/{id} for the counts by state and the progress,
// the batch's jobs from GET /jobs?tag=batch:<id> (the list GET /batches/{id} names as jobs_url),
// each completed job's numbers from GET /jobs/{id}/result, in a table sortable by any column
// and downloadable as CSV. It stays live: job events update the rows and the counts.
//
// The job list carries no results, so a batch of n completed jobs costs n result requests
// (a few at a time); a result never changes once there, so each is read once.
import { api, onJobEvents, TERMINAL_EVENTS } from './api.js';
import { el, fixed, formulaElement, shortId, timeElement } from './format.js';
import { toCsv, downloadText } from './csv.js';

const LIST_PAGE = 1000;
const RESULT_REQUESTS_AT_ONCE = 4;
const COUNTS_REFRESH_MS = 1000; // at most one GET /batches/{id} per second while events arrive
const RENDER_DELAY_MS = 200;
const STATE_ORDER = ['waiting', 'scheduled', 'pending', 'running', 'completed', 'failed', 'cancelled'];

// The table's columns: value(job) gives what is shown, sorted on and written to the CSV.
const COLUMNS = [
  { key: 'name', label: 'Molecule', csv: 'name', value: (j) => j.name || '' },
  { key: 'state', label: 'State', csv: 'state', value: (j) => j.state },
  { key: 'formula', label: 'Formula', csv: 'formula', value: (j) => j.formula || '' },
  { key: 'energy', label: 'Energy / Eh', csv: 'energy_eh', digits: 8, value: (j) => j.result && j.result.energy_eh },
  { key: 'gap', label: 'HOMO–LUMO gap / eV', csv: 'homo_lumo_gap_ev', digits: 3,
    value: (j) => j.result && j.result.homo_lumo_gap_ev },
  { key: 'dipole', label: 'Dipole / D', csv: 'dipole_debye', digits: 3,
    value: (j) => j.result && j.result.dipole_debye && j.result.dipole_debye.total },
  { key: 'imaginary', label: 'Imaginary modes', csv: 'imaginary_frequency_count', digits: 0,
    value: (j) => j.result && j.result.imaginary_frequency_count },
];

const isNumber = (v) => typeof v === 'number' && Number.isFinite(v);

// Missing values sort last whichever the direction.
function compare(a, b) {
  const missingA = a === undefined || a === null || a === '';
  const missingB = b === undefined || b === null || b === '';
  if (missingA || missingB) return missingA === missingB ? 0 : (missingA ? 1 : -1);
  if (isNumber(a) && isNumber(b)) return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

export class BatchView {
  constructor(root, { onClosed }) {
    this.root = root;
    this.heading = root.querySelector('#batch-heading');
    this.message = root.querySelector('#batch-message');
    this.counts = root.querySelector('#batch-counts');
    this.progress = root.querySelector('#batch-progress');
    this.progressText = root.querySelector('#batch-progress-text');
    this.tableHead = root.querySelector('#batch-table thead tr');
    this.tbody = root.querySelector('#batch-jobs');
    this.csvButton = root.querySelector('#batch-csv');
    this.batchId = null;
    this.jobs = new Map(); // job_id -> {id, name, state, formula, result, error}
    this.sort = { key: 'name', direction: 1 };
    this.source = null;
    this.generation = 0;
    this.resultQueue = [];
    this.resultRequests = 0;
    root.querySelector('#close-batch').addEventListener('click', () => onClosed());
    this.csvButton.addEventListener('click', () => this.downloadCsv());
    this.buildHeader();
  }

  buildHeader() {
    this.tableHead.replaceChildren(...COLUMNS.map((c) => el('th', { scope: 'col', dataset: { column: c.key },
      class: c.digits !== undefined ? 'num' : null },
    el('button', { type: 'button', class: 'sort', onclick: () => this.sortBy(c.key) }, c.label))),
    el('th', { scope: 'col' }, 'Job'));
    this.showSort();
  }

  sortBy(key) {
    this.sort = { key, direction: this.sort.key === key ? -this.sort.direction : 1 };
    this.showSort();
    this.render();
  }

  showSort() {
    for (const th of this.tableHead.querySelectorAll('th[data-column]')) {
      const sorted = th.dataset.column === this.sort.key;
      if (sorted) th.setAttribute('aria-sort', this.sort.direction > 0 ? 'ascending' : 'descending');
      else th.removeAttribute('aria-sort');
    }
  }

  async open(id) {
    if (this.batchId === id && !this.root.hidden) return;
    this.close();
    this.generation += 1;
    const generation = this.generation;
    this.batchId = id;
    this.root.hidden = false;
    this.root.dataset.batchId = id;
    this.root.dataset.loaded = 'false';
    this.heading.textContent = `Batch ${id}`;
    this.message.textContent = 'Loading…';
    this.counts.replaceChildren();
    this.tbody.replaceChildren();
    this.progress.value = 0;
    this.progressText.textContent = '';
    this.root.scrollIntoView({ behavior: 'smooth', block: 'start' });
    this.heading.focus({ preventScroll: true });
    // Listen first and apply what arrives once the list is in, so no change in between is lost.
    // All jobs' events, kept only for this batch's: an /events stream filtered by the batch's
    // tag does not carry its jobs' events (the event filter knows the jobs' own tags only).
    const early = [];
    this.subscribe(generation, (type, data) => early.push([type, data]));
    try {
      await this.refreshCounts();
      const jobs = await this.listJobs(generation);
      if (generation !== this.generation) return;
      for (const job of jobs) {
        this.jobs.set(job.job_id, { id: job.job_id, name: job.name, state: job.state, formula: job.formula,
          result: null, error: job.error, cachedFrom: job.cached_from });
      }
    } catch (err) {
      if (generation !== this.generation) return;
      this.message.textContent = err.status === 404 ? `There is no batch ${id} (or none of its jobs is yours).`
        : `Could not load batch ${id}: ${err.message}`;
      return;
    }
    this.message.textContent = '';
    this.onEvent = (type, data) => this.apply(type, data);
    for (const [type, data] of early) this.apply(type, data);
    for (const job of this.jobs.values()) if (job.state === 'completed') this.queueResult(job.id);
    this.render();
  }

  close() {
    if (this.source) this.source.close();
    this.source = null;
    this.generation += 1;
    this.batchId = null;
    this.jobs.clear();
    this.resultQueue = [];
    this.resultRequests = 0; // answers still on their way belong to the old generation
    clearTimeout(this.renderTimer);
    clearTimeout(this.countsTimer);
    this.renderTimer = null;
    this.countsTimer = null;
    this.root.hidden = true;
    delete this.root.dataset.batchId;
  }

  subscribe(generation, onEarlyEvent) {
    this.onEvent = onEarlyEvent;
    const source = new EventSource(api.eventsUrl());
    this.source = source;
    onJobEvents(source, (type, data) => {
      if (generation === this.generation) this.onEvent(type, data);
    });
    // Events were lost (our Last-Event-ID is older than the log keeps): read it all again.
    source.addEventListener('reset', () => {
      if (generation !== this.generation) return;
      const id = this.batchId;
      this.close();
      this.open(id);
    });
  }

  async listJobs(generation) {
    const jobs = [];
    let cursor = null;
    do {
      const page = await api.listJobs({ tag: `batch:${this.batchId}`, limit: LIST_PAGE, cursor });
      if (generation !== this.generation) return jobs;
      jobs.push(...(page.jobs || []));
      cursor = page.next_cursor || null;
    } while (cursor);
    return jobs;
  }

  apply(type, data) {
    const job = this.jobs.get(data.job_id);
    if (!job) return;
    if (type === 'deleted') {
      this.jobs.delete(data.job_id);
    } else {
      if (data.state) job.state = data.state;
      if (type === 'failed' || type === 'cancelled') job.error = data.error || job.error;
      if (type === 'completed') this.queueResult(job.id);
    }
    if (TERMINAL_EVENTS.has(type) || type === 'started' || type === 'queued' || type === 'retrying') {
      this.scheduleCounts();
    }
    this.scheduleRender();
  }

  // A few result requests at a time, however many jobs complete at once.
  queueResult(id) {
    this.resultQueue.push(id);
    this.pumpResults();
  }

  pumpResults() {
    const generation = this.generation;
    while (this.resultRequests < RESULT_REQUESTS_AT_ONCE && this.resultQueue.length) {
      const id = this.resultQueue.shift();
      const job = this.jobs.get(id);
      if (!job || job.result) continue;
      this.resultRequests += 1;
      api.getResult(id).then((answer) => {
        if (generation !== this.generation) return;
        const current = this.jobs.get(id);
        if (current) current.result = answer.result || {};
        this.scheduleRender();
      }).catch(() => {
        // Deleted meanwhile, or the server is away: the row keeps its state without numbers.
      }).finally(() => {
        if (generation !== this.generation) return;
        this.resultRequests -= 1;
        this.pumpResults();
      });
    }
  }

  scheduleCounts() {
    if (this.countsTimer) return;
    this.countsTimer = setTimeout(() => {
      this.countsTimer = null;
      this.refreshCounts().catch((err) => {
        this.message.textContent = `Could not refresh the counts: ${err.message}`;
      });
    }, COUNTS_REFRESH_MS);
  }

  async refreshCounts() {
    const generation = this.generation;
    const batch = await api.getBatch(this.batchId);
    if (generation !== this.generation) return;
    this.root.dataset.total = String(batch.total);
    this.root.dataset.finished = String(batch.finished);
    const counts = batch.counts || {};
    const states = [...STATE_ORDER.filter((s) => s in counts), ...Object.keys(counts).filter((s) => !STATE_ORDER.includes(s))];
    this.counts.replaceChildren(...states.filter((s) => counts[s] > 0).map((s) => el('li', { dataset: { state: s } },
      el('span', { class: `state state-${s}` }, s), ' ', el('strong', { class: 'count' }, String(counts[s])))));
    this.progress.value = batch.progress;
    this.progressText.replaceChildren(`${batch.finished} of ${batch.total} finished (${Math.round(batch.progress * 100)} %)`,
      ...(batch.created_at ? [' · submitted ', timeElement(batch.created_at)] : []),
      ...(batch.finished_at ? [' · all finished ', timeElement(batch.finished_at)] : []));
  }

  scheduleRender() {
    if (this.renderTimer) return;
    this.renderTimer = setTimeout(() => {
      this.renderTimer = null;
      this.render();
    }, RENDER_DELAY_MS);
  }

  sortedJobs() {
    const column = COLUMNS.find((c) => c.key === this.sort.key) || COLUMNS[0];
    return [...this.jobs.values()].sort((a, b) => {
      const byColumn = compare(column.value(a), column.value(b));
      if (byColumn !== 0) return byColumn * this.sort.direction;
      return compare(a.name, b.name);
    });
  }

  render() {
    if (!this.batchId) return;
    const waitingForResults = [...this.jobs.values()].filter((j) => j.state === 'completed' && !j.result).length;
    this.root.dataset.loaded = 'true';
    this.root.dataset.resultsPending = String(waitingForResults);
    this.csvButton.disabled = this.jobs.size === 0;
    this.tbody.replaceChildren(...this.sortedJobs().map((job) => {
      const cells = COLUMNS.map((c) => {
        const value = c.value(job);
        if (c.key === 'state') {
          const cell = el('td', {}, el('span', { class: `state state-${job.state}` }, job.state),
            job.cachedFrom ? el('span', { class: 'badge cache-badge' }, 'cached') : null);
          if (job.error && job.error.message) cell.title = job.error.message;
          return cell;
        }
        if (c.key === 'formula') return el('td', {}, formulaElement(value));
        if (c.digits !== undefined) return el('td', { class: 'num' }, fixed(value, c.digits));
        return el('td', {}, value);
      });
      cells.push(el('td', {}, el('a', { href: `#/jobs/${job.id}`, class: 'mono', title: job.id }, shortId(job.id))));
      return el('tr', { dataset: { jobId: job.id, state: job.state } }, cells);
    }));
  }

  // The rows as sorted on screen, with the job id and any error beside the table's columns.
  downloadCsv() {
    const header = ['job_id', ...COLUMNS.map((c) => c.csv), 'error'];
    const rows = this.sortedJobs().map((job) => [job.id, ...COLUMNS.map((c) => {
      const value = c.value(job);
      return isNumber(value) ? value : (value ?? '');
    }), job.error && job.error.message ? job.error.message : '']);
    downloadText(toCsv(header, rows), `batch-${this.batchId}.csv`);
  }
}
