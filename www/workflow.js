// The workflow view (#/workflows/<id>): GET /workflows/{id} drawn as a graph in inline SVG.
// Jobs are boxes in layers from left to right (a job's layer is the longest path to it from a job
// that waits for nothing), arrows go from a job to the jobs that wait for it, labelled "geometry"
// where the child starts from the parent's molecule. A box is a link to its job's view.
//
// Live: an event of any of the workflow's jobs (the /events stream carries every job's) re-reads
// GET /workflows/{id}, at most one request at a time however many events arrive, because only
// that answer has the workflow's own state, its counts and why a child failed. The stream is
// closed once the workflow has finished.
import { api, onJobEvents } from './api.js';
import { el, shortId } from './format.js';
import { svg } from './plot.js';

const REFRESH_DELAY_MS = 250;
const RECONNECT_DELAY_MS = 5000;
const FINISHED = new Set(['completed', 'failed', 'cancelled']);
const STATE_ORDER = ['waiting', 'scheduled', 'pending', 'running', 'completed', 'failed', 'cancelled'];

// Geometry of the drawing, in SVG user units (= CSS pixels until the graph is wider than the panel).
const BOX = { width: 204, height: 78 };
const GAP = { x: 92, y: 26 };
const MARGIN = 14;
const ARC_ROOM = 30; // above the boxes, for arrows that skip a layer
const NAME_CHARS = 22;
const DETAIL_CHARS = 30;
const STATE_CHARS = 28;

const clip = (text, n) => (text.length > n ? `${text.slice(0, n - 1)}…` : text);

// The arrows as [{from, to, geometry}] by local name: the answer's edges (or, from a server
// that leaves them out, each job's depends_on), with the molecule's parent always among them;
// geometry: the child's molecule is the parent's (the edge's own flag, else the child's from_job).
function graphEdges(workflow, jobs) {
  const names = new Set(jobs.map((j) => j.name));
  const edges = new Map();
  const fromJob = new Map(jobs.map((j) => [j.name, j.from_job]));
  const add = (from, to, geometry) => {
    if (!names.has(from) || !names.has(to) || from === to) return; // a parent outside the workflow: named in the tooltip
    const key = `${from}\u0000${to}`;
    if (edges.has(key)) return;
    edges.set(key, { from, to, geometry: typeof geometry === 'boolean' ? geometry : fromJob.get(to) === from });
  };
  if (Array.isArray(workflow.edges)) for (const e of workflow.edges) add(e.from, e.to, e.geometry);
  else for (const job of jobs) for (const parent of job.depends_on || []) add(parent, job.name);
  for (const job of jobs) if (job.from_job) add(job.from_job, job.name, true);
  return [...edges.values()];
}

// Where each job's box goes: {boxes: Map name -> {x, y, layer}, width, height}. Within a layer
// the jobs are ordered by the mean height of their parents (fewer crossing arrows), then in the
// server's order (parents before children); each layer is centred on the tallest.
export function layoutGraph(names, edges) {
  const parents = new Map(names.map((n) => [n, []]));
  for (const e of edges) parents.get(e.to).push(e.from);
  const layer = new Map();
  const visiting = new Set();
  const layerOf = (name) => {
    if (layer.has(name)) return layer.get(name);
    if (visiting.has(name)) return 0; // a cycle (the server refuses them): drawn all the same
    visiting.add(name);
    const l = Math.max(-1, ...parents.get(name).map(layerOf)) + 1;
    visiting.delete(name);
    layer.set(name, l);
    return l;
  };
  names.forEach(layerOf);
  const layers = [];
  for (const name of names) (layers[layer.get(name)] ||= []).push(name);
  const columns = layers.filter(Boolean);
  const tallest = Math.max(1, ...columns.map((c) => c.length));
  const skips = edges.some((e) => layer.get(e.to) - layer.get(e.from) > 1);
  const top = MARGIN + (skips ? ARC_ROOM : 0);
  const boxes = new Map();
  const order = new Map(names.map((n, i) => [n, i]));
  columns.forEach((members, column) => {
    const centre = (name) => {
      const placed = parents.get(name).filter((p) => boxes.has(p));
      return placed.length ? placed.reduce((sum, p) => sum + boxes.get(p).y, 0) / placed.length : Infinity;
    };
    const keys = new Map(members.map((n) => [n, centre(n)]));
    members.sort((a, b) => {
      const ka = keys.get(a);
      const kb = keys.get(b);
      if (ka !== kb) return ka === Infinity ? 1 : kb === Infinity ? -1 : ka - kb;
      return order.get(a) - order.get(b);
    });
    const offset = ((tallest - members.length) * (BOX.height + GAP.y)) / 2;
    members.forEach((name, row) => boxes.set(name, {
      x: MARGIN + column * (BOX.width + GAP.x),
      y: top + offset + row * (BOX.height + GAP.y),
      layer: column,
    }));
  });
  return {
    boxes,
    width: 2 * MARGIN + columns.length * BOX.width + Math.max(0, columns.length - 1) * GAP.x,
    height: top + MARGIN + tallest * BOX.height + (tallest - 1) * GAP.y,
    arcY: top - ARC_ROOM / 2,
  };
}

