// The batch form: a molecule file (multi-record SDF, multi-frame XYZ, SMILES one per line) posted
// as it is to POST /jobs/batch with its content type, the spec's other fields as query
// parameters (README, "Batches from molecule files"). Every record becomes a job or answers its
// own errors; the answer is listed record by record, with a link to the batch's view.
import { api } from './api.js';
import { el } from './format.js';
import { EngineFields } from './engine-fields.js';
import { showFormErrors, clearFormErrors } from './form-errors.js';

const MAX_FILE_BYTES = 64 * 1024 * 1024; // the server's max_body_bytes decides; this only stops the absurd
const CONTENT_TYPES = [[/\.(sdf|sd)$/i, 'chemical/x-mdl-sdfile'], [/\.xyz$/i, 'chemical/x-xyz'],
  [/\.(smi|smiles|txt)$/i, 'chemical/x-daylight-smiles']];
const RECORD_FIELD = /^records\[(\d+)\]\.?(.*)$/;

function contentTypeOf(name) {
  const match = CONTENT_TYPES.find(([pattern]) => pattern.test(name));
  return match ? match[1] : null;
}

// The spec's fields as the query parameters a molecule-file batch takes.
export function specQuery(spec) {
  const q = {};
  for (const [key, value] of Object.entries(spec)) {
    if (key === 'keywords') {
      for (const [name, v] of Object.entries(value)) q[`keywords.${name}`] = String(v);
    } else if (key === 'solvent') {
      if (value.model) q.solvent_model = value.model;
      if (value.name) q.solvent = value.name;
      if (value.dielectric !== undefined) q.dielectric = String(value.dielectric);
    } else if (Array.isArray(value)) {
      q[key] = value.join(',');
    } else {
      q[key] = String(value);
    }
  }
  return q;
}

export class BatchForm {
  constructor(form) {
    this.form = form;
    this.formErrors = form.querySelector('#batch-form-errors');
    this.fileInput = form.querySelector('#batch-file');
    this.fileError = form.querySelector('#batch-file-error');
    this.button = form.querySelector('#batch-submit-button');
    this.result = form.querySelector('#batch-result');
    this.records = form.querySelector('#batch-records');
    this.engineFields = new EngineFields({
      choices: form.querySelector('#batch-engine-choices'),
      solvent: form.querySelector('#batch-solvent-fields'),
      keywords: form.querySelector('#batch-keyword-fields'),
      outputs: form.querySelector('#batch-output-fields'),
    }, { idPrefix: 'batch-' });
    this.button.disabled = true;
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.submit();
    });
  }

  setEngines(engines) {
    this.engineFields.setEngines(engines);
    this.button.disabled = false;
  }

  spec() {
    const f = this.form.elements;
    const spec = this.engineFields.values();
    if (f.batch_timeout_s.value !== '') spec.timeout_s = Number(f.batch_timeout_s.value);
    const tags = f.batch_tags.value.split(',').map((t) => t.trim()).filter(Boolean);
    if (tags.length) spec.tags = tags;
    return spec;
  }

  errorTargetFor(field) {
    const engine = this.engineFields.errorTargetFor(field);
    if (engine) return engine;
    if (field === 'timeout_s') return 'batch-timeout-error';
    if (field === 'tags' || field.startsWith('tags[')) return 'batch-tags-error';
    return null;
  }

  fail(message) {
    this.fileError.textContent = message;
    this.fileError.hidden = false;
    this.fileInput.setAttribute('aria-invalid', 'true');
  }

  async submit() {
    clearFormErrors(this.form, this.formErrors);
    this.result.textContent = '';
    this.records.hidden = true;
    this.records.replaceChildren();
    const file = this.fileInput.files && this.fileInput.files[0];
    if (!file) {
      this.fail('Choose a molecule file: .sdf, .xyz (several frames) or .smi (one SMILES per line).');
      return;
    }
    const contentType = contentTypeOf(file.name);
    if (!contentType) {
      this.fail(`${file.name}: expected .sdf, .xyz or .smi (SMILES one per line).`);
      return;
    }
    if (file.size > MAX_FILE_BYTES) {
      this.fail(`${file.name} is larger than 64 MiB.`);
      return;
    }
    this.button.disabled = true;
    this.result.textContent = 'Submitting…';
    try {
      const answer = await api.submitBatchFile(file, contentType, specQuery(this.spec()));
      this.showAnswer(answer);
    } catch (err) {
      this.result.textContent = '';
      this.showRefusal(err);
    } finally {
      this.button.disabled = false;
    }
  }

  // 202 {batch_id, url, accepted, refused, records: [{record, job_id, name} | {record, errors}]}
  showAnswer(answer) {
    this.result.replaceChildren(`${answer.accepted} job${answer.accepted === 1 ? '' : 's'} submitted`,
      answer.refused ? `, ${answer.refused} record${answer.refused === 1 ? '' : 's'} refused` : '', '. ',
      el('a', { href: `#/batches/${answer.batch_id}`, id: 'batch-link', dataset: { batchId: answer.batch_id } },
        'Open the batch'));
    const records = Array.isArray(answer.records) ? answer.records : [];
    this.listRecords(records.map((r) => ({ record: r.record, jobId: r.job_id, name: r.name, errors: r.errors })));
  }

  // A 422 refuses every record (details named records[i].<field>, i from 0); 413 is a file over
  // the server's body limit. A record's error in a field the form sets (the method, a keyword)
  // is the form's: shown once next to that field, however many records repeat it.
  showRefusal(err) {
    const perRecord = new Map();
    const rest = [];
    const seen = new Set();
    for (const detail of err.details) {
      const match = typeof detail.field === 'string' ? RECORD_FIELD.exec(detail.field) : null;
      if (!match || this.errorTargetFor(match[2])) {
        const field = match ? match[2] : detail.field;
        const key = `${field}\n${detail.message}`;
        if (!seen.has(key)) rest.push({ field, message: detail.message });
        seen.add(key);
        continue;
      }
      const index = Number(match[1]);
      if (!perRecord.has(index)) perRecord.set(index, []);
      perRecord.get(index).push({ field: match[2], message: detail.message });
    }
    if (err.status === 413) this.fail(`The server refused the file: ${err.message}`);
    else if (!perRecord.size || rest.length) {
      showFormErrors(this.form, this.formErrors, { message: err.message, details: rest }, (f) => this.errorTargetFor(f));
    }
    if (perRecord.size) {
      this.result.textContent = `No job was submitted: every record was refused (${err.message}).`;
      this.listRecords([...perRecord].map(([index, errors]) => ({ record: index + 1, errors })));
    }
  }

  // Refused records first and each in full (they need fixing); accepted ones folded.
  listRecords(records) {
    const refused = records.filter((r) => r.errors && r.errors.length);
    const accepted = records.filter((r) => r.jobId);
    const items = refused.map((r) => el('li', { class: 'refused', dataset: { record: r.record } },
      el('strong', {}, `record ${r.record}`), ': ',
      r.errors.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message)).join('; ')));
    if (accepted.length) {
      items.push(el('li', { class: 'accepted' }, el('details', {},
        el('summary', {}, `${accepted.length} job${accepted.length === 1 ? '' : 's'} accepted`),
        el('ol', {}, accepted.map((r) => el('li', { dataset: { record: r.record, jobId: r.jobId } },
          `record ${r.record}: `, el('a', { href: `#/jobs/${r.jobId}` }, r.name || r.jobId)))))));
    }
    this.records.replaceChildren(...items);
    this.records.hidden = items.length === 0;
  }
}
