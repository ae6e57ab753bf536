// api.js - the page's only way to the gateway: the same /v1 REST API that
// applications use, authenticated by the session cookie, with the
// session's CSRF token on every request that changes something.

let csrf = null;

export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || 'http_' + status;
    this.field = e.field || null;
  }
}

export function setCsrf(token) { csrf = token; }

// Calls the API: method, path (with query), and a body (an object is sent
// as JSON; a string with its own content type as { raw, type }).
export async function api(method, path, body) {
  const headers = {};
  let payload;
  if (body && typeof body.raw === 'string') {
    payload = body.raw;
    headers['Content-Type'] = body.type;
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['Content-Type'] = 'application/json';
  }
  if (method !== 'GET' && method !== 'HEAD' && csrf) headers['X-CSRF-Token'] = csrf;
  const r = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  const text = await r.text();
  let data = null;
  if (text && (r.headers.get('Content-Type') || '').startsWith('application/json')) {
    try { data = JSON.parse(text); } catch { data = null; }
  } else if (text) {
    data = text;
  }
  if (!r.ok) {
    const err = new ApiError(r.status, data);
    if (r.status === 401 && path !== '/v1/session') window.dispatchEvent(new CustomEvent('sg-logout'));
    throw err;
  }
  return data;
}

// A query string from an object, leaving out empty values.
export function qs(o) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(o)) if (v !== undefined && v !== null && v !== '') p.set(k, v);
  const s = p.toString();
  return s ? '?' + s : '';
}
