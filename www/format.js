// Small formatting helpers shared by the views.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

const pad = (n) => String(n).padStart(2, '0');

function sameDay(a, b) {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

// A <time> element: HH:MM:SS today, otherwise with the date; the full local time as a tooltip.
export function timeElement(iso) {
  if (!iso) return el('span', { class: 'muted', 'aria-label': 'not yet' }, '—');
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return el('span', {}, iso);
  const clock = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  const text = sameDay(d, new Date()) ? clock : `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clock}`;
  return el('time', { datetime: iso, title: d.toString() }, text);
}

export function duration(fromIso, toIso) {
  if (!fromIso || !toIso) return '';
  return elapsed(new Date(toIso) - new Date(fromIso));
}

// A span of time for people: 850 ms, 4.2 s, 3 min 12 s, 5 h 2 min, 3 d 4 h ('' for nonsense).
export function elapsed(ms) {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 120) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 120) return `${m} min ${Math.round(s - 60 * m)} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

export function fixed(value, digits) {
  return typeof value === 'number' && Number.isFinite(value) ? value.toFixed(digits) : '';
}

export function bytes(n) {
  if (typeof n !== 'number') return '';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

// "C2H6O" -> C2H6O with subscript digits, as DOM nodes.
export function formulaElement(formula) {
  const span = el('span', { class: 'formula' });
  if (!formula) {
    span.append(el('span', { class: 'muted' }, '—'));
    return span;
  }
  for (const part of String(formula).split(/(\d+)/)) {
    if (!part) continue;
    span.append(/^\d+$/.test(part) ? el('sub', {}, part) : part);
  }
  span.setAttribute('aria-label', formula);
  return span;
}

export function shortId(id) {
  return id ? id.slice(0, 8) : '';
}

// Element symbols of an XYZ text, in atom order (for labelling charges and bonds).
export function xyzSymbols(xyz) {
  if (typeof xyz !== 'string') return [];
  const lines = xyz.split(/\r?\n/);
  const count = parseInt(lines[0], 10);
  if (!Number.isFinite(count) || count <= 0) return [];
  const symbols = [];
  for (let i = 2; i < lines.length && symbols.length < count; i += 1) {
    const token = lines[i].trim().split(/\s+/)[0];
    if (token) symbols.push(token);
  }
  return symbols;
}
