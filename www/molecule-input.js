// The molecule of the job form, given one of three ways: XYZ text, a SMILES string, or a file
// (SDF/MOL, MOL2, PDB; an .xyz file fills the XYZ text). Whatever the way, the server's own
// conversion (POST /molecules) previews it: the 3-D structure it would run, its formula and
// InChIKey, and the charge and multiplicity it read; a 422 is shown next to the field it names,
// exactly as the job's submission would show it.
import { api } from './api.js';
import { el, formulaElement } from './format.js';
import { StructureViewer } from './viewer.js';

const PREVIEW_DELAY_MS = 500; // after the last keystroke
const MAX_FILE_BYTES = 5 * 1024 * 1024;
// File name endings and the molecule format (the spec's key) they hold.
const FILE_FORMATS = [[/\.(sdf|sd)$/i, 'sdf'], [/\.mol$/i, 'mol'], [/\.mol2$/i, 'mol2'], [/\.(pdb|ent)$/i, 'pdb'],
  [/\.xyz$/i, 'xyz']];
const FORMAT_NAMES = { sdf: 'SDF', mol: 'MOL', mol2: 'MOL2', pdb: 'PDB', xyz: 'XYZ' };

export function formatOfFileName(name) {
  const match = FILE_FORMATS.find(([pattern]) => pattern.test(name));
  return match ? match[1] : null;
}

export class MoleculeInput {
  // root: the form; onPreview(preview or null) hears each preview's answer.
  constructor(root, { onPreview, onFileName } = {}) {
    this.root = root;
    this.onPreview = onPreview || (() => {});
    this.onFileName = onFileName || (() => {});
    this.xyz = root.querySelector('#xyz');
    this.smiles = root.querySelector('#smiles');
    this.xyzFile = root.querySelector('#xyz-file');
    this.moleculeFile = root.querySelector('#molecule-file-input');
    this.fileName = root.querySelector('#molecule-file-name');
    this.previewBox = root.querySelector('#molecule-preview');
    this.previewFacts = root.querySelector('#preview-identifiers');
    this.previewViewer = new StructureViewer(root.querySelector('#preview-viewer'));
    this.file = null; // {format, text, name} of the loaded SDF/MOL/MOL2/PDB
    this.previewTimer = null;
    this.previewSequence = 0;
    for (const radio of this.formatRadios()) radio.addEventListener('change', () => this.formatChanged());
    this.xyz.addEventListener('input', () => this.schedulePreview());
    this.smiles.addEventListener('input', () => this.schedulePreview());
    this.xyzFile.addEventListener('change', () => this.loadFile(this.xyzFile));
    this.moleculeFile.addEventListener('change', () => this.loadFile(this.moleculeFile));
    this.formatChanged();
  }

  formatRadios() {
    return [...this.root.querySelectorAll('input[name="molecule_format"]')];
  }

  // "xyz", "smiles" or "file".
  format() {
    const checked = this.formatRadios().find((r) => r.checked);
    return checked ? checked.value : 'xyz';
  }

  setFormat(format) {
    for (const radio of this.formatRadios()) radio.checked = radio.value === format;
    this.formatChanged();
  }

  formatChanged() {
    const format = this.format();
    for (const panel of this.root.querySelectorAll('.molecule-panel')) panel.hidden = panel.dataset.format !== format;
    this.schedulePreview(0);
  }

  // The spec's "molecule" for what is entered now, or null when nothing is.
  molecule() {
    const format = this.format();
    if (format === 'smiles') {
      const smiles = this.smiles.value.trim();
      return smiles ? { smiles } : null;
    }
    if (format === 'file') return this.file ? { [this.file.format]: this.file.text } : null;
    const xyz = this.xyz.value.replace(/\r\n/g, '\n');
    return xyz.trim() ? { xyz } : null;
  }

  // What to say when molecule() is null.
  missingMessage() {
    return {
      xyz: 'Paste XYZ or load an .xyz file.',
      smiles: 'Type a SMILES string, e.g. CCO for ethanol.',
      file: 'Choose an SDF, MOL, MOL2 or PDB file.',
    }[this.format()];
  }

  // The id of the element that shows errors of a spec field under "molecule".
  errorTargetFor(field) {
    if (field !== 'molecule' && !field.startsWith('molecule.') && !field.startsWith('molecule[')) return null;
    const key = field.split('.')[1] || '';
    if (key === 'smiles') return 'smiles-error';
    if (['sdf', 'mol', 'mol2', 'pdb'].includes(key)) return 'molecule-file-error';
    if (key === 'xyz') return 'xyz-error';
    return { xyz: 'xyz-error', smiles: 'smiles-error', file: 'molecule-file-error' }[this.format()];
  }

