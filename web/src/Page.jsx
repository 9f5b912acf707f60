// A page's heading and intro line, then its content.
export function Page({ title, intro, children }) {
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" class="text-2xl font-semibold tracking-tight">{title}</h1>
      {intro && <p class="mt-1 text-sm text-slate-500 dark:text-slate-400">{intro}</p>}
      <div class="mt-6">{children}</div>
    </section>
  );
}

// Where a later feature will live.
export function Placeholder({ children }) {
  return (
    <div class="rounded-xl border-2 border-dashed border-slate-300 px-6 py-12 text-center text-slate-500 dark:border-slate-700 dark:text-slate-400">
      {children}
    </div>
  );
}
