// The console's entry point: sign-in, the tabs, and the new-task, gallery
// and history views. Everything goes through the public API.

import { api, session, forgetBlobs, terminal } from './api.js';
import { h, fill, label, when, toast, $ } from './dom.js';
import { loadSpec, operations, buildForm } from './forms.js';
import { taskCard } from './tasks.js';
import { assetFigure } from './media.js';
import { Avatars } from './avatars.js';

const state = { doc: null, ops: [], avatars: null, health: null, opened: '' };

async function refreshCredits() {
  try {
    const { balance } = await api('/credits');
    const el = $('#credits');
    el.textContent = `${balance} credits`;
    el.dataset.balance = String(balance);
    el.hidden = false;
  } catch { /* shown on the next call */ }
}

// suggest offers your avatars for avatar_id and your videos for video ids.
async function suggest(name) {
  if (name === 'avatar_id') {
    const { avatars } = await api('/v2/avatars');
    return avatars.filter((a) => a.status === 'ready' || a.status === 'partial')
      .map((a) => ({ value: a.id, label: `${a.status} · ${when(a.created_at)}` }));
  }
  if (name === 'video_id' || name === 'video_asset_id') {
    const { tasks } = await api('/tasks?status=completed&limit=50');
    return tasks.flatMap((t) => t.assets.filter((a) => a.kind === 'video')
      .map((a) => ({ value: a.id, label: `${label(t.type)} · ${a.duration_s.toFixed(1)} s` })));
  }
  return [];
}

// ---- New task ----

function renderPicker() {
  const groups = new Map([['Kling', []], ['Enhance style', []], ['Avatars', []]]);
  for (const op of state.ops) {
    if (!groups.has(op.group)) groups.set(op.group, []);
    groups.get(op.group).push(op);
  }
  const root = fill($('#workflows'));
  for (const [group, ops] of groups) {
    if (!ops.length) continue;
    root.append(h('h3', {}, group));
    for (const op of ops) {
      const name = op.group === 'Avatars' ? 'New avatar →' : label(op.id);
      root.append(h('button', { type: 'button', dataset: { op: op.id }, title: op.summary, onclick: () => openWorkflow(op.id) }, name));
    }
  }
}

function openWorkflow(id) {
  const op = state.ops.find((o) => o.id === id) || state.ops[0];
  if (!op) return;
  if (op.group === 'Avatars') { location.hash = '#avatars'; return; }
  state.opened = op.id;
  for (const b of $('#workflows').querySelectorAll('button')) b.classList.toggle('active', b.dataset.op === op.id);
  const form = buildForm(op.schema, {
    submitLabel: `Start ${label(op.id).toLowerCase()}`,
    suggest,
    onSubmit: async (body) => {
      const task = await api(op.path, { method: 'POST', json: body, headers: { 'Idempotency-Key': crypto.randomUUID() } });
      refreshCredits();
      $('#live').prepend(taskCard(task, { onEnd: () => refreshCredits() }));
    },
  });
  fill($('#workflow-form'), h('h2', {}, label(op.id)), h('p', { class: 'hint' }, `${op.summary} · POST ${op.path}`), form.el);
  form.el.dataset.op = op.id;
}

// ---- Gallery ----

let galleryCursor = '';
async function loadGallery(more = false) {
  if (!more) { galleryCursor = ''; fill($('#gallery')); }
  const q = new URLSearchParams({ status: 'completed', limit: '24' });
  if (galleryCursor) q.set('cursor', galleryCursor);
  const { tasks, next_cursor: next } = await api(`/tasks?${q}`);
  const root = $('#gallery');
  for (const t of tasks) {
    for (const a of t.assets) {
      const fig = assetFigure(a);
      fig.querySelector('figcaption').prepend(h('span', {}, label(t.type)));
      root.append(fig);
    }
  }
  if (!root.children.length) root.append(h('p', { class: 'muted' }, 'No results yet: start a task.'));
  galleryCursor = next;
  $('#gallery-more').hidden = !next;
}

// ---- History ----

let historyCursor = '';
async function loadHistory(more = false) {
  if (!more) { historyCursor = ''; fill($('#history')); }
  const q = new URLSearchParams({ limit: '20' });
  const status = $('#history-status').value;
  if (status) q.set('status', status);
  if (historyCursor) q.set('cursor', historyCursor);
  const { tasks, next_cursor: next } = await api(`/tasks?${q}`);
  const root = $('#history');
  for (const t of tasks) {
    root.append(h('li', { dataset: { taskId: t.id } },
      h('div', {}, h('strong', {}, label(t.type)), ' ', h('span', { class: `badge ${t.status}` }, t.status),
        terminal(t.status) ? '' : ` ${t.progress}%`),
      h('div', { class: 'buttons' },
        h('button', { type: 'button', onclick: () => openTask(t.id) }, 'Open'),
        terminal(t.status) ? null : h('button', { type: 'button', onclick: () => cancelTask(t.id) }, 'Cancel')),
      h('div', { class: 'when' }, `${when(t.created_at)} · ${t.cost} credits · ${t.assets.length} results · ${t.id}`)));
  }
  if (!root.children.length) root.append(h('li', { class: 'muted' }, 'No tasks.'));
  historyCursor = next;
  $('#history-more').hidden = !next;
}

