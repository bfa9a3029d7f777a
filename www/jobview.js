// The job view: summary, event timeline (GET /jobs/{id}/events, which replays the history
// first), the energy chart (live, then every cycle once finished), 3-D structures, the
// vibrations of a Hessian job (IR spectrum, normal modes), parsed results, files, the
// calculation cache's links, a workflow job's workflow and the jobs it depends on, cancel,
// retry (a failed or cancelled job runs again as the same job, followed live) and delete.
import { api, ApiError, EVENT_TYPES, TERMINAL_EVENTS, FINISHED_STATES, withToken } from './api.js';
import { EnergyChart } from './chart.js';
import { el, timeElement, formulaElement, duration, fixed, bytes, xyzSymbols, shortId } from './format.js';
import { parseOptimizationLog } from './optimization-log.js';
import { StructureViewer } from './viewer.js';
import { VibrationsCard } from './vibrations.js';

const OPTIMIZING_TASKS = new Set(['optimize', 'optimize_hessian']);
const CANCELLABLE_STATES = new Set(['pending', 'scheduled', 'running', 'waiting']);
const RETRYABLE_STATES = new Set(['failed', 'cancelled']);
const KNOWN_RESULT_FIELDS = new Set(['energy_eh', 'homo_lumo_gap_ev', 'dipole_debye', 'partial_charges', 'bond_orders',
  'optimized_xyz', 'frequencies_cm1', 'ir_intensities_km_mol', 'imaginary_frequency_count', 'has_imaginary_frequencies',
  'thermochemistry', 'optimization', 'minimum', 'wall_time_s', 'engine', 'warnings']);
const HARTREE_TO_KCAL = 627.509474;

// A job of a workflow waits for the jobs it depends on (spec.depends_on, ids), one at a time
// (waiting_on); any other waiting job waits for the calculation cache.
function dependsOn(job) {
  const spec = (job && job.spec) || {};
  return Array.isArray(spec.depends_on) ? spec.depends_on : [];
}
const waitsForDependency = (job) => Boolean(job && job.waiting_on && dependsOn(job).includes(job.waiting_on));

// nameOf(id): how another job is called here (its name in the workflow, else its short id).
function eventDetail(type, data, job, nameOf) {
  const extra = (key) => (data[key] !== undefined && data[key] !== null ? data[key] : undefined);
  switch (type) {
    case 'progress': {
      // A workflow job whose awaited parent completed and that now waits for another one.
      if (!data.progress && data.waiting_on) {
        return `${data.waited_on ? `${nameOf(data.waited_on)} completed; ` : ''}waits for ${nameOf(data.waiting_on)}`;
      }
      const p = data.progress || {};
      return `cycle ${p.cycle ?? '?'}: E = ${fixed(p.energy_eh, 8)} Eh`
        + (typeof p.gradient_norm === 'number' ? `, |g| = ${p.gradient_norm.toExponential(2)}` : '');
    }
    case 'completed': {
      const r = data.result || {};
      const parts = [];
      if (typeof r.energy_eh === 'number') parts.push(`E = ${r.energy_eh.toFixed(8)} Eh`);
      if (typeof r.wall_time_s === 'number') parts.push(`${r.wall_time_s.toFixed(2)} s`);
      return parts.join(', ');
    }
    case 'retrying':
      if (data.by === 'request') {
        // POST /jobs/{id}/retry: which attempt comes, after what, with what changed.
        return [`retried by request${data.attempt ? `: attempt ${data.attempt}` : ''}`,
          data.after ? `after ${data.after}` : '',
          data.changed && typeof data.changed === 'object' ? `changed ${Object.keys(data.changed).join(', ')}` : '']
          .filter(Boolean).join(', ');
      }
    // falls through: a retry by the server says why the attempt before failed
    case 'failed':
    case 'cancelled': {
      const e = data.error;
      if (e && (e.code || e.message)) return [e.code, e.message].filter(Boolean).join(': ');
      return extra('message') || '';
    }
    case 'started':
      return extra('attempt') !== undefined ? `attempt ${data.attempt}` : (extra('worker') || '');
    case 'submitted':
      if (data.state === 'waiting' && dependsOn(job).length) return 'waits for the jobs it depends on';
      if (data.state === 'waiting') return 'the same calculation exists: shares its result (calculation cache)';
      return job && job.spec ? `${job.spec.engine || ''} ${job.spec.task || ''}`.trim() : '';
    case 'queued':
      if (dependsOn(job).length) return 'the jobs it depends on have completed: it runs';
      return 'the calculation it waited for did not complete: it runs itself';
    default:
      return extra('message') || '';
  }
}

