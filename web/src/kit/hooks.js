// Hooks that bind a page to the device: live values of a field set, its schema,
// who is logged in, and a clock for values that tick between pushes.
import { useEffect, useState } from 'preact/hooks';
import { useStore } from '../store.js';

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

// Levels in order (core/dash/API.md): each may do what the ones before it may
const LEVELS = ['viewer', 'operator', 'admin'];

// May a user of this level write field f of a schema?
export function mayWrite(f, level) {
  return f.writable && LEVELS.indexOf(level) >= LEVELS.indexOf(f.write ?? 'admin');
}

// May the user change this field (or, without a field, anything in the set)?
export function canWrite(auth, schema, field) {
  if (!auth?.user || !schema) return false;
  const fields = field ? schema.fields.filter((f) => f.name === field) : schema.fields;
  return fields.some((f) => mayWrite(f, auth.level));
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
