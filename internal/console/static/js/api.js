// The public API, as the console calls it: bearer token from the session,
// JSON in and out, problem+json errors as ApiError.

const TOKEN_KEY = 'lepus.console.token';

export const session = {
  get token() { return localStorage.getItem(TOKEN_KEY) || ''; },
  set(token) { localStorage.setItem(TOKEN_KEY, token); },
  clear() { localStorage.removeItem(TOKEN_KEY); },
};

// ApiError is a refused request: status and the problem+json body
// ({title, status, detail, errors: [{location, message}]}).
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

function authHeaders(extra = {}) {
  const h = { ...extra };
  if (session.token) h.Authorization = `Bearer ${session.token}`;
  return h;
}

async function problemOf(res) {
  const text = await res.text();
  try {
    const p = JSON.parse(text);
    if (p && typeof p === 'object') return p;
  } catch { /* not JSON */ }
  return { title: res.statusText || `HTTP ${res.status}`, status: res.status, detail: text.slice(0, 300) };
}

// api calls path and returns its decoded JSON (null for 204). json is sent
// as the JSON body; body is sent as it is (FormData for uploads).
export async function api(path, { method = 'GET', json, body, headers = {}, signal } = {}) {
  const h = authHeaders(headers);
  if (json !== undefined) {
    h['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  }
  const res = await fetch(path, { method, headers: h, body, signal });
  if (!res.ok) {
    const problem = await problemOf(res);
    if (res.status === 401) window.dispatchEvent(new CustomEvent('lepus:unauthorized', { detail: problem }));
    throw new ApiError(res.status, problem);
  }
  if (res.status === 204) return null;
  return res.json();
}

// upload stores a file with POST /uploads and returns the upload
// ({id, url, kind, ...}); url is what a workflow field takes.
export function upload(file, signal) {
  const form = new FormData();
  form.append('file', file, file.name);
  return api('/uploads', { method: 'POST', body: form, signal });
}

export const terminal = (status) => status === 'completed' || status === 'failed' || status === 'canceled';

// contentPath is where an asset's bytes are, on this server. The asset's
// url is absolute (LEPUS_PUBLIC_URL), which may be another origin than the
// console's; the path works on any.
export const contentPath = (asset) => `/assets/${encodeURIComponent(asset.id)}/content`;

const blobs = new Map(); // content path → Promise of an object URL

// assetBlobURL fetches an asset with the token (an <img> cannot send one)
// and returns an object URL of its bytes, once per asset.
export function assetBlobURL(asset) {
  const path = contentPath(asset);
  if (!blobs.has(path)) {
    const p = fetch(path, { headers: authHeaders() }).then(async (res) => {
      if (!res.ok) throw new ApiError(res.status, await problemOf(res));
      return URL.createObjectURL(await res.blob());
    });
    p.catch(() => blobs.delete(path)); // a later view may retry
    blobs.set(path, p);
  }
  return blobs.get(path);
}

// forgetBlobs frees every object URL (on sign-out).
export function forgetBlobs() {
  for (const p of blobs.values()) p.then((u) => URL.revokeObjectURL(u), () => {});
  blobs.clear();
}
