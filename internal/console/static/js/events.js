// Task events: GET /tasks/{id}/events is server-sent events, but it takes
// the token only in the Authorization header, which EventSource cannot
// send. So the stream is read with fetch() and parsed here (the
// text/event-stream format of the HTML standard, the parts Lepus uses).

import { api, ApiError, session, terminal } from './api.js';

// parseEvents splits text into complete events; it returns them and the
// unfinished rest. An event is {event, data, id}.
export function parseEvents(text) {
  const events = [];
  const blocks = text.replace(/\r\n?/g, '\n').split('\n\n');
  const rest = blocks.pop(); // after the last blank line: not complete yet
  for (const block of blocks) {
    const ev = { event: 'message', data: [], id: '' };
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      let value = i < 0 ? '' : line.slice(i + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') ev.event = value;
      else if (field === 'data') ev.data.push(value);
      else if (field === 'id') ev.id = value;
    }
    if (ev.data.length) {
      const raw = ev.data.join('\n');
      try { ev.data = JSON.parse(raw); } catch { ev.data = raw; }
      events.push(ev);
    }
  }
  return { events, rest };
}

const pause = (ms, signal) => new Promise((resolve) => {
  const t = setTimeout(resolve, ms);
  signal?.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
});

// watchTask follows a task until it ends: onEvent gets each event
// ({event: 'status'|'progress'|'asset', data}). A dropped stream is
// reopened (the server ends streams when it shuts down). It resolves with
// the final task, read with GET /tasks/{id}.
export async function watchTask(id, onEvent, signal) {
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await fetch(`/tasks/${encodeURIComponent(id)}/events`, {
        headers: { Authorization: `Bearer ${session.token}`, Accept: 'text/event-stream' }, signal,
      });
      if (!res.ok) {
        let problem = { title: res.statusText, status: res.status };
        try { problem = await res.json(); } catch { /* not JSON */ }
        throw new ApiError(res.status, problem);
      }
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const { events, rest } = parseEvents(buf + value);
        buf = rest;
        for (const ev of events) {
          if (ev.event === 'status' && ev.data?.error?.code === 'not_found' && !ev.data.status) {
            throw new ApiError(404, { title: 'Not Found', status: 404, detail: 'task not found' });
          }
          onEvent(ev);
          if (ev.event === 'status' && terminal(ev.data.status)) attempt = -1;
        }
      }
      attempt = Math.min(attempt, 0);
    } catch (err) {
      if (signal?.aborted) throw err;
      if (err instanceof ApiError && err.status < 500) throw err;
    }
    const task = await api(`/tasks/${encodeURIComponent(id)}`, { signal });
    if (terminal(task.status)) return task;
    await pause(Math.min(500 * 2 ** Math.max(attempt, 0), 10000), signal);
    if (signal?.aborted) throw new DOMException('aborted', 'AbortError');
  }
}
