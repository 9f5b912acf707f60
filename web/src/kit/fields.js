// What a field's schema (api/sets) means for a page: who may write it, how its
// value reads to a person, and how typed text becomes the value to send. No Preact.
import { formatBytes, formatUptime } from '../format.js';

// The device's levels, lowest first; a name not in the list may write nothing.
export const LEVELS = ['nobody', 'viewer', 'operator', 'admin'];

export function levelAtLeast(have, need) {
  const h = LEVELS.indexOf(have), n = LEVELS.indexOf(need || 'admin');
  return h >= 0 && n >= 0 && h >= n;
}

// May the session ({ user, level }) write field f (one entry of schema.fields)?
export function fieldWritable(auth, f) {
  return !!(auth?.user && f?.writable && levelAtLeast(auth.level, f.write));
}

// May the user change this field (or, without a field, anything in the set)?
export function canWrite(auth, schema, field) {
  if (!schema) return false;
  return schema.fields.some((f) => (!field || f.name === field) && fieldWritable(auth, f));
}

const capitalize = (s) => (s ? s[0].toUpperCase() + s.slice(1) : s);

// [text, unit] of a value as a person reads it: bytes and seconds in larger units,
// at most two decimals, On/Off, an enum's value capitalized; '–' while unknown.
export function formatValue(f, v) {
  if (v === undefined || v === null || v === '') return ['–', ''];
  if (f?.type === 'bool') return [v ? 'On' : 'Off', ''];
  if (f?.type === 'enum') return [capitalize(String(v)), ''];
  if (f?.unit === 'B') {
    const [n, unit = ''] = formatBytes(v).split(' ');
    return [n, unit];
  }
  if (typeof v !== 'number') return [String(v), f?.unit || ''];
  if (f?.unit === 's' && v >= 60) return [formatUptime(v), ''];
  return [String(Number.isInteger(v) ? v : Number(v.toFixed(2))), f?.unit || ''];
}

// "1 to 3600" for a number with both limits, else ''.
export function boundsHint(f) {
  const number = f?.type === 'int' || f?.type === 'double';
  return number && f.min !== undefined && f.max !== undefined ? `${f.min} to ${f.max}` : '';
}

export const optionLabel = capitalize;

// String limits count bytes of UTF-8, as the device does (an accented letter takes 2, € 3).
function checkString(f, v) {
  const n = new TextEncoder().encode(v).length;
  if (f.max_len !== undefined && n > f.max_len) return new Error(`must be at most ${f.max_len} bytes of UTF-8 (this is ${n})`);
  if (f.min_len && n < f.min_len) return new Error(`must be ${f.min_len} to ${f.max_len} bytes of UTF-8`);
  return v;
}

// Typed text of field f as the JSON value to send, or an Error to show the user.
export function parseInput(f, v) {
  if (f.type === 'string') return checkString(f, v);
  if (f.type !== 'int' && f.type !== 'double') return v;
  const text = String(v).trim();
  // A 64-bit field beyond 2^53 goes as its digits: a Number would round it (API.md)
  if (f.bits === 64 && /^-?\d+$/.test(text) && !Number.isSafeInteger(Number(text))) return text;
  const n = text === '' ? NaN : Number(v);
  if (Number.isNaN(n)) return new Error('Enter a number');
  if (f.type === 'int' && !Number.isInteger(n)) return new Error('Enter a whole number');
  return n;
}
