// A task card: status, a progress bar that follows the task's event
// stream live, its results when they arrive, and cancel.

import { api, terminal } from './api.js';
import { watchTask } from './events.js';
import { h, label, when, toast } from './dom.js';
import { assetFigure } from './media.js';

// taskCard shows task and, unless it has ended, follows it live.
// onEnd(task) is called once it ends.
export function taskCard(task, { onEnd, signal } = {}) {
  const status = h('span', { class: 'badge status' });
  const bar = h('progress', { max: 100, value: 0, 'aria-label': 'Progress' });
  const pct = h('span', { class: 'pct' });
  const step = h('span', { class: 'meta step' });
  const error = h('p', { class: 'error task-error', role: 'alert', hidden: true });
  const assets = h('div', { class: 'assets' });
  const notes = h('ul', { class: 'notes' });
  const cancel = h('button', { type: 'button', class: 'cancel' }, 'Cancel');
  const card = h('article', { class: 'card task', dataset: { taskId: task.id } },
    h('header', {}, h('h3', {}, label(task.type)), status, h('span', { class: 'spacer' }), cancel),
    h('div', { class: 'progress' }, bar, pct), step, error, assets, notes,
    h('p', { class: 'meta' }, `Task ${task.id} · ${task.cost} credits · ${when(task.created_at)}`));
  const shown = new Set();

  function showAsset(a) {
    if (shown.has(a.id)) return;
    shown.add(a.id);
    assets.append(assetFigure(a));
  }

  function show(t) {
    if (t.status) {
      status.textContent = t.status;
      status.className = `badge status ${t.status}`;
      card.dataset.status = t.status;
      cancel.hidden = terminal(t.status);
    }
    if (t.progress !== undefined) {
      bar.value = t.progress;
      pct.textContent = `${t.progress}%`;
      card.dataset.progress = String(t.progress);
    }
    if (t.step !== undefined) step.textContent = t.step ? `Step: ${t.step}` : '';
    if (t.error) {
      error.textContent = `${t.error.message} (${t.error.code})`;
      error.hidden = false;
    }
    for (const a of t.assets || []) showAsset(a);
    if (t.notes) notes.replaceChildren(...t.notes.map((n) => h('li', {}, n)));
  }

  cancel.addEventListener('click', async () => {
    cancel.disabled = true;
    try {
      show(await api(`/tasks/${encodeURIComponent(task.id)}/cancel`, { method: 'POST' }));
    } catch (err) {
      toast(`Cancel: ${err.message}`);
    } finally {
      cancel.disabled = false;
    }
  });

  show(task);
  if (terminal(task.status)) {
    onEnd?.(task);
  } else {
    watchTask(task.id, (ev) => {
      if (ev.event === 'asset') showAsset(ev.data);
      else show(ev.data);
    }, signal).then((final) => {
      show(final);
      onEnd?.(final);
    }, (err) => {
      if (err.name !== 'AbortError') {
        error.textContent = `Lost track of the task: ${err.message}`;
        error.hidden = false;
      }
    });
  }
  return card;
}
