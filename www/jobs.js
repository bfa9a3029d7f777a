// The live job table: GET /jobs for the list, then EventSource on /events to keep every row
// current without reloading. Engine and tag filters go to the server (they never change for a
// job); the state filter is applied here too, so a job that leaves the chosen state leaves the
// table and one that enters it appears.
import { api, onJobEvents } from './api.js';
import { el, timeElement, formulaElement, shortId } from './format.js';

const PAGE_SIZE = 50;
const RECONNECT_DELAY_MS = 5000;

function progressText(job) {
  const p = job.progress;
  if (job.state !== 'running' || !p || typeof p !== 'object' || p.cycle === undefined) return '';
  return `cycle ${p.cycle}`;
}

// The calculation cache's link, as a badge that opens the other job: the job whose result this
// one holds (cached_from), or the one it waits for (waiting_on, state "waiting").
function cacheBadge(job) {
  if (job.cached_from) {
    return el('a', { class: 'badge cache-badge', href: `#/jobs/${job.cached_from}`,
      title: `Result from the calculation cache: job ${job.cached_from} computed the same calculation` }, 'cached');
  }
  if (job.state === 'waiting' && job.waiting_on) {
    return el('a', { class: 'badge waiting-badge', href: `#/jobs/${job.waiting_on}`,
      title: `Waits for job ${job.waiting_on}, which runs the same calculation, and will share its result` },
    `on ${shortId(job.waiting_on)}`);
  }
  return null;
}

export class JobTable {
  constructor({ tbody, message, empty, loadMore, connection }) {
    this.tbody = tbody;
    this.message = message;
    this.empty = empty;
    this.loadMoreButton = loadMore;
    this.connection = connection;
    this.jobs = new Map(); // job_id -> status object
    this.rows = new Map(); // job_id -> <tr>
    this.filters = { state: '', engine: '', tag: '' };
    this.cursor = null;
    this.source = null;
    this.loading = false;
    this.buffered = [];
    this.selectedId = null;
    this.generation = 0;
    this.loadMoreButton.addEventListener('click', () => this.loadOlder());
  }

  // (Re)starts the subscription and reloads the list with these filters.
  start(filters = this.filters) {
    this.filters = { ...filters };
    this.generation += 1;
    const generation = this.generation;
    if (this.source) this.source.close();
    clearTimeout(this.reconnectTimer);
    this.setConnection('connecting', 'connecting…');
    // Subscribe first and load the list on open, buffering events meanwhile, so that nothing
    // that happens between the two is missed.
    this.loading = true;
    this.buffered = [];
    this.refreshChrome();
    const source = new EventSource(api.eventsUrl({ engine: this.filters.engine, tag: this.filters.tag }));
    this.source = source;
    let opened = false;
    source.addEventListener('open', () => {
      if (generation !== this.generation) return;
      this.setConnection('live', 'live');
      if (!opened) {
        opened = true;
        this.reload();
      }
    });
    source.addEventListener('error', () => {
      if (generation !== this.generation) return;
      if (source.readyState === EventSource.CLOSED) {
        // The browser gave up (e.g. the server answered with an error): start over later.
        this.setConnection('offline', 'disconnected; retrying…');
        this.reconnectTimer = setTimeout(() => {
          if (generation === this.generation) this.start();
        }, RECONNECT_DELAY_MS);
      } else {
        this.setConnection('reconnecting', 'reconnecting…');
      }
    });
    onJobEvents(source, (type, data) => {
      if (generation !== this.generation) return;
      if (this.loading) this.buffered.push([type, data]);
      else this.apply(type, data);
    });
    // The server no longer has the events after our last id: start over with a fresh stream
    // (a reconnect would resend the same stale Last-Event-ID) and reload the list.
    source.addEventListener('reset', () => {
      if (generation === this.generation) this.start();
    });
  }

  setConnection(status, text) {
    this.connection.dataset.status = status;
    this.connection.textContent = text;
  }

  async reload() {
    const generation = this.generation;
    this.loading = true;
    this.refreshChrome();
    this.message.textContent = 'Loading jobs…';
    try {
      const page = await api.listJobs({ ...this.filters, limit: PAGE_SIZE });
      if (generation !== this.generation) return;
      this.jobs.clear();
      this.rows.clear();
      this.tbody.replaceChildren();
      for (const job of page.jobs || []) this.upsert(job, false);
      this.cursor = page.next_cursor || null;
      this.message.textContent = '';
    } catch (err) {
      if (generation !== this.generation) return;
      this.message.textContent = `Could not load jobs: ${err.message}`;
    } finally {
      if (generation === this.generation) {
        this.loading = false;
        const buffered = this.buffered;
        this.buffered = [];
        for (const [type, data] of buffered) this.apply(type, data);
        this.refreshChrome();
      }
    }
  }

  async loadOlder() {
    if (!this.cursor) return;
    const generation = this.generation;
    this.loadMoreButton.disabled = true;
    try {
      const page = await api.listJobs({ ...this.filters, limit: PAGE_SIZE, cursor: this.cursor });
      if (generation !== this.generation) return;
      for (const job of page.jobs || []) if (!this.jobs.has(job.job_id)) this.upsert(job, false);
      this.cursor = page.next_cursor || null;
    } catch (err) {
      this.message.textContent = `Could not load older jobs: ${err.message}`;
    } finally {
      this.loadMoreButton.disabled = false;
      this.refreshChrome();
    }
  }

  matchesState(state) {
    return !this.filters.state || this.filters.state === state;
  }