function row(label, ...value) {
  return el('tr', {}, el('th', { scope: 'row' }, label), el('td', {}, ...value));
}

export class JobView {
  constructor(root, { onClosed, onMessage }) {
    this.root = root;
    this.onClosed = onClosed;
    this.onMessage = onMessage;
    this.heading = root.querySelector('#job-heading');
    this.message = root.querySelector('#job-message');
    this.errorBox = root.querySelector('#job-error');
    this.summary = root.querySelector('#job-summary');
    this.timeline = root.querySelector('#timeline');
    this.results = root.querySelector('#results');
    this.artifacts = root.querySelector('#artifacts');
    this.cancelButton = root.querySelector('#cancel-job');
    this.retryButton = root.querySelector('#retry-job');
    this.deleteButton = root.querySelector('#delete-job');
    this.optimizedCaption = root.querySelector('#optimized-caption');
    this.chart = new EnergyChart(root.querySelector('#energy-chart'), root.querySelector('#energy-svg'),
      root.querySelector('#chart-caption'));
    this.inputViewer = new StructureViewer(root.querySelector('#viewer-input'));
    this.optimizedViewer = new StructureViewer(root.querySelector('#viewer-optimized'));
    this.vibrations = new VibrationsCard(root.querySelector('#vibrations-card'));
    this.cacheNote = root.querySelector('#cache-note');
    this.extrasLoadedFor = null; // the job whose trajectory and normal modes were read
    // A workflow job's workflow: {id, name, names: job id -> name in the workflow}, read once.
    this.workflow = null;
    this.job = null;
    this.jobId = null;
    this.source = null;
    this.seenEventIds = new Set();
    this.lastEventId = ''; // the newest event shown: a stream opened again starts after it
    this.lastEventType = null; // of the newest event the stream delivered
    this.retryRequested = false; // POST /retry answered; its `retrying` event has not come yet
    this.cancelButton.addEventListener('click', () => this.cancel());
    this.retryButton.addEventListener('click', () => this.retry());
    this.deleteButton.addEventListener('click', () => this.remove());
    root.querySelector('#close-job').addEventListener('click', () => this.onClosed());
    window.addEventListener('resize', () => {
      this.inputViewer.resize();
      this.optimizedViewer.resize();
      this.vibrations.resize();
    });
  }

  async open(id) {
    if (this.jobId === id && !this.root.hidden) return;
    this.close();
    this.jobId = id;
    this.root.hidden = false;
    this.root.dataset.jobId = id;
    this.root.dataset.state = '';
    this.heading.textContent = `Job ${id}`;
    this.message.textContent = 'Loading…';
    this.errorBox.hidden = true;
    this.summary.replaceChildren();
    this.timeline.replaceChildren();
    this.results.replaceChildren(el('p', { class: 'empty' }, 'No result yet.'));
    this.artifacts.replaceChildren(el('p', { class: 'empty' }, 'Files are listed when the job has finished.'));
    this.chart.reset();
    this.inputViewer.clear();
    this.optimizedViewer.clear();
    this.vibrations.reset();
    this.cacheNote.hidden = true;
    this.extrasLoadedFor = null;
    this.setButtons(null);
    this.root.scrollIntoView({ behavior: 'smooth', block: 'start' });
    this.heading.focus({ preventScroll: true });
    let job;
    try {
      job = await api.getJob(id);
    } catch (err) {
      if (this.jobId !== id) return;
      this.message.textContent = err.status === 404 ? `There is no job ${id} (it may have been deleted).`
        : `Could not load job ${id}: ${err.message}`;
      return;
    }
    if (this.jobId !== id) return;
    this.message.textContent = '';
    this.render(job);
    if (job.progress && typeof job.progress === 'object') this.chart.add(job.progress);
    this.subscribe(id);
    if (FINISHED_STATES.has(job.state)) {
      this.loadArtifacts(id);
      this.loadFinishedExtras(job);
    }
  }

