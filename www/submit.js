// The submit form: builds a job spec for POST /jobs from the molecule (molecule-input.js), the
// engine's fields (engine-fields.js, from GET /engines) and the job's own fields, and shows a
// 422's details next to the fields they name.
import { api } from './api.js';
import { el, shortId } from './format.js';
import { EngineFields } from './engine-fields.js';
import { MoleculeInput } from './molecule-input.js';
import { showFormErrors, clearFormErrors } from './form-errors.js';

// The form's own fields and their error elements (the molecule's and the engine's are theirs).
const FIELD_ERROR_TARGETS = [
  ['name', 'name-error'],
  ['charge', 'charge-error'],
  ['multiplicity', 'multiplicity-error'],
  ['timeout_s', 'timeout-error'],
  ['tags', 'tags-error'],
];

export class SubmitForm {
  constructor(form) {
    this.form = form;
    this.formErrors = form.querySelector('#form-errors');
    this.result = form.querySelector('#submit-result');
    this.button = form.querySelector('#submit-button');
    this.engineStatus = form.querySelector('#engines-status');
    this.charge = form.querySelector('#charge');
    this.multiplicity = form.querySelector('#multiplicity');
    this.nameInput = form.querySelector('#name');
    this.molecule = new MoleculeInput(form, {
      onPreview: (preview) => this.showMoleculeDefaults(preview),
      onFileName: (name) => {
        if (!this.nameInput.value) this.nameInput.value = name;
      },
    });
    this.engineFields = new EngineFields({
      choices: form.querySelector('#engine-choices'),
      solvent: form.querySelector('#solvent-fields'),
      keywords: form.querySelector('#keyword-fields'),
      outputs: form.querySelector('#output-fields'),
    });
    // Nothing to submit to until the server has said which engines it runs.
    this.button.disabled = true;
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });
  }

  // The answer of GET /engines.
  setEngines(engines) {
    this.engineFields.setEngines(engines);
    this.engineStatus.hidden = true;
    this.button.disabled = false;
  }

  enginesUnavailable(message) {
    this.engineStatus.textContent = `Cannot read the engines of this server (GET /engines): ${message}`;
    this.engineStatus.hidden = false;
  }

  // Charge and multiplicity left empty are the molecule's (formal charges, radicals; 0 and 1
  // for XYZ): the preview says what they will be.
  showMoleculeDefaults(preview) {
    this.charge.placeholder = preview ? `auto: ${preview.charge}` : 'auto';
    this.multiplicity.placeholder = preview ? `auto: ${preview.multiplicity}` : 'auto';
  }

  spec() {
    const f = this.form.elements;
    const spec = { ...this.engineFields.values(), molecule: this.molecule.molecule() };
    if (f.charge.value !== '') spec.charge = Number(f.charge.value);
    if (f.multiplicity.value !== '') spec.multiplicity = Number(f.multiplicity.value);
    if (f.timeout_s.value !== '') spec.timeout_s = Number(f.timeout_s.value);
    const name = f.name.value.trim();
    if (name) spec.name = name;
    const tags = f.tags.value.split(',').map((t) => t.trim()).filter(Boolean);
    if (tags.length) spec.tags = tags;
    return spec;
  }

  errorTargetFor(field) {
    const molecule = this.molecule.errorTargetFor(field);
    if (molecule) return molecule;
    const engine = this.engineFields.errorTargetFor(field);
    if (engine) return engine;
    const own = FIELD_ERROR_TARGETS.find(([prefix]) => field === prefix || field.startsWith(`${prefix}.`)
      || field.startsWith(`${prefix}[`));
    return own ? own[1] : null;
  }

  clearErrors() {
    // A refused file keeps its message until another file is chosen.
    const keep = [this.form.querySelector('#xyz-file-error')];
    clearFormErrors(this.form, this.formErrors, keep);
  }

  showErrors(err) {
    showFormErrors(this.form, this.formErrors, err, (field) => this.errorTargetFor(field));
  }

  async submit() {
    this.clearErrors();
    this.result.textContent = '';
    if (!this.molecule.molecule()) {
      this.showErrors({ message: 'The job was not submitted.',
        details: [{ field: 'molecule', message: this.molecule.missingMessage() }] });
      return;
    }
    this.button.disabled = true;
    this.result.textContent = 'Submitting…';
    try {
      const accepted = await api.submitJob(this.spec());
      this.result.replaceChildren('Submitted ',
        el('a', { href: `#/jobs/${accepted.job_id}`, id: 'submitted-link', dataset: { jobId: accepted.job_id } },
          `job ${shortId(accepted.job_id)}`),
        {
          completed: ' (its result came from the calculation cache).',
          waiting: ' (it waits for an identical calculation under way, and shares its result).',
        }[accepted.state] || '.');
    } catch (err) {
      this.result.textContent = '';
      this.showErrors(err);
    } finally {
      this.button.disabled = false;
    }
  }
}
