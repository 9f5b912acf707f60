// The device's REST API: relative URLs ('api/sets', never '/api/sets') so the
// dashboard works behind a reverse proxy under any path prefix; JSON both ways,
// a timeout on every request, and errors carrying the device's own words.

export const TIMEOUT_MS = 8000;

// An answer the user can act on: the device's "error" text, its per-field
// reasons ("fields"), the HTTP status (0: no answer), Retry-After seconds and the
// whole answer (`body`: what else the device said, e.g. a 416's "received").
export class ApiError extends Error {
  constructor(message, { status = 0, fields = null, retryAfter = 0, body = null } = {}) {
    super(message);
    this.status = status;
    this.fields = fields;
    this.retryAfter = retryAfter;
    this.body = body;
  }
}

// Called on a 401 from anything but api/auth*: the session ended (expiry, logout
// elsewhere, device restart). The session module sends the user to the login page.
let unauthorized = () => {};
export function onUnauthorized(fn) {
  unauthorized = fn;
}

// The device's answer as data, or the ApiError that says why not.
function settle(path, status, statusText, text, retryAfter) {
  let data = null;
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    if (status >= 200 && status < 300) throw new ApiError(`${path}: the device's answer is not JSON`, { status });
  }
  if (status >= 200 && status < 300) return data;
  if (status === 401 && !path.startsWith('api/auth')) unauthorized();
  const message = data?.error || `${path} answered ${status} ${statusText}`.trim();
  throw new ApiError(message, { status, fields: data?.fields || null, retryAfter: Number(retryAfter) || 0, body: data });
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
  return settle(path, res.status, res.statusText, text, res.headers.get('Retry-After'));
}

// POST a file (a Blob) as the raw body, with upload progress, which fetch cannot
// report: onProgress(bytes sent) as it goes, onSent() once the last byte left.
// No overall timeout (an image takes as long as the link needs). Returns
// { promise, abort }; the promise settles as request()'s does, status 0 when the
// connection was cut (or aborted) before an answer.
export function upload(path, blob, { headers = {}, onProgress, onSent } = {}) {
  const xhr = new XMLHttpRequest();
  const promise = new Promise((resolve, reject) => {
    xhr.open('POST', path);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.setRequestHeader('X-Requested-With', 'meerkat');
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => onProgress?.(e.loaded);
    xhr.upload.onload = () => onSent?.();
    xhr.onload = () => {
      try {
        resolve(settle(path, xhr.status, xhr.statusText, xhr.responseText, xhr.getResponseHeader('Retry-After')));
      } catch (err) {
        reject(err);
      }
    };
    xhr.onerror = xhr.onabort = () => reject(new ApiError('The connection to the device was cut'));
    xhr.send(blob);
  });
  return { promise, abort: () => xhr.abort() };
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