async function openTask(id) {
  try {
    const t = await api(`/tasks/${encodeURIComponent(id)}`);
    fill($('#history-detail'), taskCard(t, { onEnd: () => refreshCredits() }));
    $('#history-detail').scrollIntoView({ block: 'start' });
  } catch (err) { toast(err.message); }
}

async function cancelTask(id) {
  try {
    await api(`/tasks/${encodeURIComponent(id)}/cancel`, { method: 'POST' });
    refreshCredits();
    loadHistory();
  } catch (err) { toast(`Cancel: ${err.message}`); }
}

// ---- Tabs and sign-in ----

const views = ['new', 'avatars', 'gallery', 'history'];

async function route() {
  if (!session.token) { showSignIn(); return; }
  const tab = views.includes(location.hash.slice(1)) ? location.hash.slice(1) : 'new';
  $('#signin').hidden = true;
  $('#tabs').hidden = false;
  $('#signout').hidden = false;
  for (const v of views) $(`#view-${v}`).hidden = v !== tab;
  for (const a of $('#tabs').querySelectorAll('a')) a.classList.toggle('active', a.dataset.tab === tab);
  try {
    await ensureSpec();
    if (tab === 'new' && !state.opened) openWorkflow(state.ops[0]?.id);
    if (tab === 'avatars') await state.avatars.list();
    if (tab === 'gallery') await loadGallery();
    if (tab === 'history') await loadHistory();
  } catch (err) {
    toast(err.message);
  }
}

async function ensureSpec() {
  if (state.doc) return;
  state.doc = await loadSpec();
  state.ops = operations(state.doc);
  renderPicker();
  const avatarOp = state.ops.find((o) => o.id === 'avatar-confirm-portraits');
  if (avatarOp) state.avatars = new Avatars(state.doc, avatarOp, refreshCredits);
}

function showSignIn(message) {
  for (const v of views) $(`#view-${v}`).hidden = true;
  $('#tabs').hidden = true;
  $('#signout').hidden = true;
  $('#credits').hidden = true;
  $('#signin').hidden = false;
  const err = $('#signin-error');
  err.textContent = message || '';
  err.hidden = !message;
}

async function signIn(token) {
  session.set(token);
  try {
    await api('/credits');
  } catch (err) {
    session.clear();
    showSignIn(`That token was refused: ${err.message}`);
    return;
  }
  $('#token').value = '';
  refreshCredits();
  route();
}

function signOut(message) {
  session.clear();
  forgetBlobs();
  state.opened = '';
  fill($('#live'));
  showSignIn(message);
}

async function init() {
  try {
    state.health = await api('/healthz');
  } catch { state.health = {}; }
  const mode = $('#mode');
  if (state.health.mode) {
    mode.textContent = state.health.mode;
    mode.classList.add(state.health.mode);
    mode.hidden = false;
  }
  $('#dev').hidden = state.health.mode !== 'sandbox';

  $('#signin-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const token = $('#token').value.trim().replace(/^Bearer\s+/i, '');
    if (!token) { showSignIn('Paste a token first.'); return; }
    signIn(token);
  });
  $('#dev-signin').addEventListener('click', async () => {
    try {
      const res = await fetch('/console/dev-token', { method: 'POST' });
      if (res.status === 404) {
        throw new Error('it is off on this server: it is on only when the server listens on a loopback address, or with LEPUS_CONSOLE_DEV_SIGNIN=1');
      }
      if (!res.ok) {
        const p = await res.json().catch(() => ({}));
        throw new Error(p.detail || `HTTP ${res.status}`);
      }
      const { token } = await res.json();
      signIn(token);
    } catch (err) {
      showSignIn(`Developer sign-in failed: ${err.message}`);
    }
  });
  $('#signout').addEventListener('click', () => signOut());
  $('#gallery-more').addEventListener('click', () => loadGallery(true).catch((e) => toast(e.message)));
  $('#history-more').addEventListener('click', () => loadHistory(true).catch((e) => toast(e.message)));
  $('#history-status').addEventListener('change', () => loadHistory().catch((e) => toast(e.message)));
  window.addEventListener('hashchange', route);
  window.addEventListener('lepus:unauthorized', (ev) => signOut(`Signed out: ${ev.detail.detail || 'the token was refused'}.`));

  if (session.token) refreshCredits();
  route();
}

init();
