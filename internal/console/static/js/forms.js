// Forms built from the OpenAPI document: one field per property of an
// operation's request schema, with its description, default, enum and
// limits shown. A property named *_url or *_urls is a file picker that
// uploads to POST /uploads and sends the upload's URL (a URL can be typed
// instead). Problems come back as problem+json; each error is shown next
// to the field its location names (body.face_image_url → face_image_url).

import { upload, ApiError } from './api.js';
import { h, label, bytes } from './dom.js';

let spec; // the OpenAPI document, loaded once

export async function loadSpec() {
  if (!spec) {
    const res = await fetch('/openapi.json');
    if (!res.ok) throw new Error(`could not load /openapi.json: HTTP ${res.status}`);
    spec = await res.json();
  }
  return spec;
}

// resolve follows a local $ref.
export function resolve(doc, schema) {
  while (schema && schema.$ref) {
    const path = schema.$ref.replace(/^#\//, '').split('/');
    schema = path.reduce((o, k) => o?.[k], doc);
  }
  return schema || {};
}

// operations lists the POST operations whose request is a workflow: every
// operation tagged Workflows, then avatar portraits. Each is {id, path,
// summary, group, schema}.
export function operations(doc) {
  const ops = [];
  for (const [path, item] of Object.entries(doc.paths || {})) {
    const op = item.post;
    if (!op) continue;
    const tags = op.tags || [];
    const isWorkflow = tags.includes('Workflows') || op.operationId === 'avatar-confirm-portraits';
    if (!isWorkflow) continue;
    const media = op.requestBody?.content?.['application/json'];
    if (!media) continue;
    const group = path.startsWith('/kling/') ? 'Kling' : path.startsWith('/enhance-style/') ? 'Enhance style'
      : path.startsWith('/v2/avatars') ? 'Avatars' : (tags[0] || 'Other');
    ops.push({ id: op.operationId, path, summary: op.summary || '', group, schema: resolve(doc, media.schema) });
  }
  return ops;
}

const typeOf = (prop) => (Array.isArray(prop.type) ? prop.type.find((t) => t !== 'null') : prop.type);

// kindOf decides how a property is edited.
export function kindOf(name, prop) {
  const t = typeOf(prop);
  if (t === 'array') {
    if (/_urls$/.test(name)) return 'files';
    const it = typeOf(prop.items || {});
    if (prop.items?.enum) return 'choices';
    return it === 'integer' || it === 'number' ? 'numbers' : 'strings';
  }
  if (t === 'boolean') return 'bool';
  if (t === 'integer' || t === 'number') return 'number';
  if (prop.enum) return 'enum';
  if (/_url$/.test(name)) return 'file';
  if (/prompt|description|text/.test(name)) return 'text';
  return 'string';
}

// accept is what a file picker offers, from the field's name.
function accept(name) {
  if (/audio/.test(name)) return 'audio/mpeg,audio/wav,audio/x-wav,audio/mp4,audio/x-m4a,audio/aac,.mp3,.wav,.m4a,.aac';
  if (/video/.test(name)) return 'video/mp4,video/quicktime,.mp4,.mov';
  return 'image/jpeg,image/png,image/webp';
}

function hints(name, prop, kind) {
  const parts = [];
  if (prop.description) parts.push(prop.description);
  const dflt = Array.isArray(prop.default) ? prop.default.join(', ') : prop.default;
  if (dflt !== undefined && dflt !== '') parts.push(`Default: ${dflt}.`);
  if (kind === 'number' && (prop.minimum !== undefined || prop.maximum !== undefined)) {
    parts.push(`From ${prop.minimum ?? '−∞'} to ${prop.maximum ?? '∞'}.`);
  }
  if ((kind === 'files' || kind === 'strings' || kind === 'numbers') && (prop.minItems || prop.maxItems)) {
    parts.push(`${prop.minItems || 0}–${prop.maxItems ?? '∞'} items.`);
  }
  if ((kind === 'text' || kind === 'string') && prop.maxLength) parts.push(`Up to ${prop.maxLength} characters.`);
  if (kind === 'strings' || kind === 'numbers') parts.push('Separate with commas.');
  return parts.join(' ');
}

// buildForm returns {el, collect, showProblem, clearErrors, busy} for a
// request schema. suggest(name) may return [{value, label}] for a text
// field (your avatars, your videos).
export function buildForm(schema, { submitLabel = 'Submit', onSubmit, suggest } = {}) {
  const required = new Set(schema.required || []);
  const fields = new Map(); // name → {el, kind, prop, get(), error}
  const formError = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, submitLabel);
  const form = h('form', { novalidate: true, class: 'schema-form' });

  // Required fields first, in the schema's order, then the others.
  const props = Object.entries(schema.properties || {});
  const rank = (name) => (required.has(name) ? schema.required.indexOf(name) : schema.required?.length || 0);
  props.sort((a, b) => rank(a[0]) - rank(b[0]));
  for (const [name, prop] of props) {
    if (prop.readOnly || name === '$schema') continue;
    const kind = kindOf(name, prop);
    const id = `f-${name}`;
    const error = h('p', { class: 'error', role: 'alert', id: `${id}-error`, hidden: true });
    const field = { kind, prop, error, uploads: [], pending: 0 };
    let control;

    switch (kind) {
      case 'enum': {
        const sel = h('select', { id, name, 'aria-describedby': `${id}-error` });
        const hasEmpty = prop.enum.includes('');
        if (!hasEmpty && prop.default === undefined) sel.append(h('option', { value: '' }, required.has(name) ? 'Choose…' : '— not set —'));
        for (const v of prop.enum) sel.append(h('option', { value: v }, v === '' ? '— none —' : v));
        sel.value = prop.default ?? '';
        field.get = () => sel.value || undefined;
        control = sel;
        break;
      }
      case 'bool': {
        const cb = h('input', { type: 'checkbox', id, name, checked: prop.default === true });
        field.get = () => (cb.checked !== (prop.default === true) ? cb.checked : undefined);
        control = cb;
        break;
      }
      case 'number': {
        const inp = h('input', { type: 'number', id, name, inputmode: 'decimal', min: prop.minimum, max: prop.maximum,
          step: typeOf(prop) === 'integer' ? 1 : 'any', placeholder: prop.default !== undefined ? String(prop.default) : '' });
        field.get = () => (inp.value.trim() === '' ? undefined : Number(inp.value));
        control = inp;
        break;
      }
      case 'text': {
        const ta = h('textarea', { id, name, rows: 3, maxlength: prop.maxLength });
        field.get = () => ta.value.trim() || undefined;
        control = ta;
        break;
      }
      case 'strings':
      case 'numbers': {
        const inp = h('input', { type: 'text', id, name });
        field.get = () => {
          const items = inp.value.split(',').map((s) => s.trim()).filter(Boolean);
          if (!items.length) return undefined;
          return kind === 'numbers' ? items.map(Number) : items;
        };
        control = inp;
        break;
      }
      case 'choices': {
        // An array of enum values: one checkbox each, the default ticked.
        const boxes = prop.items.enum.map((v) => h('input', { type: 'checkbox', name, value: v,
          checked: (prop.default || []).includes(v) }));
        field.get = () => {
          const picked = boxes.filter((b) => b.checked).map((b) => b.value);
          const same = picked.join() === (prop.default || []).join();
          return same ? undefined : picked;
        };
        control = h('div', { class: 'row', id }, boxes.map((b) => h('label', { class: 'inline' }, b, b.value)));
        break;
      }
      case 'file':
      case 'files':
        control = filePicker(name, prop, field, id);
        break;
      default: {
        const inp = h('input', { type: 'text', id, name, maxlength: prop.maxLength, autocomplete: 'off' });
        if (suggest) {
          const list = h('datalist', { id: `${id}-list` });
          inp.setAttribute('list', list.id);
          Promise.resolve(suggest(name)).then((opts) => {
            for (const o of opts || []) list.append(h('option', { value: o.value }, o.label));
          }, () => {});
          control = h('div', {}, inp, list);
        } else {
          control = inp;
        }
        field.get = () => inp.value.trim() || undefined;
      }
    }

    const lab = kind === 'bool'
      ? h('label', { class: 'inline', for: id }, control, label(name), h('code', {}, name))
      : h('label', { for: id }, label(name), required.has(name) ? h('span', { class: 'req', title: 'required' }, ' *') : null, h('code', {}, name));
    field.el = h('div', { class: 'field', dataset: { field: name, kind } }, lab,
      h('p', { class: 'hint' }, hints(name, prop, kind)), kind === 'bool' ? null : control, error);
    fields.set(name, field);
    form.append(field.el);
  }
  form.append(formError, h('div', { class: 'actions' }, submit));

  function clearErrors() {
    formError.hidden = true;
    for (const f of fields.values()) {
      f.error.hidden = true;
      f.error.textContent = '';
      f.el.classList.remove('invalid');
    }
  }

  function collect() {
    const body = {};
    for (const [name, f] of fields) {
      if (f.pending) throw new Error(`${label(name)}: wait for the upload to finish`);
      const v = f.get();
      if (v !== undefined) body[name] = v;
    }
    return body;
  }

  // showProblem puts each error of a problem+json next to its field; what
  // names no field goes above the submit button.
  function showProblem(err) {
    clearErrors();
    const p = err instanceof ApiError ? err.problem : { detail: err.message };
    const general = [];
    let first;
    for (const e of p.errors || []) {
      let name = (e.location || '').replace(/^body\.?/, '').split(/[.[]/)[0];
      // A missing required property is reported on the whole body.
      if (!name) name = /required property (\S+)/.exec(e.message || '')?.[1] || '';
      const f = fields.get(name);
      if (!f) { general.push(e.message + (e.location ? ` (${e.location})` : '')); continue; }
      f.error.textContent = f.error.textContent ? `${f.error.textContent}; ${e.message}` : e.message;
      f.error.hidden = false;
      f.el.classList.add('invalid');
      first ||= f;
    }
    if (!p.errors?.length || general.length) {
      const head = [p.title, p.detail].filter(Boolean);
      if (general.length && p.detail === 'validation failed') head.pop();
      formError.textContent = [...head, ...general].join(': ');
      formError.hidden = false;
    }
    (first?.el.querySelector('input, select, textarea') || formError).scrollIntoView?.({ block: 'center' });
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors();
    let body;
    try { body = collect(); } catch (err) { showProblem(err); return; }
    submit.disabled = true;
    try {
      await onSubmit(body);
    } catch (err) {
      showProblem(err);
    } finally {
      submit.disabled = false;
    }
  });

  return { el: form, collect, showProblem, clearErrors, fields };
}

