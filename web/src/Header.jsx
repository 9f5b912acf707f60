// Top bar: the brand, and which device this is (name and firmware version).
import { Brand } from './Brand.jsx';
import { useStore } from './store.js';

export function Header() {
  const info = useStore((s) => s.info);
  const failed = useStore((s) => s.infoError !== null);
  const dot = failed ? 'bg-red-500' : info ? 'bg-emerald-500' : 'bg-slate-400 animate-pulse';
  const status = failed ? 'not reachable' : info ? 'online' : 'connecting';

  return (
    <header class="sticky top-0 z-10 border-b border-slate-200 bg-white/90 backdrop-blur dark:border-slate-800 dark:bg-slate-900/90">
      <div class="mx-auto flex h-14 max-w-6xl items-center justify-between gap-4 px-4 sm:px-6">
        <Brand />
        <div class="flex min-w-0 items-center gap-2 text-sm" data-testid="device">
          <span class={`size-2 shrink-0 rounded-full ${dot}`} role="img" aria-label={`Device ${status}`} title={`Device ${status}`} />
          <span class="truncate font-medium" data-testid="device-name">{info?.name ?? '—'}</span>
          {info && (
            <span class="shrink-0 rounded-full bg-slate-100 px-2 py-0.5 text-xs font-medium tabular-nums text-slate-600 dark:bg-slate-800 dark:text-slate-300" data-testid="device-version">
              v{info.version}
            </span>
          )}
        </div>
      </div>
    </header>
  );
}
