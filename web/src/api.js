// The device's REST API: relative URLs ('api/sets', never '/api/sets') so the
// dashboard works behind a reverse proxy under any path prefix; JSON both ways,
// a timeout on every request, and errors carrying the device's own words.

export const TIMEOUT_MS = 8000;

// An answer the user can act on: the device's "error" text, its per-field
// reasons ("fields"), the HTTP status (0: no answer) and Retry-After seconds.
export class ApiError extends Error {
  constructor(message, { status = 0, fields = null, retryAfter = 0 } = {}) {
    super(message);
    this.status = status;
    this.fields = fields;
    this.retryAfter = retryAfter;
  }
}

// Called on a 401 from anything but api/auth*: the session ended (expiry, logout
// elsewhere, device restart). The session module sends the user to the login page.
let unauthorized = () => {};
export function onUnauthorized(fn) {
  unauthorized = fn;
}

export async function request(method, path, body) {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), TIMEOUT_MS);
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  // The device takes a state change only with a JSON body or this header (a
  // cross-site form can send neither): a DELETE has no body
  if (method !== 'GET') headers['X-Requested-With'] = 'meerkat';
  let res, text;
  try {
    res = await fetch(path, {
      method, headers, cache: 'no-store', credentials: 'same-origin', signal: abort.signal,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    text = await res.text();
  } catch {
    throw new ApiError(abort.signal.aborted ? `The device did not answer in ${TIMEOUT_MS / 1000} s` : 'No answer from the device');
  } finally {
    clearTimeout(timer);
  }
  let data = null;
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    if (res.ok) throw new ApiError(`${path}: the device's answer is not JSON`, { status: res.status });
  }
  if (res.ok) return data;
  if (res.status === 401 && !path.startsWith('api/auth')) unauthorized();
  const message = data?.error || `${path} answered ${res.status} ${res.statusText}`.trim();
  throw new ApiError(message, { status: res.status, fields: data?.fields || null, retryAfter: Number(res.headers.get('Retry-After')) || 0 });
}

export const get = (path) => request('GET', path);
export const post = (path, body = {}) => request('POST', path, body);
export const del = (path) => request('DELETE', path);

// The device's WebSocket, beside the page: ws:// or wss:// as the page is served.
export function wsUrl(path = 'api/ws') {
  const url = new URL(path, location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.href;
}