  close() {
    if (this.source) this.source.close();
    this.source = null;
    this.vibrations.reset(); // stops a playing mode
    this.jobId = null;
    this.job = null;
    this.workflow = null;
    this.seenEventIds.clear();
    this.lastEventId = '';
    this.lastEventType = null;
    this.retryRequested = false;
    this.root.hidden = true;
    delete this.root.dataset.jobId;
  }

  // after: the id of the last event shown, when the stream is opened again (after a retry).
  subscribe(id, after) {
    const source = new EventSource(api.jobEventsUrl(id, after));
    this.source = source;
    this.lastEventType = null;
    for (const type of EVENT_TYPES) {
      source.addEventListener(type, (message) => {
        if (this.source !== source) return;
        // Even an event already shown: a stream that repeats its final event has still ended.
        this.lastEventType = type;
        let data;
        try {
          data = JSON.parse(message.data);
        } catch {
          return;
        }
        // A resumed stream starts after Last-Event-ID; this guards a server that repeats one anyway.
        if (message.lastEventId) {
          if (this.seenEventIds.has(message.lastEventId)) return;
          this.seenEventIds.add(message.lastEventId);
        }
        if (message.lastEventId) this.lastEventId = message.lastEventId;
        this.onEvent(type, data, message.lastEventId);
      });
    }
    source.addEventListener('reset', () => {
      if (this.source !== source) return;
      // Our Last-Event-ID is older than the log keeps: read the job and its history afresh.
      const jobId = this.jobId;
      this.close();
      this.open(jobId);
    });
    source.addEventListener('error', () => {
      if (this.source !== source) return;
      // The server ends a job's stream after the job's last event, and only then: a failed or
      // cancelled event that a retry followed does not end it. Close, or EventSource would
      // connect again; Retry opens a new stream.
      if (TERMINAL_EVENTS.has(this.lastEventType)) {
        source.close();
        this.source = null;
        return;
      }
      if (source.readyState === EventSource.CLOSED) {
        this.message.textContent = 'The event stream of this job closed; reopen the job to reconnect.';
      }
    });
  }

  onEvent(type, data, eventId) {
    this.addTimelineEntry(type, data, eventId);
    if (!this.job) return;
    if (type === 'retrying') this.startOver();
    if (type === 'started' && typeof data.attempt === 'number') this.job.attempts = data.attempt;
    if (type === 'progress' && data.progress) {
      this.chart.add(data.progress);
      this.job.progress = data.progress;
    }
    if (data.state === 'waiting' && data.waiting_on && data.waiting_on !== this.job.waiting_on) {
      this.job.waiting_on = data.waiting_on; // the next job it depends on (a "progress" event)
      this.renderSummary(this.job);
      this.renderCacheNote(this.job);
    }
    if (data.state && data.state !== this.job.state) {
      this.job.state = data.state;
      if (type === 'started') this.job.started_at = data.time;
      if (type === 'retrying') this.job.finished_at = null;
      if (type === 'queued') delete this.job.waiting_on;
      this.renderSummary(this.job);
      this.renderCacheNote(this.job);
      this.setButtons(this.job.state);
    }
    if (type === 'deleted') {
      this.message.textContent = 'This job was deleted.';
      this.setButtons(null);
      return;
    }
    if (type === 'completed' || type === 'failed' || type === 'cancelled') this.refresh();
    // The jobs it depended on have completed: its spec now has the molecule it runs from.
    else if (type === 'queued' && dependsOn(this.job).length) this.reread();
  }

  async reread() {
    const id = this.jobId;
    try {
      const job = await api.getJob(id);
      if (this.jobId === id && this.job && !FINISHED_STATES.has(this.job.state)) this.render(job);
    } catch {
      // the next event reads it again
    }
  }

