// The avatar journey: photos → four portraits → choose one → three
// reference angles, any of which can be regenerated.

import { api } from './api.js';
import { watchTask } from './events.js';
import { h, fill, label, when, toast, $ } from './dom.js';
import { buildForm } from './forms.js';
import { assetImage } from './media.js';

const settled = (s) => s === 'ready' || s === 'partial' || s === 'failed' || s === 'awaiting_confirmation';

// Avatars is the Avatars view. refreshCredits is called after each charge.
export class Avatars {
  constructor(doc, op, refreshCredits) {
    this.refreshCredits = refreshCredits;
    this.current = null; // the avatar shown
    this.watching = new Set(); // task ids followed for the avatar shown
    this.abort = new AbortController();
    this.op = op;
    this.newForm();
  }

  // newForm shows an empty form for a new avatar.
  newForm() {
    const form = buildForm(this.op.schema, {
      submitLabel: 'Make portraits',
      onSubmit: async (body) => {
        const a = await api(this.op.path, { method: 'POST', json: body });
        this.refreshCredits();
        this.newForm();
        this.open(a);
        this.list();
      },
    });
    fill($('#avatar-new'), h('h2', {}, 'New avatar'), h('p', { class: 'hint' }, this.op.summary), form.el);
  }

  async list() {
    const { avatars } = await api('/v2/avatars');
    fill($('#avatar-list'), avatars.length ? avatars.map((a) => h('li', {},
      h('button', { type: 'button', onclick: () => this.open(a) },
        a.chosen_portrait ? assetImage(a.chosen_portrait, 'Chosen portrait') : null,
        h('span', {}, h('strong', {}, a.id.slice(0, 14)), h('br'), h('small', { class: 'muted' }, when(a.created_at))),
        h('span', { class: `badge ${a.status}` }, a.status)))) : h('li', { class: 'muted' }, 'None yet.'));
    for (const img of $('#avatar-list').querySelectorAll('img')) img.classList.add('thumb');
  }

  // open shows avatar a and follows it until nothing is generating.
  open(a) {
    this.abort.abort();
    this.abort = new AbortController();
    this.watching = new Set();
    this.render(a);
    this.follow(a);
    $('#avatar-detail').scrollIntoView({ block: 'start' });
  }

  async refresh() {
    if (!this.current) return;
    const a = await api(`/v2/avatars/${encodeURIComponent(this.current.id)}`);
    if (a.id !== this.current?.id) return;
    this.render(a);
    this.follow(a);
    if (settled(a.status)) this.list();
  }

  // follow watches every task still making part of a: the portraits task,
  // the angle tasks. Each asset and each end re-reads the avatar.
  follow(a) {
    const ids = [];
    if (a.status === 'generating_portraits' && a.confirm_task_id) ids.push(a.confirm_task_id);
    for (const g of a.angles) if (g.status === 'generating' && g.task_id) ids.push(g.task_id);
    for (const id of new Set(ids)) {
      if (this.watching.has(id)) continue;
      this.watching.add(id);
      const signal = this.abort.signal;
      watchTask(id, (ev) => {
        if (ev.event === 'asset') this.refresh().catch(() => {});
        else if (ev.data.progress !== undefined && a.status === 'generating_portraits') this.progress(ev.data.progress);
      }, signal).then(() => this.refresh(), (err) => {
        if (err.name !== 'AbortError') toast(`Avatar: ${err.message}`);
      }).finally(() => this.watching.delete(id));
    }
  }

  progress(p) {
    const bar = $('#avatar-detail progress');
    if (bar) { bar.value = p; $('#avatar-detail .pct').textContent = `${p}%`; }
  }

  render(a) {
    this.current = a;
    const root = $('#avatar-detail');
    root.dataset.avatarId = a.id;
    root.dataset.status = a.status;
    const parts = [
      h('div', { class: 'row' }, h('h2', {}, 'Avatar'), h('span', { class: `badge avatar-status ${a.status}` }, a.status),
        h('span', { class: 'spacer' }), h('button', { type: 'button', class: 'link', onclick: () => this.remove(a) }, 'Delete')),
      h('p', { class: 'meta muted' }, `${a.id} · engine ${a.engine_used || a.engine}`),
    ];
    if (a.fallback_reason) parts.push(h('p', { class: 'hint' }, `Fell back to Kling: ${a.fallback_reason}`));
    if (a.error) parts.push(h('p', { class: 'error' }, a.error.message));
    if (a.status === 'generating_portraits') {
      parts.push(h('p', {}, 'Making four portraits…'), h('div', { class: 'progress' }, h('progress', { max: 100, value: 0 }), h('span', { class: 'pct' }, '0%')));
    }
    if (a.portraits.length) {
      const choosing = a.status === 'awaiting_confirmation';
      parts.push(h('h3', {}, choosing ? 'Choose a portrait' : 'Portraits'));
      parts.push(h('div', { class: 'portraits' }, a.portraits.map((p, i) => h('button', {
        type: 'button', class: `portrait${a.chosen_index === i ? ' chosen' : ''}`, dataset: { index: i },
        disabled: !choosing, 'aria-pressed': a.chosen_index === i ? 'true' : 'false',
        onclick: () => this.choose(a, i),
      }, assetImage(p, `Portrait ${i + 1}`), h('span', {}, a.chosen_index === i ? 'Chosen' : choosing ? `Choose portrait ${i + 1}` : `Portrait ${i + 1}`)))));
    }
    if (a.angles.length) {
      parts.push(h('h3', {}, 'Reference angles'));
      parts.push(h('div', { class: 'angles' }, a.angles.map((g) => h('div', { class: 'angle', dataset: { key: g.key, status: g.status, taskId: g.task_id } },
        g.asset ? assetImage(g.asset, label(g.key)) : h('img', { alt: '' }),
        h('div', { class: 'body' },
          h('strong', {}, label(g.key)),
          h('span', { class: `badge ${g.status}` }, g.status),
          g.error ? h('span', { class: 'error' }, g.error.message) : null,
          h('button', { type: 'button', class: 'regenerate', disabled: g.status === 'generating', onclick: () => this.regenerate(a, g.key) }, 'Regenerate'))))));
    }
    fill(root, parts);
  }

  async choose(a, i) {
    try {
      const next = await api(`/v2/avatars/${encodeURIComponent(a.id)}/confirm`, { method: 'POST', json: { portrait_index: i } });
      this.refreshCredits();
      this.render(next);
      this.follow(next);
    } catch (err) {
      toast(`Choose portrait: ${err.message}`);
    }
  }

  async regenerate(a, key) {
    try {
      const next = await api(`/v2/avatars/${encodeURIComponent(a.id)}/angles/${encodeURIComponent(key)}/regenerate`, { method: 'POST' });
      this.refreshCredits();
      this.render(next);
      this.follow(next);
    } catch (err) {
      toast(`Regenerate ${label(key)}: ${err.message}`);
    }
  }

  async remove(a) {
    if (!window.confirm('Delete this avatar?')) return;
    try {
      await api(`/v2/avatars/${encodeURIComponent(a.id)}`, { method: 'DELETE' });
      this.abort.abort();
      this.current = null;
      fill($('#avatar-detail'), h('p', { class: 'muted' }, 'Avatar deleted.'));
      this.list();
    } catch (err) {
      toast(`Delete: ${err.message}`);
    }
  }
}