// filePicker is an upload field: pick files (uploaded at once, previewed)
// or type a URL.
function filePicker(name, prop, field, id) {
  const multiple = field.kind === 'files';
  const input = h('input', { type: 'file', id, name, accept: accept(name), multiple });
  const url = h('input', { type: 'url', name: `${name}-url`, placeholder: multiple ? 'or URLs, comma-separated' : 'or a URL',
    'aria-label': `${label(name)} URL` });
  const previews = h('div', { class: 'previews' });
  const max = prop.maxItems || 10;

  input.addEventListener('change', () => {
    const files = [...input.files];
    if (!multiple) { field.uploads = []; previews.replaceChildren(); }
    for (const file of files.slice(0, multiple ? max - field.uploads.length : 1)) addFile(file);
    input.value = '';
  });

  function addFile(file) {
    const local = URL.createObjectURL(file);
    const kind = file.type.split('/')[0];
    const media = kind === 'video' ? h('video', { src: local, muted: true, playsinline: true })
      : kind === 'audio' ? h('audio', { src: local, controls: true }) : h('img', { src: local, alt: file.name });
    const state = h('span', { class: 'state' }, 'Uploading…');
    const entry = { url: '' };
    const remove = h('button', { type: 'button', title: 'Remove', 'aria-label': `Remove ${file.name}` }, '×');
    const box = h('div', { class: 'preview', title: file.name }, media, state, remove);
    remove.addEventListener('click', () => {
      field.uploads = field.uploads.filter((u) => u !== entry);
      box.remove();
      URL.revokeObjectURL(local);
    });
    field.uploads.push(entry);
    previews.append(box);
    field.pending++;
    field.error.hidden = true;
    upload(file).then((up) => {
      entry.url = up.url;
      box.classList.add('ok');
      box.dataset.uploadId = up.id;
      state.textContent = `Uploaded ${bytes(up.bytes)}`;
    }, (err) => {
      box.classList.add('bad');
      state.textContent = 'Failed';
      field.uploads = field.uploads.filter((u) => u !== entry);
      const e = err instanceof ApiError ? (err.problem.errors?.[0]?.message || err.problem.detail || err.message) : err.message;
      field.error.textContent = `${file.name}: ${e}`;
      field.error.hidden = false;
    }).finally(() => { field.pending--; });
  }

  field.get = () => {
    const typed = url.value.split(',').map((s) => s.trim()).filter(Boolean);
    const urls = [...field.uploads.map((u) => u.url).filter(Boolean), ...typed];
    if (multiple) return urls.length ? urls : undefined;
    return urls[0];
  };
  return h('div', { class: 'uploader' }, h('div', { class: 'drop' }, input), url, previews);
}
