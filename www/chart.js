// Energy per optimization cycle as inline SVG: no chart library. The figure element carries
// data-points (how many cycles are drawn) so scripts and tests can read it.
const NS = 'http://www.w3.org/2000/svg';
const WIDTH = 560;
const HEIGHT = 260;
const MARGIN = { left: 86, right: 16, top: 14, bottom: 40 };

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

// About five round tick values covering [lo, hi].
function ticks(lo, hi, count = 5) {
  if (hi === lo) return [lo];
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) || raw;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(v);
  return out;
}

function decimalsFor(values) {
  if (values.length < 2) return 6;
  const step = Math.abs(values[1] - values[0]);
  return Math.min(8, Math.max(0, -Math.floor(Math.log10(step)) + 1));
}

export class EnergyChart {
  constructor(figure, svgElement, caption) {
    this.figure = figure;
    this.svg = svgElement;
    this.caption = caption;
    this.points = [];
    this.draw();
  }

  reset() {
    this.points = [];
    this.draw();
  }

  // One progress event's numbers: {cycle, energy_eh, gradient_norm}.
  add(progress) {
    if (!progress || typeof progress.energy_eh !== 'number') return;
    const cycle = typeof progress.cycle === 'number' ? progress.cycle : this.points.length + 1;
    const existing = this.points.findIndex((p) => p.cycle === cycle);
    const point = { cycle, energy: progress.energy_eh, gradient: progress.gradient_norm };
    if (existing >= 0) this.points[existing] = point;
    else this.points.push(point);
    this.points.sort((a, b) => a.cycle - b.cycle);
    this.draw();
  }

  draw() {
    const points = this.points;
    this.figure.dataset.points = String(points.length);
    this.svg.replaceChildren();
    if (points.length === 0) {
      this.caption.textContent = 'No optimization cycles yet.';
      this.svg.append(svg('text', { x: WIDTH / 2, y: HEIGHT / 2, 'text-anchor': 'middle', class: 'chart-empty' },
        'Energies appear here while the job optimizes.'));
      return;
    }
    const last = points[points.length - 1];
    const first = points[0];
    const change = last.energy - first.energy;
    this.caption.textContent = `${points.length} cycle${points.length === 1 ? '' : 's'}; latest cycle ${last.cycle}: `
      + `E = ${last.energy.toFixed(8)} Eh`
      + (typeof last.gradient === 'number' ? `, gradient norm ${last.gradient.toExponential(2)} Eh/bohr` : '')
      + (points.length > 1 ? `; ΔE since cycle ${first.cycle} = ${(change * 627.509474).toFixed(3)} kcal/mol` : '');

    const cycles = points.map((p) => p.cycle);
    const energies = points.map((p) => p.energy);
    let xLo = Math.min(...cycles);
    let xHi = Math.max(...cycles);
    if (xLo === xHi) { xLo -= 1; xHi += 1; }
    let yLo = Math.min(...energies);
    let yHi = Math.max(...energies);
    const pad = (yHi - yLo) * 0.08 || Math.max(Math.abs(yLo) * 1e-6, 1e-6);
    yLo -= pad;
    yHi += pad;
    const plotW = WIDTH - MARGIN.left - MARGIN.right;
    const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
    const x = (c) => MARGIN.left + ((c - xLo) / (xHi - xLo)) * plotW;
    const y = (e) => MARGIN.top + (1 - (e - yLo) / (yHi - yLo)) * plotH;

    const axes = svg('g', { class: 'axes' });
    const yTicks = ticks(yLo, yHi);
    const decimals = decimalsFor(yTicks);
    for (const t of yTicks) {
      axes.append(svg('line', { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y(t), y2: y(t), class: 'grid' }));
      axes.append(svg('text', { x: MARGIN.left - 6, y: y(t) + 4, 'text-anchor': 'end' }, t.toFixed(decimals)));
    }
    const xTicks = ticks(xLo, xHi, Math.min(8, Math.max(1, xHi - xLo))).filter((t) => Number.isInteger(t));
    for (const t of xTicks) {
      axes.append(svg('line', { x1: x(t), x2: x(t), y1: HEIGHT - MARGIN.bottom, y2: HEIGHT - MARGIN.bottom + 4, class: 'tick' }));
      axes.append(svg('text', { x: x(t), y: HEIGHT - MARGIN.bottom + 16, 'text-anchor': 'middle' }, String(t)));
    }
    axes.append(svg('line', { x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: HEIGHT - MARGIN.bottom,
      y2: HEIGHT - MARGIN.bottom, class: 'axis' }));
    axes.append(svg('line', { x1: MARGIN.left, x2: MARGIN.left, y1: MARGIN.top, y2: HEIGHT - MARGIN.bottom, class: 'axis' }));
    axes.append(svg('text', { x: MARGIN.left + plotW / 2, y: HEIGHT - 6, 'text-anchor': 'middle', class: 'label' },
      'optimization cycle'));
    axes.append(svg('text', { x: 14, y: MARGIN.top + plotH / 2, 'text-anchor': 'middle', class: 'label',
      transform: `rotate(-90 14 ${MARGIN.top + plotH / 2})` }, 'energy / Eh'));
    this.svg.append(axes);

    this.svg.append(svg('polyline', {
      class: 'line',
      points: points.map((p) => `${x(p.cycle).toFixed(1)},${y(p.energy).toFixed(1)}`).join(' '),
    }));
    const dots = svg('g', { class: 'dots' });
    for (const p of points) {
      const dot = svg('circle', { cx: x(p.cycle).toFixed(1), cy: y(p.energy).toFixed(1), r: 3.5, 'data-cycle': p.cycle });
      dot.append(svg('title', {}, `cycle ${p.cycle}: ${p.energy.toFixed(8)} Eh`
        + (typeof p.gradient === 'number' ? `, |g| ${p.gradient.toExponential(2)}` : '')));
      dots.append(dot);
    }
    this.svg.append(dots);
  }
}
