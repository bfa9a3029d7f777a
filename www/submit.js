// The submit form: builds a job spec for POST /jobs and shows a 422's details next to the
// fields they name.
import { api } from './api.js';
import { el, shortId } from './format.js';

// The form control a spec field's error belongs to (longest matching prefix wins).
const FIELD_ERROR_TARGETS = [
  ['molecule', 'xyz-error'],
  ['name', 'name-error'],
  ['engine', 'engine-error'],
  ['task', 'task-error'],
  ['method', 'method-error'],
  ['charge', 'charge-error'],
  ['multiplicity', 'multiplicity-error'],
  ['timeout_s', 'timeout-error'],
  ['solvent.name', 'solvent-name-error'],
  ['solvent', 'solvent-model-error'],
  ['keywords.opt_level', 'opt-level-error'],
  ['keywords.max_opt_cycles', 'max-opt-cycles-error'],
  ['tags', 'tags-error'],
  ['outputs', 'outputs-error'],
];

const SUPPORTED_FILE = /\.xyz$/i;
const MAX_FILE_BYTES = 5 * 1024 * 1024;

function errorTargetFor(field) {
  let best = null;
  for (const [prefix, id] of FIELD_ERROR_TARGETS) {
    if (field === prefix || field.startsWith(`${prefix}.`) || field.startsWith(`${prefix}[`)) {
      if (!best || prefix.length > best[0].length) best = [prefix, id];
    }
  }
  return best ? best[1] : null;
}

export class SubmitForm {
  constructor(form) {
    this.form = form;
    this.formErrors = form.querySelector('#form-errors');
    this.result = form.querySelector('#submit-result');
    this.button = form.querySelector('#submit-button');
    this.solventModel = form.querySelector('#solvent-model');
    this.solventName = form.querySelector('#solvent-name');
    this.fileInput = form.querySelector('#xyz-file');
    this.fileError = form.querySelector('#xyz-file-error');
    this.solventModel.addEventListener('change', () => this.syncSolvent());
    this.fileInput.addEventListener('change', () => this.loadFile());
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });
    this.syncSolvent();
  }

  syncSolvent() {
    this.solventName.disabled = this.solventModel.value === '';
  }

  // Marks engines the server reports as unavailable (GET /health).
  setEngines(engines) {
    if (!engines || typeof engines !== 'object') return;
    for (const option of this.form.querySelector('#engine').options) {
      if (!option.dataset.label) option.dataset.label = option.textContent;
      const info = engines[option.value];
      const unavailable = Boolean(info && info.available === false);
      option.disabled = unavailable;
      option.textContent = unavailable
        ? `${option.value} (unavailable${info.problem ? `: ${info.problem}` : ''})` : option.dataset.label;
    }
  }

  async loadFile() {
    const file = this.fileInput.files && this.fileInput.files[0];
    this.fileError.hidden = true;
    if (!file) return;
    if (!SUPPORTED_FILE.test(file.name)) {
      this.fileError.textContent = `${file.name}: only .xyz files can be loaded; SDF/MOL and SMILES are not supported by this server yet.`;
      this.fileError.hidden = false;
      this.fileInput.value = '';
      return;
    }
    if (file.size > MAX_FILE_BYTES) {
      this.fileError.textContent = `${file.name} is larger than 5 MiB.`;
      this.fileError.hidden = false;
      this.fileInput.value = '';
      return;
    }
    const text = await file.text();
    this.form.querySelector('#xyz').value = text;
    const name = this.form.querySelector('#name');
    if (!name.value) name.value = file.name.replace(SUPPORTED_FILE, '');
  }

  spec() {
    const f = this.form.elements;
    const spec = {
      engine: f.engine.value,
      task: f.task.value,
      method: f.method.value,
      molecule: { xyz: f.xyz.value.replace(/\r\n/g, '\n') },
      charge: f.charge.value === '' ? 0 : Number(f.charge.value),
      multiplicity: f.multiplicity.value === '' ? 1 : Number(f.multiplicity.value),
      solvent: f.solvent_model.value ? { model: f.solvent_model.value, name: f.solvent_name.value.trim() } : null,
    };
    if (f.timeout_s.value !== '') spec.timeout_s = Number(f.timeout_s.value);
    const name = f.name.value.trim();
    if (name) spec.name = name;
    const tags = f.tags.value.split(',').map((t) => t.trim()).filter(Boolean);
    if (tags.length) spec.tags = tags;
    const keywords = {};
    if (f.opt_level.value) keywords.opt_level = f.opt_level.value;
    if (f.max_opt_cycles.value !== '') keywords.max_opt_cycles = Number(f.max_opt_cycles.value);
    if (Object.keys(keywords).length) spec.keywords = keywords;
    const outputs = [...this.form.querySelectorAll('input[name="outputs"]:checked')].map((c) => c.value);
    if (outputs.length) spec.outputs = outputs;
    return spec;
  }

  clearErrors() {
    this.formErrors.hidden = true;
    this.formErrors.replaceChildren();
    for (const p of this.form.querySelectorAll('.field-error')) {
      if (p === this.fileError) continue;
      p.hidden = true;
      p.textContent = '';
    }
    for (const c of this.form.querySelectorAll('[aria-invalid]')) c.removeAttribute('aria-invalid');
  }

  showErrors(err) {
    const general = [];
    for (const detail of err.details) {
      const field = typeof detail.field === 'string' ? detail.field : '';
      const targetId = field ? errorTargetFor(field) : null;
      const target = targetId ? this.form.querySelector(`#${targetId}`) : null;
      if (!target) {
        general.push(field ? `${field}: ${detail.message}` : detail.message);
        continue;
      }
      target.textContent = target.textContent ? `${target.textContent} ${detail.message}` : detail.message;
      target.hidden = false;
      target.dataset.field = field;
      const control = this.form.querySelector(`[aria-describedby~="${targetId}"]`);
      if (control) control.setAttribute('aria-invalid', 'true');
    }
    if (!err.details.length || general.length) {
      this.formErrors.append(el('p', {}, err.message));
      if (general.length) this.formErrors.append(el('ul', {}, general.map((g) => el('li', {}, g))));
      this.formErrors.hidden = false;
    }
    const firstInvalid = this.form.querySelector('[aria-invalid="true"]');
    if (firstInvalid) firstInvalid.focus();
  }

  async submit() {
    this.clearErrors();
    this.result.textContent = '';
    const xyz = this.form.elements.xyz;
    if (!xyz.value.trim()) {
      this.showErrors({ message: 'The job was not submitted.', details: [{ field: 'molecule', message: 'Paste XYZ or load an .xyz file.' }] });
      return;
    }
    this.button.disabled = true;
    this.result.textContent = 'Submitting…';
    try {
      const accepted = await api.submitJob(this.spec());
      this.result.replaceChildren('Submitted ',
        el('a', { href: `#/jobs/${accepted.job_id}`, id: 'submitted-link', dataset: { jobId: accepted.job_id } },
          `job ${shortId(accepted.job_id)}`), '.');
    } catch (err) {
      this.result.textContent = '';
      this.showErrors(err);
    } finally {
      this.button.disabled = false;
    }
  }
}