// An arrow from the right side of `a` to the left side of `b`; one that skips layers goes over
// the boxes between, so it never runs through one. Returns the path and where its label goes.
function arrowPath(a, b, arcY) {
  const x1 = a.x + BOX.width;
  const y1 = a.y + BOX.height / 2;
  const x2 = b.x;
  const y2 = b.y + BOX.height / 2;
  if (b.layer - a.layer <= 1) {
    const bend = (x2 - x1) / 2;
    return { d: `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`, labelX: (x1 + x2) / 2, labelY: (y1 + y2) / 2 - 6 };
  }
  const half = GAP.x / 2;
  return {
    d: `M${x1},${y1} C${x1 + half},${y1} ${x1 + half},${arcY} ${x1 + GAP.x},${arcY} L${x2 - GAP.x},${arcY} `
      + `C${x2 - half},${arcY} ${x2 - half},${y2} ${x2},${y2}`,
    labelX: (x1 + x2) / 2,
    labelY: arcY - 5,
  };
}

function describeJob(job) {
  return [job.engine, job.method, job.task].filter(Boolean).join(' · ');
}

function tooltip(job) {
  const lines = [`${job.name}: ${job.state}`, describeJob(job)];
  const parents = job.depends_on || [];
  if (parents.length) lines.push(`waits for ${parents.join(', ')}`);
  if (job.from_job) lines.push(`molecule from ${job.from_job}`);
  if (job.error && (job.error.code || job.error.message)) {
    lines.push([job.error.code, job.error.message].filter(Boolean).join(': '));
  }
  lines.push(`job ${job.job_id}`);
  return lines.filter(Boolean).join('\n');
}

export class WorkflowView {
  constructor(root, { onClosed }) {
    this.root = root;
    this.heading = root.querySelector('#workflow-heading');
    this.message = root.querySelector('#workflow-message');
    this.stateBadge = root.querySelector('#workflow-state');
    this.counts = root.querySelector('#workflow-counts');
    this.graph = root.querySelector('#workflow-graph');
    this.caption = root.querySelector('#workflow-caption');
    this.workflowId = null;
    this.jobIds = null; // the workflow's job ids once read: only their events matter
    this.nodes = new Map(); // local name -> the node's <a>
    this.edges = [];
    this.structure = null; // what the drawing was made from: redrawn only when it changes
    this.source = null;
    this.generation = 0;
    this.refreshing = false;
    this.refreshAgain = false;
    root.querySelector('#close-workflow').addEventListener('click', () => onClosed());
  }

  open(id) {
    if (this.workflowId === id && !this.root.hidden) return;
    this.close();
    this.generation += 1;
    const generation = this.generation;
    this.workflowId = id;
    this.root.hidden = false;
    this.root.dataset.workflowId = id;
    this.root.dataset.loaded = 'false';
    this.root.dataset.state = '';
    this.heading.textContent = `Workflow ${id}`;
    this.message.textContent = 'Loading…';
    this.stateBadge.hidden = true;
    this.counts.replaceChildren();
    this.graph.replaceChildren();
    this.caption.textContent = '';
    this.root.scrollIntoView({ behavior: 'smooth', block: 'start' });
    this.heading.focus({ preventScroll: true });
    // Listen before reading, so that nothing happening in between is missed.
    this.subscribe(generation);
    this.refresh();
  }

