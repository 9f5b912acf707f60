// Who is logged in: api/auth at start (retried with back-off while the device
// does not answer), first setup, login and logout. Logged in means live: the
// WebSocket runs and the schema is loaded.
import { get, onUnauthorized, post } from './api.js';
import { backoff, onSessionEnded, startLive, stopLive } from './live.js';
import { clearDeviceState, getState, setState } from './store.js';

function enter(auth) {
  setState({ auth, conn: 'connecting', retryAt: 0 });
  if (!auth.user) return;
  startLive();
  loadSchema();
}

function leave(auth) {
  stopLive();
  clearDeviceState();
  setState({ auth: { setup: false, ...auth, user: null, level: null } });
}

onUnauthorized(() => getState().auth?.user && leave(getState().auth));
onSessionEnded(leave);

export async function boot() {
  for (let attempt = 0; ; attempt++) {
    try {
      enter(await get('api/auth'));
      return;
    } catch {
      const delay = backoff(attempt);
      setState({ conn: 'offline', retryAt: Date.now() + delay });
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

export async function loadSchema() {
  try {
    const { sets } = await get('api/sets');
    setState({ schema: Object.fromEntries(sets.map((s) => [s.name, s])) });
  } catch {
    // a 401 already went to the login page; otherwise the pages wait for the next login
  }
}

export async function setup(password) {
  enter({ setup: false, ...(await post('api/auth/setup', { password })) });
}

export async function login(user, password) {
  enter({ setup: false, ...(await post('api/auth/login', { user, password })) });
}

export async function logout() {
  stopLive();
  try {
    await post('api/auth/logout');
  } finally {
    leave(getState().auth);
  }
}
