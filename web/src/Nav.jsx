// Page navigation: a sidebar on wide screens; on a phone the links wrap into
// rows, so every page stays on screen however many are registered.
export function Nav({ pages, current }) {
  return (
    <nav aria-label="Main" class="border-b border-slate-200 md:w-56 md:shrink-0 md:border-b-0 md:py-8 md:pl-6 dark:border-slate-800">
      <ul class="flex flex-wrap gap-1 px-4 py-2 md:flex-col md:flex-nowrap md:p-0">
        {pages.map(({ path, title, icon }) => {
          const active = path === current.path;
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
                {icon && (
                  <svg viewBox="0 0 24 24" class="size-4 shrink-0" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">
                    <path d={icon} />
                  </svg>
                )}
                {title}
              </a>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}
