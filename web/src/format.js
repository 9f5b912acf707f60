// Human-readable values for the pages.

// 42 -> "42 s", 3720 -> "1 h 2 min", 93600 -> "1 d 2 h": the two largest units.
export function formatUptime(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60), sec = s % 60;
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${m} min`;
  if (m > 0) return `${m} min ${sec} s`;
  return `${sec} s`;
}

// ISO date -> local date and time; an unparsable value is shown as it came.
export function formatDate(iso) {
  const date = new Date(iso);
  if (!iso || Number.isNaN(date.getTime())) return iso || '—';
  return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

// 1536 -> "1.5 KiB", 18600000000 -> "17.3 GiB". A 64-bit field beyond 2^53 - 1 arrives
// as a string of digits (core/dash/API.md): a double holds it closely enough to show.
export function formatBytes(value) {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(n >= 0)) return '—';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let v = n / 1024, i = 0;
  while (v >= 1024 && i < units.length - 1) v /= 1024, i++;
  return `${v.toFixed(v < 100 ? 1 : 0)} ${units[i]}`;
}
