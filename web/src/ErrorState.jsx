// Shown when api/info failed: what happened, and a way to try again.
import { loadInfo, useStore } from './store.js';

export function ErrorState() {
  const error = useStore((s) => s.infoError);
  const loading = useStore((s) => s.loading);
  return (
    <div role="alert" class="mb-6 flex flex-col gap-3 rounded-xl border border-red-200 bg-red-50 p-4 sm:flex-row sm:items-center sm:justify-between dark:border-red-900/60 dark:bg-red-950/40">
      <div>
        <p class="font-semibold text-red-800 dark:text-red-300">Device not reachable</p>
        <p class="mt-1 text-sm text-red-700 dark:text-red-400">{error}</p>
      </div>
      <button
        type="button"
        onClick={loadInfo}
        disabled={loading}
        class="shrink-0 rounded-lg bg-red-600 px-4 py-2 text-sm font-medium text-white shadow-sm hover:bg-red-700 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-red-600 disabled:opacity-60"
      >
        {loading ? 'Retrying…' : 'Retry'}
      </button>
    </div>
  );
}
