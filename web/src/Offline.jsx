// Shown while the device does not answer: it retries by itself (with back-off)
// and goes away when the device is back; "Retry now" skips the wait.
import { useConnection, useNow } from './kit/hooks.js';
import { retryNow } from './live.js';
import { useStore } from './store.js';

export function Offline() {
  const conn = useConnection();
  const retryAt = useStore((s) => s.retryAt);
  const now = useNow(500, Date.now);
  if (conn !== 'offline') return null;
  const wait = Math.max(0, Math.ceil((retryAt - now) / 1000));
  return (
    <div role="alert" data-testid="offline" class="mb-6 flex flex-col gap-3 rounded-xl border border-red-200 bg-red-50 p-4 sm:flex-row sm:items-center sm:justify-between dark:border-red-900/60 dark:bg-red-950/40">
      <div>
        <p class="font-semibold text-red-800 dark:text-red-300">Device offline</p>
        <p class="mt-1 text-sm text-red-700 dark:text-red-400">
          {wait > 0 ? `No connection to the device. Trying again in ${wait} s.` : 'No connection to the device. Trying again…'}
        </p>
      </div>
      <button type="button" onClick={retryNow}
        class="shrink-0 rounded-lg bg-red-600 px-4 py-2 text-sm font-medium text-white shadow-sm hover:bg-red-700 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-red-600">
        Retry now
      </button>
    </div>
  );
}
