// Hooks that bind a page to the device: live values of a field set, its schema,
// who is logged in, one field to read and write, and a clock for ticking values.
import { useEffect, useState } from 'preact/hooks';
import { writeSet } from '../live.js';
import { useStore } from '../store.js';
import { fieldWritable } from './fields.js';

// The set's values as last pushed over the WebSocket ({} keys as in the C
// declaration); undefined until the first push.
export function useSet(name) {
  return useStore((s) => s.sets[name]);
}

// The set's schema from api/sets: { name, title, persist, corrupt?, fields: [{ name,
// type, title, min, max, unit, max_len, min_len, values, writable, read, write }] }.
export function useSchema(name) {
  return useStore((s) => s.schema?.[name]);
}

// Every set's schema, in the device's order; undefined until api/sets has answered.
export function useSchemas() {
  const schema = useStore((s) => s.schema);
  return schema ? Object.values(schema) : undefined;
}

// [[Date.now(), values], ...] of the last minutes, oldest first.
export function useHistory(name) {
  return useStore((s) => s.history[name]);
}

// performance.now() when the set's values arrived (to advance a counter locally).
export function useSetTime(name) {
  return useStore((s) => s.at[name]);
}

// { user, level } of the session.
export function useAuth() {
  return useStore((s) => s.auth);
}

// 'connecting' | 'online' | 'offline'
export function useConnection() {
  return useStore((s) => s.conn);
}

// One field of a set bound to the device: its schema entry (`field`), its value,
// whether this session may write it, and write(v), which sends it over the
// WebSocket, keeps the device's reason in `error` and resolves to whether the
// device took it. Without a set: all empty.
export function useField(set, name) {
  const schema = useSchema(set);
  const value = useSet(set)?.[name];
  const auth = useAuth();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const field = schema?.fields.find((f) => f.name === name);
  async function write(v) {
    setBusy(true);
    setError('');
    try {
      await writeSet(set, { [name]: v });
      return true;
    } catch (err) {
      setError(err.fields?.[name] || err.message);
      return false;
    } finally {
      setBusy(false);
    }
  }
  return { field, value, writable: fieldWritable(auth, field), busy, error, setError, write };
}

// The time, refreshed every `ms`.
export function useNow(ms = 1000, clock = () => performance.now()) {
  const [now, setNow] = useState(clock);
  useEffect(() => {
    const t = setInterval(() => setNow(clock()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}
