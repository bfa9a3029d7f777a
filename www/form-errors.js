// A 422's details shown in a form: each message next to the field it names (aria-invalid on the
// control, whose aria-describedby names the error element), the rest in the form's error box.
import { el } from './format.js';

// Shows a 422's details in a form: each next to its field (targetFor(field) -> element id), the
// others, or a message without details, in the form's general error box.
export function showFormErrors(form, formErrors, err, targetFor) {
  const general = [];
  for (const detail of err.details) {
    const field = typeof detail.field === 'string' ? detail.field : '';
    const targetId = field ? targetFor(field) : null;
    const target = targetId ? form.querySelector(`#${targetId}`) : null;
    if (!target) {
      general.push(field ? `${field}: ${detail.message}` : detail.message);
      continue;
    }
    target.textContent = target.textContent ? `${target.textContent} ${detail.message}` : detail.message;
    target.hidden = false;
    target.dataset.field = field;
    const control = form.querySelector(`[aria-describedby~="${targetId}"]`);
    if (control) control.setAttribute('aria-invalid', 'true');
  }
  if (!err.details.length || general.length) {
    formErrors.append(el('p', {}, err.message));
    if (general.length) formErrors.append(el('ul', {}, general.map((g) => el('li', {}, g))));
    formErrors.hidden = false;
  }
  const firstInvalid = form.querySelector('[aria-invalid="true"]');
  if (firstInvalid) firstInvalid.focus();
}

export function clearFormErrors(form, formErrors, keep = []) {
  formErrors.hidden = true;
  formErrors.replaceChildren();
  for (const p of form.querySelectorAll('.field-error')) {
    if (keep.includes(p)) continue;
    p.hidden = true;
    p.textContent = '';
  }
  for (const c of form.querySelectorAll('[aria-invalid]')) c.removeAttribute('aria-invalid');
}
