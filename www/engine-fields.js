// The part of a job form that depends on the engine: engine, task, method, implicit solvent,
// keywords and extra outputs, built from GET /engines (what each engine takes and whether this
// server runs it) rather than from lists kept here. Used by the single-job form and by the
// batch form (ids prefixed "batch-").
//
// GET /engines names the keywords but says nothing of their values, so KEYWORD_INPUTS below
// describes how to ask for the ones Nox documents (README, "The job spec"); a keyword it does
// not describe still gets a plain text field.
import { el } from './format.js';

const TASK_LABELS = { optimize_hessian: 'optimize + hessian' };
const METHOD_LABELS = { gfn2: 'GFN2-xTB', gfn1: 'GFN1-xTB', gfn0: 'GFN0-xTB', gfnff: 'GFN-FF', pm7: 'PM7', pm6: 'PM6',
  'pm6-d3h4': 'PM6-D3H4', am1: 'AM1', rm1: 'RM1' };
const ENGINE_NOTES = { echo: 'test engine: answers its input' };
const OUTPUT_LABELS = {
  molden: 'Molden file (orbitals)',
  density_cube: 'Density cube',
  spin_density_cube: 'Spin density cube (open shells only)',
  wbo: 'Wiberg bond orders',
};
const OPTIMIZING = ['optimize', 'optimize_hessian'];
const HESSIAN = ['hessian', 'optimize_hessian'];
// kind: choice (choices), integer, number, boolean; tasks: the tasks it matters for (shown only then).
const KEYWORD_INPUTS = {
  opt_level: { label: 'Optimization level', kind: 'choice', tasks: OPTIMIZING,
    choices: ['crude', 'sloppy', 'loose', 'lax', 'normal', 'tight', 'vtight', 'extreme'] },
  max_opt_cycles: { label: 'Max. cycles', kind: 'integer', min: 1, tasks: OPTIMIZING },
  accuracy: { label: 'Accuracy', kind: 'number', min: 0.0001 },
  electronic_temperature: { label: 'Electronic temperature (K)', kind: 'number', min: 0 },
  max_iterations: { label: 'Max. SCF iterations', kind: 'integer', min: 1 },
  thermo_temperature: { label: 'Thermochemistry temperature (K)', kind: 'number', min: 0, tasks: HESSIAN },
  ensure_minimum: { label: 'Re-optimize until a true minimum', kind: 'boolean', tasks: ['optimize_hessian'] },
};

const kebab = (name) => name.replace(/_/g, '-');
const label = (labels, name) => labels[name] || name;

function fieldBox(field, ...children) {
  return el('div', { class: 'field', dataset: { field } }, ...children);
}

// A text field's value as the JSON the spec wants: numbers and booleans as such.
function typedValue(text) {
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (text !== '' && Number.isFinite(Number(text))) return Number(text);
  return text;
}

export class EngineFields {
  // mounts: {choices, solvent, keywords, outputs}: where each group of fields goes.
  constructor(mounts, { idPrefix = '' } = {}) {
    this.id = (name) => `${idPrefix}${name}`;
    this.engines = [];
    this.keywordInputs = new Map(); // keyword -> {box, control, spec}
    this.buildChoices(mounts.choices);
    this.buildSolvent(mounts.solvent);
    this.keywordsMount = mounts.keywords;
    this.buildOutputs(mounts.outputs);
  }

  select(name, field, labelText) {
    const id = this.id(name);
    const control = el('select', { id, name: field, 'aria-describedby': `${id}-error` });
    const box = fieldBox(field, el('label', { for: id }, labelText), control,
      el('p', { id: `${id}-error`, class: 'field-error', hidden: true }));
    return { box, control };
  }

  buildChoices(mount) {
    const engine = this.select('engine', 'engine', 'Engine');
    const task = this.select('task', 'task', 'Task');
    const method = this.select('method', 'method', 'Method');
    this.engineSelect = engine.control;
    this.taskSelect = task.control;
    this.methodSelect = method.control;
    mount.replaceChildren(engine.box, task.box, method.box);
    this.engineSelect.addEventListener('change', () => this.engineChanged());
    this.methodSelect.addEventListener('change', () => this.syncSolvent());
    this.taskSelect.addEventListener('change', () => this.syncKeywords());
  }

