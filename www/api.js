// The JSON API of noxd, same origin. Every call the dashboard makes goes through here.

export class ApiError extends Error {
  constructor(status, body) {
    const error = body && body.error ? body.error : {};
    super(error.message || `HTTP ${status}`);
    this.status = status;
    this.code = error.code || `http_${status}`;
    this.details = Array.isArray(error.details) ? error.details : [];
  }
}

// The API key the user gave (servers with keys answer 401 without one), kept for this browser
// tab only (sessionStorage): sent as X-API-Key, and as ?access_token= where a browser cannot set
// headers (EventSource, download links).
const KEY_STORAGE = 'nox.apiKey';
export const credentials = {
  get: () => sessionStorage.getItem(KEY_STORAGE) || '',
  set: (key) => (key ? sessionStorage.setItem(KEY_STORAGE, key) : sessionStorage.removeItem(KEY_STORAGE)),
};

export function withToken(url) {
  const key = credentials.get();
  if (!key) return url;
  return `${url}${url.includes('?') ? '&' : '?'}access_token=${encodeURIComponent(key)}`;
}

// body: a value sent as JSON, or a RawBody sent as it is with its own type (a molecule file).
async function request(method, path, body) {
  const init = { method, headers: { Accept: 'application/json' } };
  const key = credentials.get();
  if (key) init.headers['X-API-Key'] = key;
  if (body instanceof RawBody) {
    init.headers['Content-Type'] = body.contentType;
    init.body = body.raw;
  } else if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    throw new ApiError(0, { error: { code: 'network', message: `cannot reach the server (${err.message})` } });
  }
  if (response.status === 204) return null;
  const text = await response.text();
  let parsed = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
  }
  if (response.status === 401) window.dispatchEvent(new CustomEvent('nox:unauthenticated', { detail: parsed }));
  if (!response.ok) throw new ApiError(response.status, parsed);
  return parsed;
}

const jobPath = (id) => `/jobs/${encodeURIComponent(id)}`;
const queuePath = (name) => `/queues/${encodeURIComponent(name)}`;

function query(params) {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== '') q.set(key, value);
  const s = q.toString();
  return s ? `?${s}` : '';
}

class RawBody {
  constructor(raw, contentType) {
    this.raw = raw;
    this.contentType = contentType;
  }
}

// A job's file as text (xtbopt.log, g98.out, ...): null when the job has no such file.
async function artifactText(id, name) {
  const headers = {};
  const key = credentials.get();
  if (key) headers['X-API-Key'] = key;
  let response;
  try {
    response = await fetch(`${jobPath(id)}/artifacts/${encodeURIComponent(name)}`, { headers });
  } catch (err) {
    throw new ApiError(0, { error: { code: 'network', message: `cannot reach the server (${err.message})` } });
  }
  if (response.status === 404) return null;
  if (!response.ok) {
    let parsed = null;
    try {
      parsed = await response.json();
    } catch {
      parsed = null;
    }
    throw new ApiError(response.status, parsed);
  }
  return response.text();
}

export const api = {
  health: () => request('GET', '/health'),
  listJobs: (filters = {}) => request('GET', `/jobs${query(filters)}`),
  submitJob: (spec) => request('POST', '/jobs', spec),
  getJob: (id) => request('GET', jobPath(id)),
  getStatus: (id) => request('GET', `${jobPath(id)}/status`),
  getArtifacts: (id) => request('GET', `${jobPath(id)}/artifacts`),
  cancelJob: (id) => request('POST', `${jobPath(id)}/cancel`),
  // A failed or cancelled job runs again as the same job (202; 409 invalid_state otherwise);
  // changes: {keywords, timeout_s}, or nothing to run it as it was.
  retryJob: (id, changes) => request('POST', `${jobPath(id)}/retry`, changes),
  deleteJob: (id) => request('DELETE', jobPath(id)),
  getResult: (id) => request('GET', `${jobPath(id)}/result`),
  artifactText,
  // What each engine takes (methods, tasks, solvents, keywords, outputs) and whether it runs here.
  listEngines: () => request('GET', '/engines'),
  // A molecule converted as a job would get it, without a job: {xyz, charge, multiplicity, identifiers}.
  previewMolecule: (molecule) => request('POST', '/molecules', molecule),
  // A molecule file (SDF, multi-frame XYZ, SMILES lines) as one job per record; the spec's other
  // fields go in the query (README, "Batches from molecule files").
  submitBatchFile: (file, contentType, params) => request('POST', `/jobs/batch${query(params)}`, new RawBody(file, contentType)),
  getBatch: (id) => request('GET', `/batches/${encodeURIComponent(id)}`),
  // Jobs that wait for each other: {"name", "jobs": {"<local name>": spec with depends_on or
  // molecule.from_job}}; GET answers the state, the counts and the graph (nodes and edges).
  submitWorkflow: (body) => request('POST', '/workflows', body),
  getWorkflow: (id) => request('GET', `/workflows/${encodeURIComponent(id)}`),
  // The queue as an operator sees it (admin scope): counts by state, priority, required tag and
  // named queue, the oldest pending job's age, what each instance runs.
  getQueue: () => request('GET', '/queue'),
  // A named queue's controls; each answers the queue: {name, pending, running, paused, concurrency}.
  pauseQueue: (name) => request('POST', `${queuePath(name)}/pause`),
  resumeQueue: (name) => request('POST', `${queuePath(name)}/resume`),
  // {concurrency: n | null (no bound)} and/or {paused}; 422 invalid_queue for a bad value.
  setQueue: (name, controls) => request('PUT', queuePath(name), controls),
  eventsUrl: (filters = {}) => withToken(`/events${query(filters)}`),
  // after: the last event id already shown; the stream then starts after it, not at the beginning.
  jobEventsUrl: (id, after) => withToken(`${jobPath(id)}/events${query({ last_event_id: after })}`),
};

// The event types of the SSE streams (DESIGN.md, "Events and SSE"). "queued": a job that waited
// for an identical calculation (the calculation cache) goes to the queue after all.
export const EVENT_TYPES = ['submitted', 'scheduled', 'started', 'progress', 'completed', 'failed', 'cancelled',
  'retrying', 'deleted', 'queued'];
export const TERMINAL_EVENTS = new Set(['completed', 'failed', 'cancelled', 'deleted']);
export const FINISHED_STATES = new Set(['completed', 'failed', 'cancelled']);

// Calls handler(type, data) for every job event `source` (an EventSource on /events or
// /jobs/{id}/events) delivers whose data parses and names a job.
export function onJobEvents(source, handler) {
  for (const type of EVENT_TYPES) {
    source.addEventListener(type, (message) => {
      let data;
      try {
        data = JSON.parse(message.data);
      } catch {
        return;
      }
      if (data && data.job_id) handler(type, data);
    });
  }
}
