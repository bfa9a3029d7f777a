// The queue view (#/queue), for operators: GET /queue drawn as the jobs by state, the oldest
// pending job's age, what is pending by priority and by required compute tag, the named queues
// with their controls (pause/resume, concurrency), and what each instance runs.
//
// Live by polling: GET /queue has no event stream, so the view reads it every REFRESH_MS while
// open, one request at a time, and at once after one of its own actions. Rows are updated in
// place, so that a concurrency being typed or a focused button survives the refreshes.
import { api } from './api.js';
import { el, elapsed } from './format.js';

const REFRESH_MS = 2000;
const STATES = ['pending', 'running', 'scheduled', 'waiting'];

// [key, count] pairs of an object of counts; priorities highest first (an object's integer keys
// come out of Object.entries in ascending order, whatever order the server wrote them in).
function byPriority(counts) {
  return Object.entries(counts || {}).sort(([a], [b]) => Number(b) - Number(a));
}
function byCount(counts) {
  return Object.entries(counts || {}).sort(([a, x], [b, y]) => y - x || a.localeCompare(b));
}

// A two-column table of pending counts, or a note that nothing is pending.
function countTable(id, caption, keyHeader, entries) {
  if (!entries.length) return el('p', { class: 'empty', id }, 'Nothing pending.');
  return el('table', { class: 'data', id },
    el('caption', { class: 'visually-hidden' }, caption),
    el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, keyHeader), el('th', { scope: 'col', class: 'num' }, 'Pending'))),
    el('tbody', {}, entries.map(([key, count]) => el('tr', { dataset: { key } },
      el('th', { scope: 'row' }, key), el('td', { class: 'num' }, String(count))))));
}

export class QueueView {
  constructor(root, { onClosed }) {
    this.root = root;
    this.heading = root.querySelector('#queue-heading');
    this.message = root.querySelector('#queue-message');
    this.states = root.querySelector('#queue-states');
    this.oldest = root.querySelector('#queue-oldest');
    this.priorities = root.querySelector('#queue-priorities');
    this.tags = root.querySelector('#queue-tags');
    this.queuesBody = root.querySelector('#queues-body');
    this.queuesEmpty = root.querySelector('#queues-empty');
    this.instancesBody = root.querySelector('#instances-body');
    this.instancesEmpty = root.querySelector('#instances-empty');
    this.rows = new Map(); // queue name -> its row's parts
    this.generation = 0;
    this.refreshing = false;
    this.refreshAgain = false;
    this.timer = null;
    this.loadFailed = false; // the message says why the last read failed
    root.querySelector('#close-queue').addEventListener('click', () => onClosed());
  }

  get isOpen() {
    return !this.root.hidden;
  }

  open() {
    if (this.isOpen) return;
    this.close();
    this.root.hidden = false;
    this.root.dataset.loaded = 'false';
    this.message.textContent = 'Loading…';
    this.root.scrollIntoView({ behavior: 'smooth', block: 'start' });
    this.heading.focus({ preventScroll: true });
    this.refresh();
  }

  close() {
    this.generation += 1;
    clearTimeout(this.timer);
    this.timer = null;
    this.refreshing = false;
    this.refreshAgain = false;
    this.rows.clear();
    this.queuesBody.replaceChildren();
    this.root.hidden = true;
    this.root.dataset.live = 'false';
  }

  // One GET /queue at a time; asked for during one, another follows it at once. The next
  // regular read is REFRESH_MS after the last one answered.
  async refresh() {
    if (!this.isOpen) return;
    if (this.refreshing) {
      this.refreshAgain = true;
      return;
    }
    clearTimeout(this.timer);
    this.timer = null;
    this.refreshing = true;
    const generation = this.generation;
    try {
      const overview = await api.getQueue();
      if (generation !== this.generation) return;
      if (this.loadFailed || this.root.dataset.loaded !== 'true') this.message.textContent = '';
      this.loadFailed = false;
      this.show(overview);
    } catch (err) {
      if (generation !== this.generation) return;
      this.loadFailed = true;
      this.message.textContent = err.status === 403
        ? `The queue is for administrators: ${err.message}`
        : `Could not read the queue: ${err.message}`;
    } finally {
      if (generation === this.generation) {
        this.refreshing = false;
        this.root.dataset.live = 'true';
        if (this.refreshAgain) {
          this.refreshAgain = false;
          this.refresh();
        } else {
          this.timer = setTimeout(() => this.refresh(), REFRESH_MS);
        }
      }
    }
  }