  buildSolvent(mount) {
    const model = this.select('solvent-model', 'solvent.model', 'Model');
    this.modelSelect = model.control;
    const nameId = this.id('solvent-name');
    const listId = this.id('solvents');
    this.solventName = el('input', { type: 'text', id: nameId, name: 'solvent_name', list: listId, disabled: true,
      autocomplete: 'off', 'aria-describedby': `${nameId}-error` });
    this.solventList = el('datalist', { id: listId });
    const dielectricId = this.id('solvent-dielectric');
    this.dielectric = el('input', { type: 'number', id: dielectricId, name: 'dielectric', min: 1, max: 1000, step: 'any',
      placeholder: 'from the name', 'aria-describedby': `${dielectricId}-error` });
    this.dielectricBox = fieldBox('solvent.dielectric', el('label', { for: dielectricId }, 'or dielectric constant'),
      this.dielectric, el('p', { id: `${dielectricId}-error`, class: 'field-error', hidden: true }));
    mount.replaceChildren(el('legend', {}, 'Implicit solvent'), model.box,
      fieldBox('solvent.name', el('label', { for: nameId }, 'Solvent'), this.solventName, this.solventList,
        el('p', { id: `${nameId}-error`, class: 'field-error', hidden: true })),
      this.dielectricBox);
    this.modelSelect.addEventListener('change', () => this.syncSolvent());
  }

  buildOutputs(mount) {
    this.outputsFieldset = mount;
    this.outputsList = el('div', { class: 'checks' });
    mount.replaceChildren(el('legend', {}, 'Extra files'), this.outputsList,
      el('p', { id: this.id('outputs-error'), class: 'field-error', hidden: true }));
  }

  // The answer of GET /engines.
  setEngines(engines) {
    this.engines = Array.isArray(engines) ? engines : [];
    const previous = this.engineSelect.value;
    this.engineSelect.replaceChildren(...this.engines.map((e) => {
      const notes = [ENGINE_NOTES[e.name]].filter(Boolean);
      if (!e.available) notes.push(`not available here${e.problem ? `: ${e.problem}` : ''}`);
      return el('option', { value: e.name, disabled: !e.available, title: e.version ? `${e.name} ${e.version}` : null },
        `${e.name}${notes.length ? ` (${notes.join('; ')})` : ''}`);
    }));
    const keep = this.engines.find((e) => e.name === previous && e.available);
    const first = this.engines.find((e) => e.available);
    if (keep || first) this.engineSelect.value = (keep || first).name;
    this.engineChanged();
  }

  engine() {
    return this.engines.find((e) => e.name === this.engineSelect.value) || null;
  }

  // Refills the task, method, solvent, keyword and output fields for the chosen engine, keeping
  // what was chosen where the new engine offers it too.
  engineChanged() {
    const engine = this.engine();
    const fill = (select, values, labels, preferred) => {
      const previous = select.value;
      select.replaceChildren(...values.map((v) => el('option', { value: v }, label(labels, v))));
      const pick = [previous, ...preferred].find((v) => values.includes(v));
      if (pick) select.value = pick;
    };
    fill(this.taskSelect, engine ? engine.tasks : [], TASK_LABELS, ['optimize']);
    fill(this.methodSelect, engine ? engine.methods : [], METHOD_LABELS, engine ? [engine.default_method] : []);
    const previousModel = this.modelSelect.value;
    const models = engine ? engine.solvent_models : [];
    this.modelSelect.replaceChildren(el('option', { value: '' }, 'none (gas phase)'),
      ...models.map((m) => el('option', { value: m.name }, m.name.toUpperCase())));
    if (models.some((m) => m.name === previousModel)) this.modelSelect.value = previousModel;
    this.syncSolvent();
    this.buildKeywords(engine ? engine.keywords : []);
    this.buildOutputChecks(engine ? engine.outputs : []);
  }

  // The solvents the chosen model knows for the chosen method, offered as suggestions.
  syncSolvent() {
    const engine = this.engine();
    const model = engine && engine.solvent_models.find((m) => m.name === this.modelSelect.value);
    this.solventName.disabled = !model;
    const solvents = model ? (model.solvents_by_method[this.methodSelect.value] || []) : [];
    this.solventList.replaceChildren(...solvents.map((s) => el('option', { value: s.name },
      typeof s.dielectric === 'number' ? `ε = ${s.dielectric}` : undefined)));
    if (model && !this.solventName.value && solvents.some((s) => s.name === 'water')) this.solventName.value = 'water';
    this.dielectricBox.hidden = !(model && model.takes_dielectric);
    this.dielectric.disabled = this.dielectricBox.hidden;
  }