  // One event from /events: update the row it concerns. Every event names the job's state, so
  // the row follows the events; GET /jobs/{id}/status only fills in what an event does not carry
  // (engine, task, formula, ...) for a job the table has not seen yet.
  apply(type, data) {
    const id = data.job_id;
    if (type === 'deleted') {
      this.remove(id);
      return;
    }
    let job = this.jobs.get(id);
    const isNew = !job;
    if (isNew) {
      if (!this.matchesState(data.state)) return;
      job = { job_id: id, state: data.state, created_at: type === 'submitted' ? data.time : null,
        started_at: null, finished_at: null, tags: [] };
    }
    const updated = { ...job };
    if (data.state) updated.state = data.state;
    if (type === 'started') {
      updated.started_at = data.time || updated.started_at;
      updated.finished_at = null;
    } else if (type === 'completed' || type === 'failed' || type === 'cancelled') {
      updated.finished_at = data.time || updated.finished_at;
      if (type === 'failed') updated.error = data.error || updated.error;
    } else if (type === 'retrying') {
      updated.finished_at = null;
    }
    if (type === 'progress' && data.progress) updated.progress = data.progress;
    if (type === 'queued') delete updated.waiting_on;
    else if (data.waiting_on) updated.waiting_on = data.waiting_on; // a workflow job waits for its next parent
    if (!this.matchesState(updated.state)) {
      this.remove(id);
      return;
    }
    this.upsert(updated, true);
    // A job that waited on an identical calculation and completed with it now has cached_from,
    // which no event carries: read it.
    if (isNew || (type === 'completed' && job.state === 'waiting')) this.fillIn(id);
  }

  async fillIn(id) {
    let status;
    try {
      status = await api.getStatus(id);
    } catch {
      return; // deleted meanwhile (its event removes the row), or the server is away
    }
    const job = this.jobs.get(id);
    if (!job) return;
    const merged = { ...status, ...job };
    for (const key of ['engine', 'task', 'method', 'name', 'tags', 'formula', 'created_at', 'attempts', 'error',
      'waiting_on', 'cached_from']) {
      if (status[key] !== undefined) merged[key] = status[key];
    }
    // Times the events have not told yet, when the status describes the same state as the row.
    if (status.state === job.state) {
      merged.started_at = job.started_at || status.started_at;
      merged.finished_at = job.finished_at || status.finished_at;
      if (!job.progress && status.progress) merged.progress = status.progress;
    }
    this.upsert(merged, false);
  }

  upsert(job, live) {
    const previous = this.jobs.get(job.job_id);
    this.jobs.set(job.job_id, job);
    const row = this.renderRow(job);
    const old = this.rows.get(job.job_id);
    if (old && previous && previous.created_at === job.created_at) {
      old.replaceWith(row);
    } else {
      if (old) old.remove();
      this.rows.delete(job.job_id);
      // Newest first, by created_at; rows without one yet go first.
      const created = Date.parse(job.created_at) || Infinity;
      let before = null;
      for (const other of this.tbody.rows) {
        const o = this.jobs.get(other.dataset.jobId);
        if (o && (Date.parse(o.created_at) || Infinity) < created) {
          before = other;
          break;
        }
      }
      this.tbody.insertBefore(row, before);
    }
    this.rows.set(job.job_id, row);
    if (live) {
      row.classList.add('flash');
      this.refreshChrome();
    }
  }

  remove(id) {
    const row = this.rows.get(id);
    if (row) row.remove();
    this.rows.delete(id);
    this.jobs.delete(id);
    this.refreshChrome();
  }

  select(id) {
    this.selectedId = id;
    for (const [jobId, row] of this.rows) {
      if (jobId === id) row.setAttribute('aria-current', 'true');
      else row.removeAttribute('aria-current');
    }
  }

  refreshChrome() {
    this.tbody.closest('table').dataset.loading = String(this.loading);
    this.empty.hidden = this.loading || this.rows.size > 0;
    this.loadMoreButton.hidden = !this.cursor;
  }

  renderRow(job) {
    const href = `#/jobs/${job.job_id}`;
    const label = job.name || shortId(job.job_id);
    const progress = progressText(job);
    const stateCell = el('td', { class: 'state-cell' },
      el('span', { class: `state state-${job.state}` }, job.state),
      progress ? el('span', { class: 'progress-note' }, progress) : null,
      cacheBadge(job));
    if (job.state === 'failed' && job.error && job.error.message) stateCell.title = job.error.message;
    const tags = Array.isArray(job.tags) && job.tags.length
      ? el('span', { class: 'tags' }, job.tags.map((t) => el('span', { class: 'tag' }, t))) : null;
    const row = el('tr', {
      dataset: { jobId: job.job_id, state: job.state },
      'aria-current': job.job_id === this.selectedId ? 'true' : null,
    },
    stateCell,
    el('td', { class: 'job-cell' },
      el('a', { href, title: job.job_id, class: job.name ? '' : 'mono' }, label), tags),
    el('td', {}, job.engine || ''),
    el('td', {}, job.task || ''),
    el('td', {}, job.method || ''),
    el('td', {}, formulaElement(job.formula)),
    el('td', {}, timeElement(job.created_at)),
    el('td', {}, timeElement(job.started_at)),
    el('td', {}, timeElement(job.finished_at)));
    row.addEventListener('click', (event) => {
      if (event.target.closest('a')) return; // the link navigates by itself
      window.location.hash = href;
    });
    return row;
  }
}