  close() {
    this.stopLive();
    this.generation += 1;
    this.workflowId = null;
    this.jobIds = null;
    this.nodes.clear();
    this.edges = [];
    this.structure = null;
    this.refreshing = false;
    this.refreshAgain = false;
    clearTimeout(this.refreshTimer);
    this.refreshTimer = null;
    this.root.hidden = true;
    delete this.root.dataset.workflowId;
  }

  subscribe(generation) {
    const source = new EventSource(api.eventsUrl());
    this.source = source;
    this.root.dataset.live = 'true';
    const current = () => generation === this.generation && this.source === source;
    // On every (re)connection: read again what may have happened while there was no stream.
    source.addEventListener('open', () => {
      if (current()) this.scheduleRefresh();
    });
    onJobEvents(source, (type, data) => {
      if (current() && (!this.jobIds || this.jobIds.has(data.job_id))) this.scheduleRefresh();
    });
    // The server no longer has the events after our last id: a fresh stream, and read it all again.
    source.addEventListener('reset', () => {
      if (!current()) return;
      this.stopLive();
      this.subscribe(generation);
    });
    source.addEventListener('error', () => {
      if (!current() || source.readyState !== EventSource.CLOSED) return;
      // The browser gave up on this stream: start another later.
      this.stopLive();
      this.reconnectTimer = setTimeout(() => {
        if (generation === this.generation && !FINISHED.has(this.root.dataset.state)) this.subscribe(generation);
      }, RECONNECT_DELAY_MS);
    });
  }

  stopLive() {
    if (this.source) this.source.close();
    this.source = null;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.root.dataset.live = 'false';
  }

