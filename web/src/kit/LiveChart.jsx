// A live line chart of one numeric field of a set over the last minutes, drawn
// as SVG from the store's history (no chart library); it scrolls every second.
import { useHistory, useNow } from './hooks.js';

const W = 300, H = 80;

export function LiveChart({ set, field, label, unit = '', minutes = 5, color = '#f59e0b', convert = (v) => v, digits = 1 }) {
  const history = useHistory(set) || [];
  const now = useNow(1000, Date.now);
  const from = now - minutes * 60000;
  const points = [];
  for (const [t, values] of history) {
    if (t >= from && typeof values[field] === 'number') points.push([t, convert(values[field])]);
  }
  const ys = points.map((p) => p[1]);
  let lo = Math.min(...ys), hi = Math.max(...ys);
  if (!(hi - lo > 1e-9)) lo -= 1, hi += 1;  // flat or empty: a band around the value
  const pad = (hi - lo) * 0.1;
  lo -= pad, hi += pad;
  const xy = ([t, v]) => `${(((t - from) / (now - from)) * W).toFixed(1)},${(H - ((v - lo) / (hi - lo)) * H).toFixed(1)}`;
  const line = points.length ? `M${points.map(xy).join('L')}` : '';
  const area = points.length > 1 ? `${line}L${xy([points[points.length - 1][0], lo])}L${xy([points[0][0], lo])}Z` : '';
  const latest = ys.length ? ys[ys.length - 1].toFixed(digits) : undefined;
  const fmt = (v) => (ys.length ? v.toFixed(digits) : '–');

  return (
    <figure class="min-w-0" data-testid={`chart-${field}`}>
      <figcaption class="flex items-baseline justify-between gap-2">
        <span class="text-xs font-medium tracking-wide text-slate-500 uppercase dark:text-slate-400">{label}</span>
        <span class="text-lg font-semibold tabular-nums" data-testid={`value-${field}`}>
          {latest ?? '–'}
          {unit && <span class="ml-1 text-sm font-medium text-slate-500 dark:text-slate-400">{unit}</span>}
        </span>
      </figcaption>
      <div class="mt-2 flex gap-2">
        <svg viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" class="h-24 min-w-0 flex-1 overflow-visible rounded bg-slate-50 dark:bg-slate-800/50"
          role="img" aria-label={`${label} over the last ${minutes} minutes${latest ? `, now ${latest} ${unit}` : ''}`}>
          {[0.25, 0.5, 0.75].map((f) => (
            <line key={f} x1="0" x2={W} y1={H * f} y2={H * f} class="stroke-slate-200 dark:stroke-slate-700" vector-effect="non-scaling-stroke" />
          ))}
          {area && <path d={area} fill={color} fill-opacity="0.12" />}
          {line && <path d={line} fill="none" stroke={color} stroke-width="2" stroke-linejoin="round" vector-effect="non-scaling-stroke" data-points={points.length} data-oldest={points[0][0]} />}
        </svg>
        <div class="flex flex-col justify-between text-right text-xs tabular-nums text-slate-500 dark:text-slate-400" aria-hidden="true">
          <span>{fmt(hi - pad)}</span>
          <span>{fmt(lo + pad)}</span>
        </div>
      </div>
      <div class="mt-1 flex justify-between text-xs text-slate-500 dark:text-slate-400" aria-hidden="true">
        <span>−{minutes} min</span>
        <span>now</span>
      </div>
    </figure>
  );
}
