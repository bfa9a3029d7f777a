// The vibrations card of a Hessian job's view: the IR spectrum (ir.js) from the result's
// frequencies_cm1 and ir_intensities_km_mol, and one normal mode at a time playing in 3-D
// (viewer.js) from the displacements in the job file g98.out (normal-modes.js). A mode is chosen
// in the list or by clicking its stick; the strongest IR band plays first.
import { el } from './format.js';
import { IrSpectrum } from './ir.js';
import { parseG98, modeXyz } from './normal-modes.js';
import { StructureViewer } from './viewer.js';

const reducedMotion = () => window.matchMedia && window.matchMedia('(prefers-reduced-motion: reduce)').matches;

export class VibrationsCard {
  constructor(root) {
    this.root = root;
    this.select = root.querySelector('#mode-select');
    this.toggle = root.querySelector('#mode-toggle');
    this.modeCaption = root.querySelector('#mode-caption');
    this.viewerBox = root.querySelector('#mode-viewer');
    this.viewer = new StructureViewer(this.viewerBox);
    this.spectrumSvg = root.querySelector('#ir-svg');
    this.spectrum = new IrSpectrum(root.querySelector('#ir-spectrum'), root.querySelector('#ir-svg'),
      root.querySelector('#ir-caption'), { onSelect: (index) => this.choose(index) });
    this.frequencies = [];
    this.normalModes = null; // parsed g98.out
    this.select.addEventListener('change', () => this.choose(Number(this.select.value)));
    this.toggle.addEventListener('click', () => {
      if (this.viewer.isAnimating()) this.pause();
      else this.play(Number(this.select.value));
    });
    this.reset();
  }

  reset() {
    this.frequencies = [];
    this.normalModes = null;
    this.root.hidden = true;
    this.spectrum.clear();
    this.viewer.clear();
    this.select.replaceChildren();
    this.select.disabled = true;
    this.toggle.disabled = true;
    this.toggle.textContent = 'Play';
    this.modeCaption.textContent = '';
    this.spectrumSvg.toggleAttribute('hidden', false); // an SVG element has no hidden property
    this.viewerBox.hidden = false;
    this.toggle.hidden = false;
  }

  // result: a completed Hessian job's; loadModes(): a promise of g98.out's text, or of null when
  // the job has no such file (MOPAC writes none).
  async show(result, loadModes) {
    this.reset();
    const frequencies = Array.isArray(result.frequencies_cm1) ? result.frequencies_cm1 : [];
    if (!frequencies.length) return;
    this.frequencies = frequencies;
    const intensities = Array.isArray(result.ir_intensities_km_mol) ? result.ir_intensities_km_mol : null;
    this.root.hidden = false;
    if (intensities && intensities.length === frequencies.length) {
      this.spectrum.show(frequencies, intensities);
    } else {
      this.spectrum.clear();
      this.spectrumSvg.toggleAttribute('hidden', true);
      this.spectrum.caption.textContent = 'This engine gives no IR intensities: no spectrum to draw.';
    }
    this.select.replaceChildren(...frequencies.map((f, i) => el('option', { value: i },
      `${i + 1}: ${f.toFixed(1)} cm⁻¹`
      + (intensities && Number.isFinite(intensities[i]) ? `, ${intensities[i].toFixed(1)} km/mol` : '')
      + (f < 0 ? ' (imaginary)' : ''))));
    this.select.disabled = false;
    const first = intensities ? intensities.indexOf(Math.max(...intensities.filter(Number.isFinite))) : 0;
    this.select.value = String(Math.max(0, first));
    this.spectrum.select(Math.max(0, first));
    this.modeCaption.textContent = 'Reading the normal modes (g98.out)…';
    let text;
    try {
      text = await loadModes();
    } catch (err) {
      this.modeCaption.textContent = `Could not read g98.out: ${err.message}`;
      return;
    }
    if (this.frequencies !== frequencies) return; // another job was shown meanwhile
    this.normalModes = text ? parseG98(text) : null;
    if (!this.normalModes) {
      this.viewerBox.hidden = true;
      this.toggle.hidden = true;
      this.modeCaption.textContent = text ? 'g98.out holds no normal modes this page can read.'
        : 'This job has no g98.out, whose displacements an animation needs (xtb writes it; MOPAC does not).';
      return;
    }
    this.toggle.disabled = false;
    if (reducedMotion()) this.showStill(Number(this.select.value));
    else this.play(Number(this.select.value));
  }

  // The g98.out mode of the result's mode `index`: the same position when both list the same
  // modes, else the one nearest in frequency.
  normalModeFor(index) {
    const modes = this.normalModes ? this.normalModes.modes : [];
    if (modes.length === this.frequencies.length) return modes[index];
    const f = this.frequencies[index];
    const nearest = modes.reduce((best, m) => (!best || Math.abs(m.frequency - f) < Math.abs(best.frequency - f) ? m : best), null);
    return nearest && Math.abs(nearest.frequency - f) < 1 ? nearest : null;
  }

  choose(index) {
    this.select.value = String(index);
    this.spectrum.select(index);
    if (this.normalModes) this.play(index);
  }

  play(index) {
    const mode = this.normalModeFor(index);
    if (!mode) {
      this.viewer.clear();
      this.modeCaption.textContent = `Mode ${index + 1} is not in g98.out.`;
      return;
    }
    this.viewer.animate(modeXyz(this.normalModes.atoms, mode));
    this.viewer.container.dataset.mode = String(index);
    this.toggle.textContent = 'Pause';
    this.modeCaption.textContent = `Mode ${index + 1}: ${mode.frequency.toFixed(1)} cm⁻¹`
      + (mode.frequency < 0 ? ' (imaginary)' : '')
      + (Number.isFinite(mode.irIntensity) ? `, IR ${mode.irIntensity.toFixed(1)} km/mol` : '')
      + '. Displacements from g98.out, exaggerated to be seen.';
  }

  // The structure at rest, with the mode ready to play (chosen when motion is unwelcome).
  showStill(index) {
    const mode = this.normalModeFor(index);
    this.viewer.show(modeXyz(this.normalModes.atoms, mode || this.normalModes.modes[0]));
    this.toggle.textContent = 'Play';
    this.modeCaption.textContent = 'Press Play to animate the chosen mode.';
  }

  pause() {
    this.viewer.stop();
    this.toggle.textContent = 'Play';
  }

  resize() {
    this.viewer.resize();
  }
}
