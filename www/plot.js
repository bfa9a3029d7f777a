// What the dashboard's SVG plots share (the energy chart, the IR spectrum): element creation,
// round tick values and the axes. No chart library: a plot is a few dozen SVG elements.
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

// The axes of a plot `frame` ({width, height, margin}) as one <g>: grid lines at `yTicks` (each
// labelled by yLabelOf), ticks at `xTicks`, the two axis lines and their titles. `x` and `y` map
// values to pixels.
export function axes(frame, { x, y, xTicks, yTicks, yLabelOf = String, xTitle, yTitle }) {
  const { width, height, margin } = frame;
  const bottom = height - margin.bottom;
  const plotW = width - margin.left - margin.right;
  const plotH = bottom - margin.top;
  const g = svg('g', { class: 'axes' });
  for (const t of yTicks) {
    g.append(svg('line', { x1: margin.left, x2: width - margin.right, y1: y(t), y2: y(t), class: 'grid' }));
    g.append(svg('text', { x: margin.left - 6, y: y(t) + 4, 'text-anchor': 'end' }, yLabelOf(t)));
  }
  for (const t of xTicks) {
    g.append(svg('line', { x1: x(t), x2: x(t), y1: bottom, y2: bottom + 4, class: 'tick' }));
    g.append(svg('text', { x: x(t), y: bottom + 16, 'text-anchor': 'middle' }, String(t)));
  }
  g.append(svg('line', { x1: margin.left, x2: width - margin.right, y1: bottom, y2: bottom, class: 'axis' }));
  g.append(svg('line', { x1: margin.left, x2: margin.left, y1: margin.top, y2: bottom, class: 'axis' }));
  g.append(svg('text', { x: margin.left + plotW / 2, y: height - 6, 'text-anchor': 'middle', class: 'label' }, xTitle));
  g.append(svg('text', { x: 14, y: margin.top + plotH / 2, 'text-anchor': 'middle', class: 'label',
    transform: `rotate(-90 14 ${margin.top + plotH / 2})` }, yTitle));
  return g;
}
