// Top bar: the brand, the device (name, version, and a dot that follows the
// WebSocket: green online, grey connecting, red offline), the user and logout.
import { Brand } from './Brand.jsx';
import { useAuth, useConnection, useSet } from './kit/hooks.js';
import { logout } from './session.js';

const dots = { online: 'bg-emerald-500', connecting: 'bg-slate-400 animate-pulse', offline: 'bg-red-500' };

export function Header() {
  const device = useSet('device');
  const conn = useConnection();
  const auth = useAuth();
  return (
    <header class="sticky top-0 z-10 border-b border-slate-200 bg-white/90 backdrop-blur dark:border-slate-800 dark:bg-slate-900/90">
      <div class="mx-auto flex h-14 max-w-[96rem] items-center justify-between gap-3 px-4 sm:px-6">
        <Brand />
        <div class="flex min-w-0 items-center gap-2 text-sm" data-testid="device">
          <span class={`size-2 shrink-0 rounded-full ${dots[conn]}`} role="img" aria-label={`Device ${conn}`} title={`Device ${conn}`} data-testid="conn" data-state={conn} />
          <span class="truncate font-medium" data-testid="device-name">{device?.name ?? '—'}</span>
          {device && (
            <span class="hidden shrink-0 rounded-full bg-slate-100 px-2 py-0.5 text-xs font-medium tabular-nums text-slate-600 sm:inline dark:bg-slate-800 dark:text-slate-300" data-testid="device-version">
              v{device.version}
            </span>
          )}
          <button type="button" onClick={logout} title={`Logged in as ${auth?.user} (${auth?.level})`}
            class="ml-1 flex shrink-0 items-center gap-1.5 rounded-lg px-2 py-1.5 font-medium text-slate-600 hover:bg-slate-100 hover:text-slate-900 focus-visible:outline-2 focus-visible:outline-amber-500 dark:text-slate-300 dark:hover:bg-slate-800">
            <svg viewBox="0 0 24 24" class="size-4" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">
              <path d="M15 3h4a2 2 0 012 2v14a2 2 0 01-2 2h-4M10 17l5-5-5-5M15 12H3" />
            </svg>
            <span class="sr-only sm:not-sr-only">Log out</span>
          </button>
        </div>
      </div>
    </header>
  );
}
