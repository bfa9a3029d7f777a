// Energy per optimization cycle as inline SVG. While the job runs, its progress events add
// points (the server sends at most a few per second); once it has finished, the whole
// trajectory (xtbopt.log, optimization-log.js) replaces them with every cycle. The figure
// element carries data-points (how many cycles are drawn) and data-source ("progress" or
// "trajectory") so scripts and tests can read them.
import { axes, svg, ticks, decimalsFor } from './plot.js';

const WIDTH = 560;
const HEIGHT = 260;
const MARGIN = { left: 86, right: 16, top: 14, bottom: 40 };

export class EnergyChart {
  constructor(figure, svgElement, caption) {
    this.figure = figure;
    this.svg = svgElement;
    this.caption = caption;
    this.points = [];
    this.source = 'progress';
    this.draw();
  }

  reset() {
    this.points = [];
    this.source = 'progress';
    this.draw();
  }

  // One progress event's numbers: {cycle, energy_eh, gradient_norm}. Ignored once the whole
  // trajectory is drawn: it already holds every cycle.
  add(progress) {
    if (this.source === 'trajectory') return;
    if (!progress || typeof progress.energy_eh !== 'number') return;
    const cycle = typeof progress.cycle === 'number' ? progress.cycle : this.points.length + 1;
    const existing = this.points.findIndex((p) => p.cycle === cycle);
    const point = { cycle, energy: progress.energy_eh, gradient: progress.gradient_norm };
    if (existing >= 0) this.points[existing] = point;
    else this.points.push(point);
    this.points.sort((a, b) => a.cycle - b.cycle);
    this.draw();
  }

  // Every cycle of the finished optimization ({cycle, energy, gradient}), in place of the
  // throttled progress events.
  showTrajectory(points) {
    if (!points.length) return;
    this.points = points.map((p) => ({ cycle: p.cycle, energy: p.energy, gradient: p.gradient }));
    this.source = 'trajectory';
    this.draw();
  }

  draw() {
    const points = this.points;
    this.figure.dataset.points = String(points.length);
    this.figure.dataset.source = this.source;
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
    const what = this.source === 'trajectory' ? 'every cycle of the trajectory (xtbopt.log)' : 'live progress';
    this.caption.textContent = `${points.length} cycle${points.length === 1 ? '' : 's'} (${what}); `
      + `${this.source === 'trajectory' ? 'last' : 'latest'} cycle ${last.cycle}: `
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

    const yTicks = ticks(yLo, yHi);
    const decimals = decimalsFor(yTicks);
    this.svg.append(axes({ width: WIDTH, height: HEIGHT, margin: MARGIN }, {
      x, y, yTicks, yLabelOf: (t) => t.toFixed(decimals),
      xTicks: ticks(xLo, xHi, Math.min(8, Math.max(1, xHi - xLo))).filter((t) => Number.isInteger(t)),
      xTitle: 'optimization cycle', yTitle: 'energy / Eh',
    }));

    this.svg.append(svg('polyline', {
      class: 'line',
      points: points.map((p) => `${x(p.cycle).toFixed(1)},${y(p.energy).toFixed(1)}`).join(' '),
    }));
    const dots = svg('g', { class: 'dots' });
    // Long trajectories get smaller dots, so the line stays readable.
    const radius = points.length > 60 ? 1.8 : 3.5;
    for (const p of points) {
      const dot = svg('circle', { cx: x(p.cycle).toFixed(1), cy: y(p.energy).toFixed(1), r: radius, 'data-cycle': p.cycle });
      dot.append(svg('title', {}, `cycle ${p.cycle}: ${p.energy.toFixed(8)} Eh`
        + (typeof p.gradient === 'number' ? `, |g| ${p.gradient.toExponential(2)}` : '')));
      dots.append(dot);
    }
    this.svg.append(dots);
  }
}