  show(overview) {
    const states = overview.states || {};
    this.states.replaceChildren(...STATES.map((s) => el('li', { dataset: { state: s } },
      el('span', { class: `state state-${s}` }, s), ' ', el('strong', { class: 'count' }, String(states[s] ?? 0)))));
    const age = overview.oldest_pending_age_s;
    if (typeof age === 'number') {
      this.oldest.textContent = elapsed(age * 1000);
      this.oldest.dataset.seconds = String(age);
    } else {
      this.oldest.textContent = 'none pending';
      delete this.oldest.dataset.seconds;
    }
    this.priorities.replaceChildren(countTable('queue-priority-table', 'Pending jobs by priority, highest first',
      'Priority', byPriority(overview.pending_by_priority)));
    this.tags.replaceChildren(countTable('queue-tag-table', 'Pending jobs by the compute tag they require',
      'Requires', byCount(overview.pending_by_required_tag)));
    this.showQueues(Array.isArray(overview.queues) ? overview.queues : []);
    this.showInstances(Array.isArray(overview.instances) ? overview.instances : []);
    this.root.dataset.loaded = 'true';
  }

  // The server lists a queue while it has jobs or controls; one that has neither (resumed and
  // emptied, say) keeps its row until the view closes, shown as it now is: empty, open, no limit.
  showQueues(listed) {
    const names = new Set(listed.map((q) => q.name));
    const queues = [...listed];
    for (const name of this.rows.keys()) {
      if (!names.has(name)) queues.push({ name, pending: 0, running: 0, paused: false, concurrency: null });
    }
    queues.sort((a, b) => a.name.localeCompare(b.name));
    const order = queues.map((q) => this.row(q.name).tr);
    for (const q of queues) this.update(q);
    // Moved only when the order changed: moving a row would take the focus from its input.
    const current = [...this.queuesBody.children];
    if (current.length !== order.length || current.some((tr, i) => tr !== order[i])) this.queuesBody.append(...order);
    this.queuesEmpty.hidden = queues.length > 0;
  }

  // The row of queue `name`, made the first time it is seen.
  row(name) {
    if (this.rows.has(name)) return this.rows.get(name);
    const errorId = `queue-concurrency-error-${name}`;
    const input = el('input', { type: 'number', min: '0', max: '100000', step: '1', inputmode: 'numeric',
      class: 'concurrency', placeholder: 'no limit', 'aria-label': `Concurrency of queue ${name}`,
      'aria-describedby': errorId });
    const error = el('p', { class: 'field-error', id: errorId, role: 'alert', hidden: true });
    const toggle = el('button', { type: 'button', class: 'queue-toggle' });
    const row = {
      name,
      input,
      error,
      toggle,
      busy: false, // a PUT of the concurrency is under way
      pending: el('td', { class: 'num pending' }),
      running: el('td', { class: 'num running' }),
      paused: el('td', { class: 'paused' }),
      tr: null,
    };
    row.tr = el('tr', { dataset: { queue: name } },
      el('th', { scope: 'row' }, el('code', {}, name)),
      row.pending, row.running,
      el('td', { class: 'concurrency-cell' }, input, error),
      row.paused,
      el('td', {}, toggle));
    input.addEventListener('change', () => this.setConcurrency(row));
    toggle.addEventListener('click', () => this.togglePaused(row));
    this.rows.set(name, row);
    return row;
  }