  async loadFile(input) {
    const file = input.files && input.files[0];
    const error = this.root.querySelector(input === this.xyzFile ? '#xyz-file-error' : '#molecule-file-error');
    error.hidden = true;
    if (!file) return;
    const format = formatOfFileName(file.name);
    const refuse = (message) => {
      error.textContent = message;
      error.hidden = false;
      input.value = '';
    };
    if (!format) {
      refuse(`${file.name}: expected an .xyz, .sdf, .mol, .mol2 or .pdb file.`);
      return;
    }
    if (file.size > MAX_FILE_BYTES) {
      refuse(`${file.name} is larger than 5 MiB.`);
      return;
    }
    const text = await file.text();
    this.onFileName(file.name.replace(/\.[^.]+$/, ''));
    if (format === 'xyz') {
      this.xyz.value = text;
      this.setFormat('xyz');
      return;
    }
    this.file = { format, text, name: file.name };
    const records = format === 'sdf' ? text.split(/^\$\$\$\$\s*$/m).filter((r) => r.trim()).length : 1;
    this.fileName.textContent = `${file.name} (${FORMAT_NAMES[format]}`
      + (records > 1 ? `, ${records} records: a job takes the first; the batch form runs one job per record)` : ')');
    this.setFormat('file');
  }

  schedulePreview(delay = PREVIEW_DELAY_MS) {
    clearTimeout(this.previewTimer);
    this.previewSequence += 1; // an answer still on its way is for older input
    this.previewTimer = setTimeout(() => this.preview(), delay);
  }

  fieldError(id) {
    return this.root.querySelector(`#${id}`);
  }

  // Clears the errors a preview may have shown (its own field's), not those of a submission
  // for other fields.
  clearPreviewErrors() {
    for (const id of ['xyz-error', 'smiles-error', 'molecule-file-error']) {
      const p = this.fieldError(id);
      p.hidden = true;
      p.textContent = '';
    }
    for (const control of [this.xyz, this.smiles, this.moleculeFile]) control.removeAttribute('aria-invalid');
  }

  async preview() {
    const sequence = this.previewSequence;
    const molecule = this.molecule();
    if (!molecule) {
      this.clearPreviewErrors();
      this.showPreview('empty');
      return;
    }
    this.showPreview('loading');
    let answer;
    try {
      answer = await api.previewMolecule(molecule);
    } catch (err) {
      if (sequence !== this.previewSequence) return;
      if (err.status === 422) {
        this.clearPreviewErrors();
        this.showFieldErrors(err);
        this.showPreview('invalid');
      } else {
        // An older server without POST /molecules, a key without compute:write, a network
        // problem: the job can still be submitted, only the preview is missing.
        this.showPreview('unavailable', err.status === 404 || err.status === 405
          ? 'No preview: this server cannot convert molecules without a job (POST /molecules).'
          : `No preview: ${err.message}`);
      }
      return;
    }
    if (sequence !== this.previewSequence) return;
    this.clearPreviewErrors();
    this.showPreview('shown', answer);
  }

  // A 422's details under "molecule", next to their fields; the rest are the form's business.
  showFieldErrors(err) {
    for (const detail of err.details) {
      const id = typeof detail.field === 'string' ? this.errorTargetFor(detail.field) : null;
      const target = id ? this.fieldError(id) : null;
      if (!target) continue;
      target.textContent = target.textContent ? `${target.textContent} ${detail.message}` : detail.message;
      target.hidden = false;
      target.dataset.field = detail.field;
      const control = this.root.querySelector(`[aria-describedby~="${id}"]`);
      if (control) control.setAttribute('aria-invalid', 'true');
    }
  }

  // state: empty | loading | shown | invalid | unavailable.
  showPreview(state, detail) {
    this.previewBox.dataset.state = state;
    if (state === 'shown') {
      const ids = detail.identifiers || {};
      this.previewViewer.show(detail.xyz);
      const facts = [
        ['Formula', formulaElement(ids.formula)],
        ['InChIKey', el('code', { id: 'preview-inchikey' }, ids.inchikey || '—')],
        ['SMILES', el('code', {}, ids.canonical_smiles || '—')],
        ['Atoms', String(detail.atoms ?? '')],
        ['Charge / multiplicity', `${detail.charge} / ${detail.multiplicity}`],
      ];
      this.previewFacts.replaceChildren(...facts.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
      this.onPreview(detail);
      return;
    }
    if (state !== 'loading') {
      this.previewViewer.clear();
      this.previewFacts.replaceChildren(...(typeof detail === 'string' ? [el('dd', { class: 'muted' }, detail)] : []));
      this.onPreview(null);
    }
  }
}