  buildKeywords(names) {
    const previous = new Map([...this.keywordInputs].map(([name, k]) => [name, k.control.value]));
    this.keywordInputs.clear();
    const boxes = names.map((name) => {
      const spec = KEYWORD_INPUTS[name] || { label: name, kind: 'text' };
      const id = this.id(kebab(name));
      const common = { id, name: `keywords.${name}`, 'aria-describedby': `${id}-error` };
      let control;
      if (spec.kind === 'choice') {
        control = el('select', common, el('option', { value: '' }, 'engine default'),
          spec.choices.map((c) => el('option', { value: c }, c)));
      } else if (spec.kind === 'boolean') {
        control = el('select', common, el('option', { value: '' }, 'engine default'),
          el('option', { value: 'true' }, 'yes'), el('option', { value: 'false' }, 'no'));
      } else if (spec.kind === 'integer' || spec.kind === 'number') {
        control = el('input', { ...common, type: 'number', min: spec.min, step: spec.kind === 'integer' ? 1 : 'any',
          placeholder: 'default' });
      } else {
        control = el('input', { ...common, type: 'text', placeholder: 'default', autocomplete: 'off' });
      }
      if (previous.has(name)) control.value = previous.get(name);
      const box = fieldBox(`keywords.${name}`, el('label', { for: id }, spec.label), control,
        el('p', { id: `${id}-error`, class: 'field-error', hidden: true }));
      this.keywordInputs.set(name, { box, control, spec });
      return box;
    });
    this.keywordsMount.replaceChildren(...boxes);
    this.syncKeywords();
  }

  // Shows only the keywords that matter for the chosen task (an optimization's cycles, a
  // Hessian's temperature); hidden ones are not sent.
  syncKeywords() {
    for (const { box, spec } of this.keywordInputs.values()) {
      box.hidden = Boolean(spec.tasks) && !spec.tasks.includes(this.taskSelect.value);
    }
  }

  buildOutputChecks(outputs) {
    const checked = new Set(this.outputs());
    this.outputsList.replaceChildren(...outputs.map((name) => el('label', { class: 'check' },
      el('input', { type: 'checkbox', name: 'outputs', value: name, checked: checked.has(name) }),
      ` ${label(OUTPUT_LABELS, name)}`)));
    this.outputsFieldset.hidden = outputs.length === 0;
  }

  outputs() {
    return [...this.outputsList.querySelectorAll('input[name="outputs"]:checked')].map((c) => c.value);
  }

  // {engine, task, method, solvent?, keywords?, outputs?} as the job spec says them.
  values() {
    const values = { engine: this.engineSelect.value, task: this.taskSelect.value, method: this.methodSelect.value };
    if (this.modelSelect.value) {
      const solvent = { model: this.modelSelect.value };
      const name = this.solventName.value.trim();
      if (name) solvent.name = name;
      if (!this.dielectric.disabled && this.dielectric.value !== '') solvent.dielectric = Number(this.dielectric.value);
      values.solvent = solvent;
    }
    const keywords = {};
    for (const [name, { box, control, spec }] of this.keywordInputs) {
      const text = control.value.trim();
      if (box.hidden || text === '') continue;
      if (spec.kind === 'integer' || spec.kind === 'number') keywords[name] = Number(text);
      else if (spec.kind === 'boolean') keywords[name] = text === 'true';
      else if (spec.kind === 'choice') keywords[name] = text;
      else keywords[name] = typedValue(text);
    }
    if (Object.keys(keywords).length) values.keywords = keywords;
    const outputs = this.outputs();
    if (outputs.length) values.outputs = outputs;
    return values;
  }

  // The error element (id) for a spec field these controls own, or null.
  errorTargetFor(field) {
    const under = (prefix) => field === prefix || field.startsWith(`${prefix}.`) || field.startsWith(`${prefix}[`);
    if (field.startsWith('keywords.')) {
      const name = field.slice('keywords.'.length).split(/[.[]/)[0];
      return this.keywordInputs.has(name) ? `${this.id(kebab(name))}-error` : null;
    }
    if (under('solvent.name')) return `${this.id('solvent-name')}-error`;
    if (under('solvent.dielectric')) return `${this.id('solvent-dielectric')}-error`;
    if (under('solvent')) return `${this.id('solvent-model')}-error`;
    for (const name of ['engine', 'task', 'method', 'outputs']) if (under(name)) return `${this.id(name)}-error`;
    return null;
  }
}
