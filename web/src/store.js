// The one store for device state. The WebSocket (live.js) and the session
// (session.js) feed it; components read it with useStore(select), which always
// uses the selector of the current render.
import { useEffect, useRef, useState } from 'preact/hooks';

export const HISTORY_MS = 10 * 60 * 1000;  // numeric values kept for charts
const HISTORY_MAX = 1200;                 // points per set, whatever the push rate

const empty = {
  sets: {},     // NAME -> values, as the device last pushed them
  at: {},       // NAME -> performance.now() when they arrived (uptime ticks from it)
  history: {},  // NAME -> [[Date.now(), values], ...] for the last HISTORY_MS
  schema: null, // NAME -> { name, title, persist, corrupt?, fields: [...] } from api/sets
  firmware: null, // api/ota: the running version, the slots, a cut upload (ota.js)
};

let state = {
  auth: null,         // api/auth: { setup, user, level }; null until the device answered
  conn: 'connecting', // 'connecting' | 'online' | 'offline' (the WebSocket, or the first api/auth)
  retryAt: 0,         // Date.now() of the next reconnection attempt while offline
  update: null,       // this tab's firmware update (ota.js); kept when a restart ends the session
  ...empty,
};
const listeners = new Set();

export function getState() {
  return state;
}

export function setState(patch) {
  state = { ...state, ...patch };
  for (const listener of listeners) listener(state);
}

// Forget everything the last user could see (logout, session ended).
export function clearDeviceState() {
  setState(empty);
}

// The device's samples of a set's charted fields ({ age_ms: [...], values: { NAME: [...] } },
// oldest first, in its first message: core/dash/API.md) as rows of the history at now.
function deviceRows(history, now) {
  const ages = Array.isArray(history?.age_ms) ? history.age_ms : [];
  const columns = Object.entries(history?.values || {}).filter(([, col]) => Array.isArray(col));
  return ages.map((age, i) => [now - age, Object.fromEntries(columns.map(([field, col]) => [field, col[i]]))]);
}

// A set's new values, from a push or a write's answer; history: the device's samples, which
// take the place of what this page kept from the same minutes (a reconnect fills its gap).
export function applySet(name, values, history) {
  const now = Date.now();
  let old = state.history[name] || [];
  const rows = deviceRows(history, now);
  if (rows.length) old = [...old.filter(([t]) => t < rows[0][0]), ...rows];
  let from = 0;
  while (from < old.length && (old[from][0] < now - HISTORY_MS || old.length - from >= HISTORY_MAX)) from++;
  setState({
    sets: { ...state.sets, [name]: values },
    at: { ...state.at, [name]: performance.now() },
    history: { ...state.history, [name]: [...old.slice(from), [now, values]] },
  });
}

// select(state) in the component; it re-renders when that value changes.
export function useStore(select) {
  const selectRef = useRef(select);
  selectRef.current = select;
  const value = select(state);
  const last = useRef(value);
  last.current = value;
  const [, rerender] = useState(0);
  useEffect(() => {
    const update = (s) => {
      if (!Object.is(selectRef.current(s), last.current)) rerender((n) => n + 1);
    };
    listeners.add(update);
    update(state);  // a change between render and subscribe
    return () => listeners.delete(update);
  }, []);
  return value;
}