  // A new attempt (a retry, by request or by the server): what the one before left (its result,
  // error, cycles, files) is no longer the job's.
  startOver() {
    if (this.retryRequested) this.message.textContent = ''; // "Retry requested": the timeline says it now
    this.retryRequested = false;
    Object.assign(this.job, { result: null, error: null, progress: null, finished_at: null });
    this.errorBox.hidden = true;
    this.chart.reset();
    this.vibrations.reset();
    this.extrasLoadedFor = null;
    this.optimizedViewer.clear();
    this.renderResults(null, null, 'pending');
    this.artifacts.replaceChildren(el('p', { class: 'empty' }, 'Files are listed when the job has finished.'));
    this.setButtons(this.job.state);
  }

  // After a terminal event: the full record has the result; the files are listed now. (While a
  // retried job's history is replayed the record may already be running again: no files yet.)
  async refresh() {
    const id = this.jobId;
    try {
      const job = await api.getJob(id);
      if (this.jobId !== id) return;
      this.render(job);
      if (!FINISHED_STATES.has(job.state)) return;
      this.loadArtifacts(id);
      this.loadFinishedExtras(job);
    } catch (err) {
      if (this.jobId === id) this.message.textContent = `Could not reload the job: ${err.message}`;
    }
  }

  addTimelineEntry(type, data, eventId) {
    const detail = eventDetail(type, data, this.job,
      (id) => (this.workflow && this.workflow.names.get(id)) || `job ${shortId(id)}`);
    const last = this.timeline.lastElementChild;
    const cycle = type === 'progress' && Boolean(data.progress);
    if (cycle && last && last.dataset.cycle === 'true') {
      // Consecutive progress events share one line: the first and the latest cycle.
      const count = Number(last.dataset.count) + 1;
      last.dataset.count = String(count);
      last.querySelector('.detail').textContent = `${count} cycles; latest ${detail}`;
      return;
    }
    this.timeline.append(el('li', { dataset: { eventType: type, eventId: eventId || '', count: '1', cycle: String(cycle) } },
      timeElement(data.time),
      el('span', { class: `event-name ev-${data.state || type}` }, type),
      el('span', { class: 'detail' }, detail)));
  }

  // What a finished job's files add, read once: every cycle of an optimization (xtbopt.log; the
  // live progress events showed only some) and a Hessian job's vibrations.
  async loadFinishedExtras(job) {
    const id = job.job_id;
    if (this.extrasLoadedFor === id) return;
    this.extrasLoadedFor = id;
    const spec = job.spec || {};
    const result = job.result && typeof job.result === 'object' ? job.result : null;
    if (result && Array.isArray(result.frequencies_cm1)) {
      this.vibrations.show(result, () => api.artifactText(id, 'g98.out'));
    }
    if (OPTIMIZING_TASKS.has(spec.task) && job.state !== 'cancelled') {
      try {
        const log = await api.artifactText(id, 'xtbopt.log');
        if (this.jobId !== id || !log) return;
        this.chart.showTrajectory(parseOptimizationLog(log));
      } catch (err) {
        if (this.jobId === id) this.message.textContent = `Could not read the optimization trajectory: ${err.message}`;
      }
    }
  }

  // A link to another job, by its name in this job's workflow when it has one there.
  jobLink(other) {
    const name = this.workflow && this.workflow.names.get(other);
    if (name) return el('a', { href: `#/jobs/${other}`, title: other }, name);
    return el('a', { href: `#/jobs/${other}`, class: 'mono', title: other }, `job ${shortId(other)}`);
  }

  // The workflow's name and its jobs' names, for the summary's links (the job's spec has ids only).
  async loadWorkflow(job) {
    const id = job.spec && job.spec.workflow_id;
    if (!id || (this.workflow && this.workflow.id === id)) return;
    const jobId = job.job_id;
    this.workflow = { id, name: '', names: new Map() };
    try {
      const workflow = await api.getWorkflow(id);
      if (this.jobId !== jobId) return;
      this.workflow = { id, name: workflow.name || '',
        names: new Map((workflow.jobs || []).map((j) => [j.job_id, j.name])) };
    } catch {
      return; // the links keep the ids
    }
    if (!this.job) return;
    this.renderSummary(this.job);
    this.renderCacheNote(this.job);
  }

