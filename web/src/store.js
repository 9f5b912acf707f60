// The one store for device state: components read it with useStore(select) and
// change it only through the actions below (later also fed by the WebSocket).
import { useEffect, useState } from 'preact/hooks';
import { fetchJson } from './api.js';

let state = {
  info: null,        // api/info: { name, version, build, uptime }
  infoAt: 0,         // performance.now() when info arrived, to advance uptime locally
  infoError: null,   // text for the user when api/info failed
  loading: false,
};
const listeners = new Set();

export function getState() {
  return state;
}

function setState(patch) {
  state = { ...state, ...patch };
  for (const listener of listeners) listener(state);
}

// Re-render the calling component when select(state) changes.
export function useStore(select) {
  const [value, setValue] = useState(() => select(state));
  useEffect(() => {
    const update = (s) => setValue(() => select(s));
    listeners.add(update);
    update(state);  // catch a change between render and subscribe
    return () => listeners.delete(update);
  }, []);
  return value;
}

export async function loadInfo() {
  setState({ loading: true, infoError: null });
  try {
    const info = await fetchJson('api/info');
    setState({ info, infoAt: performance.now(), loading: false });
  } catch (err) {
    setState({ infoError: err.message, loading: false });
  }
}