  // Shows a queue as the server answered it (GET /queue's entry, or a control's answer).
  update(queue, { concurrencyFromServer = false } = {}) {
    const row = this.rows.get(queue.name);
    if (!row) return;
    const paused = queue.paused === true;
    row.tr.dataset.paused = String(paused);
    row.tr.dataset.pending = String(queue.pending ?? 0);
    row.tr.dataset.running = String(queue.running ?? 0);
    row.tr.dataset.concurrency = queue.concurrency === null || queue.concurrency === undefined ? '' : String(queue.concurrency);
    row.tr.classList.toggle('paused', paused);
    row.pending.textContent = String(queue.pending ?? 0);
    row.running.textContent = String(queue.running ?? 0);
    row.paused.replaceChildren(paused ? el('span', { class: 'badge paused-badge' }, 'paused') : el('span', { class: 'muted' }, 'no'));
    row.toggle.replaceChildren(paused ? 'Resume' : 'Pause', el('span', { class: 'visually-hidden' }, ` queue ${queue.name}`));
    row.toggle.className = `queue-toggle ${paused ? '' : 'warning'}`.trim();
    row.toggle.dataset.action = paused ? 'resume' : 'pause';
    // What the user is typing, or a value the server refused (shown beside its reason), stays.
    const editing = document.activeElement === row.input || row.busy || !row.error.hidden;
    if (concurrencyFromServer || !editing) row.input.value = row.tr.dataset.concurrency;
  }

  async togglePaused(row) {
    const resume = row.tr.dataset.paused === 'true';
    row.toggle.disabled = true;
    try {
      const answer = await (resume ? api.resumeQueue(row.name) : api.pauseQueue(row.name));
      this.message.textContent = `${resume ? 'Resumed' : 'Paused'} queue ${row.name}.`;
      this.loadFailed = false;
      if (answer && answer.name) this.update(answer);
    } catch (err) {
      this.message.textContent = `Could not ${resume ? 'resume' : 'pause'} queue ${row.name}: ${err.message}`;
    } finally {
      row.toggle.disabled = false;
    }
    this.refresh();
  }

  // PUT /queues/{name} {"concurrency"}: empty for no limit. The server judges the number; its
  // reason for refusing one (422) goes beside the input.
  async setConcurrency(row) {
    const { input } = row;
    if (input.validity.badInput) {
      this.showConcurrencyError(row, 'Enter a whole number, or nothing for no limit.');
      return;
    }
    const text = input.value.trim();
    const concurrency = text === '' ? null : Number(text);
    row.busy = true;
    input.setAttribute('aria-busy', 'true');
    try {
      const answer = await api.setQueue(row.name, { concurrency });
      this.showConcurrencyError(row, '');
      if (answer && answer.name) this.update(answer, { concurrencyFromServer: true });
      const limit = answer && typeof answer.concurrency === 'number' ? `at most ${answer.concurrency} running` : 'no limit';
      this.message.textContent = `Queue ${row.name}: ${limit}.`;
      this.loadFailed = false;
    } catch (err) {
      this.showConcurrencyError(row, err.message);
    } finally {
      row.busy = false;
      input.removeAttribute('aria-busy');
    }
    this.refresh();
  }

  showConcurrencyError(row, text) {
    row.error.textContent = text;
    row.error.hidden = !text;
    if (text) row.input.setAttribute('aria-invalid', 'true');
    else row.input.removeAttribute('aria-invalid');
  }

  showInstances(instances) {
    this.instancesBody.replaceChildren(...instances.map((i) => {
      const running = Number(i.running) || 0;
      const slots = Number(i.slots) || 0;
      return el('tr', { dataset: { worker: i.worker_id || '' } },
        el('th', { scope: 'row' }, el('code', {}, i.worker_id || '')),
        el('td', {}, i.host || ''),
        el('td', { class: 'slots' },
          el('meter', { min: '0', max: String(Math.max(slots, 1)), value: String(running), 'aria-hidden': 'true' }),
          ` ${running} / ${slots}`));
    }));
    this.instancesEmpty.hidden = instances.length > 0;
  }
}