  // The calculation cache's links: the job whose result this one holds, or the one it waits for;
  // for a workflow job, the job it depends on that it waits for now.
  renderCacheNote(job) {
    const link = (other) => this.jobLink(other);
    if (waitsForDependency(job)) {
      this.cacheNote.replaceChildren(el('span', { class: 'badge waiting-badge' }, 'waiting'),
        ' Waits for ', link(job.waiting_on), ', a job it depends on: it runs once all of them have completed,',
        ' and fails (dependency_failed) if one of them fails or is cancelled.');
    } else if (job.cached_from) {
      this.cacheNote.replaceChildren(el('span', { class: 'badge cache-badge' }, 'cached'),
        ' Result from the calculation cache: ', link(job.cached_from),
        ' ran this same calculation (engine, method, molecule, settings); its result and files were copied.');
    } else if (job.state === 'waiting' && job.waiting_on) {
      this.cacheNote.replaceChildren(el('span', { class: 'badge waiting-badge' }, 'waiting'),
        ' Waits for ', link(job.waiting_on), ', which runs this same calculation: this job completes with its result,',
        ' or runs itself if that one fails.');
    } else {
      this.cacheNote.hidden = true;
      return;
    }
    this.cacheNote.hidden = false;
  }

  setButtons(state) {
    this.cancelButton.disabled = !CANCELLABLE_STATES.has(state);
    this.deleteButton.disabled = !FINISHED_STATES.has(state);
    this.retryButton.hidden = !RETRYABLE_STATES.has(state);
    this.retryButton.disabled = this.retryRequested;
    this.root.dataset.state = state || '';
  }

  render(job) {
    this.job = job;
    const spec = job.spec || {};
    // A workflow's job is known by its name there when it has no name of its own.
    const name = spec.name || spec.workflow_node;
    this.heading.textContent = name ? `Job: ${name}` : `Job ${job.job_id}`;
    this.setButtons(job.state);
    this.renderSummary(job);
    this.renderCacheNote(job);
    this.loadWorkflow(job);
    if (job.error && (job.error.code || job.error.message)) {
      this.errorBox.hidden = false;
      this.errorBox.replaceChildren(el('strong', {}, job.error.code || 'error'), ': ', job.error.message || '');
    } else {
      this.errorBox.hidden = true;
    }
    const inputXyz = spec.molecule && spec.molecule.xyz;
    if (inputXyz) this.inputViewer.show(inputXyz);
    const result = job.result && typeof job.result === 'object' ? job.result : null;
    if (result && result.optimized_xyz) {
      this.optimizedViewer.show(result.optimized_xyz);
      this.optimizedCaption.textContent = 'Optimized geometry';
    } else {
      this.optimizedViewer.clear();
      if (!OPTIMIZING_TASKS.has(spec.task)) {
        this.optimizedCaption.textContent = `Optimized geometry (the ${spec.task || ''} task does not optimize)`;
      } else if (FINISHED_STATES.has(job.state)) {
        this.optimizedCaption.textContent = `Optimized geometry (none: the job ${job.state} without one)`;
      } else {
        this.optimizedCaption.textContent = 'Optimized geometry (after the optimization finishes)';
      }
    }
    this.renderResults(result, inputXyz, job.state);
  }

