// The device at a glance: name, firmware version, build time, uptime.
import { useEffect, useState } from 'preact/hooks';
import { Page } from '../Page.jsx';
import { useStore } from '../store.js';
import { formatDate, formatUptime } from '../format.js';

// Uptime as reported, advanced locally between fetches.
function useUptime(info, infoAt) {
  const [now, setNow] = useState(performance.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(performance.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return info ? info.uptime + (now - infoAt) / 1000 : 0;
}

function Stat({ label, value, pending }) {
  return (
    <div class="rounded-xl border border-slate-200 bg-white p-5 shadow-sm dark:border-slate-800 dark:bg-slate-900">
      <dt class="text-xs font-medium tracking-wide text-slate-500 uppercase dark:text-slate-400">{label}</dt>
      <dd class="mt-2 truncate text-lg font-semibold tabular-nums">
        {value ?? (pending ? <span class="block h-7 w-24 animate-pulse rounded bg-slate-200 dark:bg-slate-800" aria-label="Loading" /> : '—')}
      </dd>
    </div>
  );
}

export function Overview() {
  const info = useStore((s) => s.info);
  const infoAt = useStore((s) => s.infoAt);
  const pending = useStore((s) => s.infoError === null);
  const uptime = useUptime(info, infoAt);
  return (
    <Page title="Overview" intro="The device at a glance.">
      <dl class="grid gap-4 sm:grid-cols-2" data-testid="overview">
        <Stat label="Device name" value={info?.name} pending={pending} />
        <Stat label="Firmware version" value={info?.version} pending={pending} />
        <Stat label="Build time" value={info && <time datetime={info.build}>{formatDate(info.build)}</time>} pending={pending} />
        <Stat label="Uptime" value={info && formatUptime(uptime)} pending={pending} />
      </dl>
    </Page>
  );
}
