// Page navigation: a sidebar on wide screens, a row of tabs on a phone.
import { routes } from './router.js';

const icons = {
  overview: 'M3 12l2-2 7-7 7 7 2 2M5 10v10h5v-6h4v6h5V10',
  settings: 'M4 6h10M18 6h2M4 12h4M12 12h8M4 18h12M20 18h0M14 4v4M8 10v4M16 16v4',
  firmware: 'M12 3v12m0 0l-4-4m4 4l4-4M4 17v2a2 2 0 002 2h12a2 2 0 002-2v-2',
};

export function Nav({ route }) {
  return (
    <nav aria-label="Main" class="border-b border-slate-200 md:w-56 md:shrink-0 md:border-b-0 md:py-8 md:pl-6 dark:border-slate-800">
      <ul class="flex gap-1 overflow-x-auto px-4 py-2 md:flex-col md:p-0">
        {routes.map(({ path, title }) => {
          const active = path === route;
          return (
            <li key={path}>
              <a
                href={`#/${path}`}
                aria-current={active ? 'page' : undefined}
                class={`flex items-center gap-2 rounded-lg px-3 py-2 text-sm font-medium whitespace-nowrap transition-colors focus-visible:outline-2 focus-visible:outline-amber-500 ${
                  active
                    ? 'bg-amber-100 text-amber-900 dark:bg-amber-500/15 dark:text-amber-300'
                    : 'text-slate-600 hover:bg-slate-100 hover:text-slate-900 dark:text-slate-400 dark:hover:bg-slate-800 dark:hover:text-slate-100'
                }`}
              >
                <svg viewBox="0 0 24 24" class="size-4 shrink-0" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">
                  <path d={icons[path]} />
                </svg>
                {title}
              </a>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}
