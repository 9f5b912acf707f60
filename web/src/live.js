// The WebSocket to the device (api/ws): it feeds the store with each set's
// values, carries writes answered by id, and reconnects with jittered back-off
// (0.5 s doubling to 10 s). Before reconnecting it asks api/auth, so a device
// that restarted (and forgot the session) sends the user to the login page.
import { ApiError, TIMEOUT_MS, get, wsUrl } from './api.js';
import { applySet, getState, setState } from './store.js';

const BACKOFF_MIN_MS = 500, BACKOFF_MAX_MS = 10000;
const pending = new Map();  // write id -> { resolve, reject, timer }
let ws = null, timer = 0, attempt = 0, nextId = 1, running = false;
let sessionEnded = () => {};

// fn(auth): called when the device answers that this browser has no session any more
export function onSessionEnded(fn) {
  sessionEnded = fn;
}

export function backoff(n) {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** n) * (0.5 + Math.random() / 2);
}

export function startLive() {
  if (running) return;
  running = true;
  attempt = 0;
  open();
}

export function stopLive() {
  running = false;
  clearTimeout(timer);
  const sock = ws;
  ws = null;
  sock?.close();
  failPending('Disconnected from the device');
  setState({ conn: 'connecting', retryAt: 0 });
}

// Try now instead of waiting for the back-off (the banner's button, the browser going online).
export function retryNow() {
  if (!running || ws) return;
  clearTimeout(timer);
  probe();
}

function open() {
  const sock = new WebSocket(wsUrl());
  ws = sock;
  sock.onopen = () => {
    attempt = 0;
    setState({ conn: 'online', retryAt: 0 });
  };
  sock.onmessage = (e) => receive(e.data);
  sock.onclose = () => {
    if (ws !== sock) return;  // closed on purpose
    ws = null;
    failPending('The connection to the device was lost');
    if (running) schedule();
  };
}

function schedule() {
  const delay = backoff(attempt++);
  setState({ conn: 'offline', retryAt: Date.now() + delay });
  timer = setTimeout(probe, delay);
}

async function probe() {
  let auth;
  try {
    auth = await get('api/auth');
  } catch {
    if (running) schedule();
    return;
  }
  if (!running || ws) return;
  if (!auth.user) {
    stopLive();
    sessionEnded(auth);
  } else {
    open();
  }
}

function receive(text) {
  let msg;
  try {
    msg = JSON.parse(text);
  } catch {
    return;  // not ours to show: the device sends JSON only
  }
  const waiting = msg.id != null && pending.get(msg.id);
  if (waiting) {
    pending.delete(msg.id);
    clearTimeout(waiting.timer);
    if (msg.error) waiting.reject(new ApiError(msg.error, { fields: msg.fields || null }));
    else waiting.resolve(msg);
  } else if (typeof msg.set === 'string' && msg.values && typeof msg.values === 'object') {
    applySet(msg.set, msg.values, msg.history);
  }
}

function failPending(message) {
  for (const { reject, timer: t } of pending.values()) {
    clearTimeout(t);
    reject(new ApiError(message));
  }
  pending.clear();
}

// Write some fields of a set over the WebSocket; resolves on the device's ok,
// rejects with its error (and per-field reasons). The new values arrive as a push.
export function writeSet(set, values) {
  return new Promise((resolve, reject) => {
    if (!ws || ws.readyState !== WebSocket.OPEN) {
      reject(new ApiError(getState().conn === 'offline' ? 'The device is offline' : 'Not connected to the device yet'));
      return;
    }
    const id = nextId++;
    const t = setTimeout(() => {
      pending.delete(id);
      reject(new ApiError(`The device did not answer in ${TIMEOUT_MS / 1000} s`));
    }, TIMEOUT_MS);
    pending.set(id, { resolve, reject, timer: t });
    ws.send(JSON.stringify({ id, set, values }));
  });
}

addEventListener('online', retryNow);
