// The IR spectrum of a Hessian job as inline SVG: one stick per vibrational mode at its
// frequency (cm⁻¹), as tall as its computed intensity (km/mol, the result's
// ir_intensities_km_mol), and the sum of Lorentzians of a fixed width over them, which is how
// such a spectrum is usually compared with a measured one. Wavenumbers fall from left to right
// as on a spectrometer's plot. Imaginary modes (negative frequencies) have no place on this
// axis: the caption counts them. Clicking a stick selects that mode (the normal-mode animation
// follows). The figure carries data-points (sticks drawn) and data-selected (the mode's index).
import { axes, svg, ticks } from './plot.js';

const WIDTH = 560;
const HEIGHT = 240;
const MARGIN = { left: 56, right: 14, top: 14, bottom: 40 };
const FWHM_CM1 = 20; // broadening of the envelope: a typical resolution of a measured spectrum
const ENVELOPE_SAMPLES = 600;

export class IrSpectrum {
  constructor(figure, svgElement, caption, { onSelect } = {}) {
    this.figure = figure;
    this.svg = svgElement;
    this.caption = caption;
    this.onSelect = onSelect || (() => {});
    this.modes = [];
    this.selected = null;
  }

  clear() {
    this.modes = [];
    this.selected = null;
    this.figure.dataset.points = '0';
    delete this.figure.dataset.selected;
    this.svg.replaceChildren();
    this.caption.textContent = '';
  }

  // frequencies in cm⁻¹ and intensities in km/mol, one per mode, in the result's order.
  show(frequencies, intensities) {
    this.modes = frequencies.map((frequency, index) => ({ index, frequency, intensity: intensities[index] }));
    this.draw();
  }

  select(index) {
    this.selected = index;
    this.figure.dataset.selected = String(index);
    for (const stick of this.svg.querySelectorAll('.stick')) {
      stick.classList.toggle('selected', Number(stick.dataset.mode) === index);
    }
  }

  draw() {
    const real = this.modes.filter((m) => m.frequency > 0 && Number.isFinite(m.intensity));
    const imaginary = this.modes.filter((m) => m.frequency < 0).length;
    this.figure.dataset.points = String(real.length);
    this.svg.replaceChildren();
    if (!real.length) {
      this.caption.textContent = 'No real vibrational modes with an IR intensity to plot.';
      return;
    }
    const strongest = real.reduce((a, b) => (b.intensity > a.intensity ? b : a));
    this.caption.textContent = `${real.length} modes; strongest ${strongest.frequency.toFixed(1)} cm⁻¹ `
      + `(${strongest.intensity.toFixed(1)} km/mol). Sticks: computed intensities; line: Lorentzians of `
      + `${FWHM_CM1} cm⁻¹ FWHM.`
      + (imaginary ? ` ${imaginary} imaginary mode${imaginary === 1 ? '' : 's'} not shown.` : '')
      + ' Click a stick to animate its mode.';

    // Up to 4000 cm⁻¹ (where organic IR spectra end) or past the highest mode.
    const xHigh = Math.max(4000, Math.ceil(Math.max(...real.map((m) => m.frequency)) / 500) * 500 + 200);
    const xLow = 0;
    const yHigh = strongest.intensity * 1.08 || 1;
    const plotW = WIDTH - MARGIN.left - MARGIN.right;
    const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
    const x = (f) => MARGIN.left + ((xHigh - f) / (xHigh - xLow)) * plotW;
    const y = (i) => MARGIN.top + (1 - i / yHigh) * plotH;

    const xTicks = [];
    for (let t = xLow; t <= xHigh; t += 500) xTicks.push(t);
    this.svg.append(axes({ width: WIDTH, height: HEIGHT, margin: MARGIN }, {
      x, y, xTicks, yTicks: ticks(0, yHigh, 4), yLabelOf: (t) => String(Math.round(t)),
      xTitle: 'wavenumber / cm⁻¹', yTitle: 'intensity / km mol⁻¹',
    }));

    // The envelope: each mode a Lorentzian whose peak height is its intensity.
    const gamma = FWHM_CM1 / 2;
    const envelope = [];
    for (let s = 0; s <= ENVELOPE_SAMPLES; s += 1) {
      const f = xLow + ((xHigh - xLow) * s) / ENVELOPE_SAMPLES;
      let sum = 0;
      for (const m of real) sum += m.intensity * (gamma * gamma) / ((f - m.frequency) ** 2 + gamma * gamma);
      envelope.push(`${x(f).toFixed(1)},${y(Math.min(sum, yHigh)).toFixed(1)}`);
    }
    this.svg.append(svg('polyline', { class: 'envelope', points: envelope.join(' ') }));

    const sticks = svg('g', { class: 'sticks' });
    for (const m of real) {
      const stick = svg('g', { class: 'stick', 'data-mode': m.index, 'data-frequency': m.frequency.toFixed(2) });
      stick.append(svg('line', { x1: x(m.frequency), x2: x(m.frequency), y1: y(0), y2: y(m.intensity), class: 'bar' }));
      // A wider invisible strip over the whole height, so a thin or short stick is easy to click.
      stick.append(svg('rect', { x: x(m.frequency) - 4.5, width: 9, y: MARGIN.top, height: y(0) - MARGIN.top, class: 'hit' }));
      stick.append(svg('title', {}, `mode ${m.index + 1}: ${m.frequency.toFixed(1)} cm⁻¹, ${m.intensity.toFixed(2)} km/mol`));
      stick.addEventListener('click', () => this.onSelect(m.index));
      sticks.append(stick);
    }
    this.svg.append(sticks);
    if (this.selected !== null) this.select(this.selected);
  }
}
