// What the dashboard's SVG plots share (the energy chart, the IR spectrum): element creation and
// round tick values. No chart library: a plot is a few dozen SVG elements.
const NS = 'http://www.w3.org/2000/svg';

export function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

// About `count` round tick values covering [lo, hi].
export function ticks(lo, hi, count = 5) {
  if (hi === lo) return [lo];
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) || raw;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(v);
  return out;
}

// Enough decimals to tell neighbouring ticks apart.
export function decimalsFor(values) {
  if (values.length < 2) return 6;
  const step = Math.abs(values[1] - values[0]);
  return Math.min(8, Math.max(0, -Math.floor(Math.log10(step)) + 1));
}