  scheduleRefresh() {
    if (this.refreshTimer || !this.workflowId) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      this.refresh();
    }, REFRESH_DELAY_MS);
  }

  // One GET /workflows/{id} at a time; events during it ask for one more after it.
  async refresh() {
    if (this.refreshing) {
      this.refreshAgain = true;
      return;
    }
    this.refreshing = true;
    const generation = this.generation;
    const id = this.workflowId;
    try {
      const workflow = await api.getWorkflow(id);
      if (generation !== this.generation) return;
      this.message.textContent = '';
      this.show(workflow);
    } catch (err) {
      if (generation !== this.generation) return;
      if (err.status === 404) {
        this.stopLive();
        this.message.textContent = `There is no workflow ${id} (or none of its jobs is yours).`;
      } else {
        this.message.textContent = `Could not load workflow ${id}: ${err.message}`;
      }
    } finally {
      if (generation === this.generation) {
        this.refreshing = false;
        if (this.refreshAgain) {
          this.refreshAgain = false;
          this.scheduleRefresh();
        }
      }
    }
  }

  show(workflow) {
    const jobs = Array.isArray(workflow.jobs) ? workflow.jobs.filter((j) => j && j.name) : [];
    this.jobIds = new Set(jobs.map((j) => j.job_id));
    this.heading.textContent = workflow.name ? `Workflow: ${workflow.name}` : `Workflow ${shortId(workflow.workflow_id)}`;
    this.root.dataset.state = workflow.state || '';
    this.stateBadge.hidden = !workflow.state;
    this.stateBadge.className = `state state-${workflow.state}`;
    this.stateBadge.textContent = workflow.state || '';
    this.renderCounts(workflow.counts || {});
    this.renderGraph(workflow, jobs);
    this.root.dataset.loaded = 'true';
    // A finished workflow changes no more: no need to listen.
    if (FINISHED.has(workflow.state)) this.stopLive();
  }

  renderCounts(counts) {
    const states = [...STATE_ORDER.filter((s) => s in counts), ...Object.keys(counts).filter((s) => !STATE_ORDER.includes(s))];
    this.counts.replaceChildren(...states.filter((s) => counts[s] > 0).map((s) => el('li', { dataset: { state: s } },
      el('span', { class: `state state-${s}` }, s), ' ', el('strong', { class: 'count' }, String(counts[s])))));
  }

  renderGraph(workflow, jobs) {
    const edges = graphEdges(workflow, jobs);
    const structure = JSON.stringify([jobs.map((j) => [j.name, j.job_id]), edges]);
    if (structure !== this.structure) {
      this.structure = structure;
      this.draw(jobs, edges);
    }
    const states = new Map(jobs.map((j) => [j.name, j.state]));
    for (const job of jobs) this.paintNode(this.nodes.get(job.name), job);
    for (const edge of this.edges) edge.dataset.parentState = states.get(edge.dataset.from) || '';
    const finished = jobs.filter((j) => FINISHED.has(j.state)).length;
    this.caption.textContent = `${jobs.length} job${jobs.length === 1 ? '' : 's'}, ${finished} finished. `
      + 'An arrow goes from a job to one that waits for it ("geometry": that job starts from its molecule). '
      + 'Select a job to open it.';
  }

  // Builds the SVG from nothing: boxes (their state painted by paintNode) and arrows.
  draw(jobs, edges) {
    const focused = document.activeElement && document.activeElement.closest && document.activeElement.closest('[data-node]');
    const refocus = focused && this.graph.contains(focused) ? focused.dataset.node : null;
    const { boxes, width, height, arcY } = layoutGraph(jobs.map((j) => j.name), edges);
    this.graph.setAttribute('viewBox', `0 0 ${width} ${height}`);
    this.graph.setAttribute('width', String(width));
    this.graph.setAttribute('height', String(height));
    this.graph.dataset.nodes = String(jobs.length);
    this.graph.dataset.edges = String(edges.length);
    const defs = svg('defs');
    const marker = svg('marker', { id: 'workflow-arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7,
      markerHeight: 7, orient: 'auto-start-reverse' });
    marker.append(svg('path', { d: 'M0,0 L10,5 L0,10 z', class: 'wf-arrowhead' }));
    defs.append(marker);
    const edgeLayer = svg('g', { class: 'wf-edges' });
    this.edges = edges.map((e) => {
      const { d, labelX, labelY } = arrowPath(boxes.get(e.from), boxes.get(e.to), arcY);
      const g = svg('g', { class: `wf-edge${e.geometry ? ' geometry' : ''}`, 'data-from': e.from, 'data-to': e.to });
      g.append(svg('path', { d, 'marker-end': 'url(#workflow-arrow)' }));
      if (e.geometry) g.append(svg('text', { x: labelX, y: labelY, 'text-anchor': 'middle', class: 'wf-edge-label' }, 'geometry'));
      edgeLayer.append(g);
      return g;
    });
    const nodeLayer = svg('g', { class: 'wf-nodes' });
    this.nodes.clear();
    for (const job of jobs) {
      const { x, y } = boxes.get(job.name);
      const node = svg('a', { href: `#/jobs/${job.job_id}`, class: 'wf-node', 'data-node': job.name, 'data-job-id': job.job_id });
      const title = svg('title');
      const stateLine = svg('text', { x: x + 26, y: y + 62, class: 'wf-state' });
      node.append(title,
        svg('rect', { x, y, width: BOX.width, height: BOX.height, rx: 8, ry: 8, class: 'wf-box' }),
        svg('text', { x: x + 12, y: y + 22, class: 'wf-name' }, clip(job.name, NAME_CHARS)),
        svg('text', { x: x + 12, y: y + 41, class: 'wf-detail' }, clip(describeJob(job), DETAIL_CHARS)),
        svg('circle', { cx: x + 17, cy: y + 58, r: 5, class: 'wf-dot' }),
        stateLine);
      nodeLayer.append(node);
      this.nodes.set(job.name, node);
    }
    this.graph.replaceChildren(defs, edgeLayer, nodeLayer);
    if (refocus && this.nodes.has(refocus)) this.nodes.get(refocus).focus();
  }

  // What changes as the jobs run: the state, why a job failed, the link (a retried job keeps its id).
  paintNode(node, job) {
    if (!node) return;
    node.dataset.state = job.state || '';
    node.setAttribute('href', `#/jobs/${job.job_id}`);
    const error = job.error && (job.error.code || job.error.message) ? job.error : null;
    node.dataset.error = error ? (error.code || '') : '';
    node.querySelector('title').textContent = tooltip(job);
    node.setAttribute('aria-label', `${job.name}: ${job.state}${error ? ` (${error.code || error.message})` : ''}`);
    const stateLine = node.querySelector('.wf-state');
    const reason = error ? error.code || error.message : '';
    const room = Math.max(0, STATE_CHARS - String(job.state).length - 3);
    stateLine.replaceChildren(svg('tspan', {}, job.state || ''),
      ...(reason ? [svg('tspan', { class: 'wf-error' }, ` · ${clip(reason, room)}`)] : []));
  }
}
