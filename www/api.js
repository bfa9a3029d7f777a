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

async function request(method, path, body) {
  const init = { method, headers: { Accept: 'application/json' } };
  const key = credentials.get();
  if (key) init.headers['X-API-Key'] = key;
  if (body !== undefined) {
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

function query(params) {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== '') q.set(key, value);
  const s = q.toString();
  return s ? `?${s}` : '';
}

export const api = {
  health: () => request('GET', '/health'),
  listJobs: (filters = {}) => request('GET', `/jobs${query(filters)}`),
  submitJob: (spec) => request('POST', '/jobs', spec),
  getJob: (id) => request('GET', jobPath(id)),
  getStatus: (id) => request('GET', `${jobPath(id)}/status`),
  getArtifacts: (id) => request('GET', `${jobPath(id)}/artifacts`),
  cancelJob: (id) => request('POST', `${jobPath(id)}/cancel`),
  deleteJob: (id) => request('DELETE', jobPath(id)),
  eventsUrl: (filters = {}) => withToken(`/events${query(filters)}`),
  jobEventsUrl: (id) => withToken(`${jobPath(id)}/events`),
};

// The event types of the SSE streams (DESIGN.md, "Events and SSE").
export const EVENT_TYPES = ['submitted', 'scheduled', 'started', 'progress', 'completed', 'failed', 'cancelled',
  'retrying', 'deleted'];
export const TERMINAL_EVENTS = new Set(['completed', 'failed', 'cancelled', 'deleted']);
export const FINISHED_STATES = new Set(['completed', 'failed', 'cancelled']);