  renderSummary(job) {
    const spec = job.spec || {};
    const solvent = spec.solvent && spec.solvent.name ? `${spec.solvent.name} (${(spec.solvent.model || '').toUpperCase()})` : 'none';
    const items = [
      ['State', el('span', { class: `state state-${job.state}` }, job.state)],
      ['Job id', el('code', {}, job.job_id)],
      ['Engine', spec.engine || ''],
      ['Task', spec.task || ''],
      ['Method', spec.method || ''],
      ['Formula', formulaElement(job.formula || formulaFromXyz(spec.molecule && spec.molecule.xyz))],
      ['Charge / multiplicity', `${spec.charge ?? 0} / ${spec.multiplicity ?? 1}`],
      ['Solvent', solvent],
      ['Created', timeElement(job.created_at)],
      ['Started', timeElement(job.started_at)],
      ['Finished', timeElement(job.finished_at)],
      ['Run time', duration(job.started_at, job.finished_at) || '—'],
      ['Attempts', attemptsText(job)],
    ];
    const molecule = spec.molecule || {};
    const ids = molecule.identifiers;
    if (ids && ids.inchikey) items.push(['InChIKey', el('code', { id: 'job-inchikey' }, ids.inchikey)]);
    if (ids && ids.canonical_smiles) items.push(['SMILES', el('code', {}, ids.canonical_smiles)]);
    if (molecule.from && molecule.from.format) items.push(['Given as', molecule.from.format.toUpperCase()]);
    if (spec.batch_id) {
      items.push(['Batch', el('a', { href: `#/batches/${spec.batch_id}`, class: 'mono', title: spec.batch_id },
        shortId(spec.batch_id))]);
    }
    if (job.cached_from) {
      items.push(['Cached from', el('a', { href: `#/jobs/${job.cached_from}`, class: 'mono' }, shortId(job.cached_from))]);
    }
    if (spec.workflow_id) {
      const name = this.workflow && this.workflow.name ? this.workflow.name : shortId(spec.workflow_id);
      items.push(['Workflow', el('span', {}, el('a', { id: 'workflow-link', href: `#/workflows/${spec.workflow_id}`,
        title: spec.workflow_id }, `workflow ${name}`), spec.workflow_node ? ` as “${spec.workflow_node}”` : '')]);
    }
    const parents = dependsOn(job);
    if (parents.length) {
      items.push(['Depends on', el('span', { id: 'job-depends-on' },
        parents.flatMap((p, i) => (i ? [', ', this.jobLink(p)] : [this.jobLink(p)])))]);
    }
    if (molecule.from_job) {
      items.push(['Molecule from', el('span', {}, `the ${molecule.geometry || 'optimized'} geometry of `,
        this.jobLink(molecule.from_job))]);
    }
    if (job.state === 'waiting' && job.waiting_on) items.push(['Waits for', this.jobLink(job.waiting_on)]);
    if (Array.isArray(spec.tags) && spec.tags.length) items.push(['Tags', spec.tags.join(', ')]);
    if (spec.queue) items.push(['Queue', el('a', { id: 'job-queue', href: '#/queue', title: 'the queue view' }, spec.queue)]);
    if (Array.isArray(spec.requires) && spec.requires.length) {
      items.push(['Requires', el('span', { id: 'job-requires' }, spec.requires.map((t) => el('span', { class: 'tag' }, String(t))))]);
    }
    if (spec.timeout_s) items.push(['Timeout', `${spec.timeout_s} s`]);
    this.summary.replaceChildren(...items.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
  }

  renderResults(result, inputXyz, state) {
    if (!result) {
      const text = FINISHED_STATES.has(state) ? `No result: the job ${state} without one.` : 'No result yet.';
      this.results.replaceChildren(el('p', { class: 'empty' }, text));
      return;
    }
    const parts = [];
    const main = el('tbody');
    if (typeof result.energy_eh === 'number') main.append(row('Total energy', `${result.energy_eh.toFixed(8)} Eh`));
    if (typeof result.homo_lumo_gap_ev === 'number') main.append(row('HOMO–LUMO gap', `${result.homo_lumo_gap_ev.toFixed(3)} eV`));
    const d = result.dipole_debye;
    if (d && typeof d.total === 'number') {
      main.append(row('Dipole moment', `${d.total.toFixed(3)} D`,
        el('span', { class: 'muted' }, ` (x ${fixed(d.x, 3)}, y ${fixed(d.y, 3)}, z ${fixed(d.z, 3)})`)));
    }
    const opt = result.optimization;
    if (opt && typeof opt === 'object') {
      main.append(row('Optimization', `${opt.converged ? 'converged' : 'not converged'} after ${opt.cycles ?? '?'} cycles`));
    }
    const t = result.thermochemistry;
    if (t && typeof t === 'object') {
      const at = typeof t.temperature_k === 'number' ? ` at ${t.temperature_k} K` : '';
      if (typeof t.zpe_eh === 'number') main.append(row('Zero-point energy', `${t.zpe_eh.toFixed(6)} Eh (${(t.zpe_eh * HARTREE_TO_KCAL).toFixed(2)} kcal/mol)`));
      if (typeof t.enthalpy_eh === 'number') main.append(row(`Total enthalpy${at}`, `${t.enthalpy_eh.toFixed(8)} Eh`));
      if (typeof t.free_energy_eh === 'number') main.append(row(`Total free energy${at}`, `${t.free_energy_eh.toFixed(8)} Eh`));
    }
    const minimum = result.minimum;
    if (minimum && typeof minimum === 'object') {
      // optimize_hessian with ensure_minimum: how many optimize + Hessian runs it took.
      main.append(row('Minimum search', `${minimum.runs ?? '?'} optimize + Hessian run${minimum.runs === 1 ? '' : 's'}, `
        + `${minimum.imaginary_modes_remaining ?? '?'} imaginary mode${minimum.imaginary_modes_remaining === 1 ? '' : 's'} left`));
    }
    if (Array.isArray(result.frequencies_cm1)) {
      const f = result.frequencies_cm1;
      const imaginary = f.filter((x) => x < 0).length;
      main.append(row('Vibrational frequencies',
        `${f.length} modes`, imaginary ? el('strong', { class: 'warn' }, `, ${imaginary} imaginary`) : '',
        el('div', { class: 'freqs' }, f.map((x) => `${x.toFixed(1)}`).join(', '), ' cm⁻¹')));
    }
    if (typeof result.wall_time_s === 'number') main.append(row('Wall time', `${result.wall_time_s.toFixed(2)} s`));
    if (result.engine && typeof result.engine === 'object') {
      main.append(row('Engine', `${result.engine.name || ''} ${result.engine.version || ''}`.trim()));
    }
    if (main.children.length) {
      parts.push(el('table', { class: 'kv', id: 'result-table' },
        el('caption', { class: 'visually-hidden' }, 'Parsed results'), main));
    }
    if (Array.isArray(result.warnings) && result.warnings.length) {
      parts.push(el('div', { class: 'warnings', role: 'note' }, el('strong', {}, 'Engine warnings'),
        el('ul', {}, result.warnings.map((w) => el('li', {}, String(w))))));
    }
    const symbols = xyzSymbols(result.optimized_xyz || inputXyz);
    if (Array.isArray(result.partial_charges) && result.partial_charges.length) {
      const body = el('tbody', {}, result.partial_charges.map((q, i) => el('tr', {},
        el('td', {}, String(i + 1)), el('td', {}, symbols[i] || ''), el('td', { class: 'num' }, fixed(q, 4)))));
      parts.push(el('details', { open: result.partial_charges.length <= 12 },
        el('summary', {}, `Partial charges (${result.partial_charges.length} atoms)`),
        el('table', { class: 'data' },
          el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Atom'), el('th', { scope: 'col' }, 'Element'),
            el('th', { scope: 'col', class: 'num' }, 'Charge / e'))), body)));
    }
    if (Array.isArray(result.bond_orders) && result.bond_orders.length) {
      // xtb numbers atoms from 1.
      const label = (n) => `${n}${symbols[n - 1] ? ` ${symbols[n - 1]}` : ''}`;
      const body = el('tbody', {}, result.bond_orders.map((b) => el('tr', {},
        el('td', {}, `${label(b.i)} – ${label(b.j)}`), el('td', { class: 'num' }, fixed(b.order, 3)))));
      parts.push(el('details', { open: result.bond_orders.length <= 12 },
        el('summary', {}, `Wiberg bond orders (${result.bond_orders.length} bonds)`),
        el('table', { class: 'data' },
          el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Bond'), el('th', { scope: 'col', class: 'num' }, 'Order'))),
          body)));
    }
    if (result.optimized_xyz) {
      parts.push(el('details', {}, el('summary', {}, 'Optimized geometry (XYZ)'),
        el('pre', { class: 'xyz' }, result.optimized_xyz)));
    }
    const other = Object.fromEntries(Object.entries(result).filter(([k]) => !KNOWN_RESULT_FIELDS.has(k)));
    if (Object.keys(other).length) {
      parts.push(el('details', { open: parts.length === 0 }, el('summary', {}, 'Other result fields'),
        el('pre', { class: 'json' }, JSON.stringify(other, null, 2))));
    }
    this.results.replaceChildren(...(parts.length ? parts : [el('p', { class: 'empty' }, 'The result is empty.')]));
  }

  async loadArtifacts(id) {
    try {
      const listing = await api.getArtifacts(id);
      if (this.jobId !== id) return;
      const files = Array.isArray(listing.artifacts) ? listing.artifacts : [];
      if (!files.length) {
        this.artifacts.replaceChildren(el('p', { class: 'empty' }, 'This job has no files.'));
        return;
      }
      this.artifacts.replaceChildren(el('ul', { class: 'files', id: 'artifact-list' }, files.map((f) => el('li', {},
        el('a', { href: withToken(f.url), download: f.name }, f.name),
        el('span', { class: 'muted' }, ` ${bytes(f.size)}${f.media_type ? `, ${f.media_type}` : ''}`)))));
    } catch (err) {
      if (this.jobId !== id) return;
      const text = err instanceof ApiError && err.status === 409 ? 'Files are listed when the job has finished.'
        : `Could not list the files: ${err.message}`;
      this.artifacts.replaceChildren(el('p', { class: 'empty' }, text));
    }
  }

  async cancel() {
    const id = this.jobId;
    if (!id) return;
    this.cancelButton.disabled = true;
    try {
      await api.cancelJob(id);
      this.message.textContent = 'Cancel requested.';
    } catch (err) {
      this.message.textContent = `Could not cancel: ${err.message}`;
      if (this.job) this.setButtons(this.job.state);
    }
  }

  // POST /jobs/{id}/retry, then follow the job again: its stream ended with the failed or
  // cancelled event, so a new one starts after the last event shown (retrying, started, ...).
  async retry() {
    const id = this.jobId;
    if (!id) return;
    this.retryRequested = true;
    this.retryButton.disabled = true;
    try {
      await api.retryJob(id);
    } catch (err) {
      if (this.jobId !== id) return;
      this.retryRequested = false;
      this.message.textContent = `Could not retry: ${err.message}`;
      if (this.job) this.setButtons(this.job.state);
      return;
    }
    if (this.jobId !== id) return;
    this.message.textContent = 'Retry requested: the job is queued again.';
    if (this.source) this.source.close();
    this.source = null;
    this.subscribe(id, this.lastEventId);
  }

  async remove() {
    const id = this.jobId;
    if (!id) return;
    if (!window.confirm(`Delete job ${id} and its files? This cannot be undone.`)) return;
    this.deleteButton.disabled = true;
    try {
      await api.deleteJob(id);
      this.onMessage(`Deleted job ${id}.`);
      this.onClosed();
    } catch (err) {
      this.message.textContent = `Could not delete: ${err.message}`;
      if (this.job) this.setButtons(this.job.state);
    }
  }
}

// "1 of 3"; a job retried by request has run more often than its own attempts allowed.
function attemptsText(job) {
  const attempts = job.attempts ?? 0;
  if (!job.max_attempts) return String(attempts);
  return attempts <= job.max_attempts ? `${attempts} of ${job.max_attempts}` : `${attempts} (retried)`;
}

// Hill-order formula from XYZ text, for records that do not carry one.
function formulaFromXyz(xyz) {
  const counts = new Map();
  for (const s of xyzSymbols(xyz)) {
    const sym = s.charAt(0).toUpperCase() + s.slice(1).toLowerCase();
    counts.set(sym, (counts.get(sym) || 0) + 1);
  }
  if (!counts.size) return '';
  const order = [...counts.keys()].sort();
  const hill = counts.has('C') ? ['C', ...(counts.has('H') ? ['H'] : []), ...order.filter((s) => s !== 'C' && s !== 'H')] : order;
  return hill.map((s) => `${s}${counts.get(s) > 1 ? counts.get(s) : ''}`).join('');
}
