// Building blocks for pages: Page, Card, Stat, Button, Field, ErrorText. Plain
// Preact and Tailwind classes; import them from 'kit' (web/src/kit/index.js).

// A page's heading and intro line, then its content.
export function Page({ title, intro, children }) {
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" class="text-2xl font-semibold tracking-tight">{title}</h1>
      {intro && <p class="mt-1 text-sm text-slate-500 dark:text-slate-400">{intro}</p>}
      <div class="mt-6 space-y-6">{children}</div>
    </section>
  );
}

// A titled box; `actions` go to the right of the title.
export function Card({ title, actions, children, class: cls = '', ...rest }) {
  return (
    <section class={`rounded-xl border border-slate-200 bg-white p-5 shadow-sm dark:border-slate-800 dark:bg-slate-900 ${cls}`} {...rest}>
      {(title || actions) && (
        <div class="mb-4 flex items-center justify-between gap-3">
          {title && <h2 class="font-semibold">{title}</h2>}
          {actions}
        </div>
      )}
      {children}
    </section>
  );
}

// One labelled value; a grey bar while it is still unknown (undefined).
export function Stat({ label, value, unit, ...rest }) {
  return (
    <div class="rounded-xl border border-slate-200 bg-white p-5 shadow-sm dark:border-slate-800 dark:bg-slate-900" {...rest}>
      <dt class="text-xs font-medium tracking-wide text-slate-500 uppercase dark:text-slate-400">{label}</dt>
      <dd class="mt-2 truncate text-lg font-semibold tabular-nums">
        {value === undefined || value === null
          ? <span class="block h-7 w-24 animate-pulse rounded bg-slate-200 dark:bg-slate-800" aria-label="Loading" />
          : <>{value}{unit && <span class="ml-1 text-sm font-medium text-slate-500 dark:text-slate-400">{unit}</span>}</>}
      </dd>
    </div>
  );
}

const buttons = {
  primary: 'bg-amber-500 text-stone-900 hover:bg-amber-400',
  secondary: 'border border-slate-300 bg-white text-slate-700 hover:bg-slate-50 dark:border-slate-700 dark:bg-slate-800 dark:text-slate-200 dark:hover:bg-slate-700',
  danger: 'bg-red-600 text-white hover:bg-red-700',
};

export function Button({ variant = 'primary', type = 'button', class: cls = '', children, ...rest }) {
  return (
    <button
      type={type}
      class={`inline-flex items-center justify-center gap-2 rounded-lg px-4 py-2 text-sm font-medium shadow-sm focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-amber-500 disabled:cursor-not-allowed disabled:opacity-50 ${buttons[variant]} ${cls}`}
      {...rest}
    >
      {children}
    </button>
  );
}

// Text for a failure, in the form's or card's flow.
export function ErrorText({ children, ...rest }) {
  if (!children) return null;
  return <p role="alert" class="text-sm text-red-700 dark:text-red-400" {...rest}>{children}</p>;
}

// Labelled input with its hint and its error (from the device) below it.
export function Field({ id, label, hint, error, children }) {
  return (
    <div>
      <label for={id} class="block text-sm font-medium">{label}</label>
      <div class="mt-1">{children}</div>
      {error
        ? <p id={`${id}-error`} class="mt-1 text-sm text-red-700 dark:text-red-400" data-error-for={id}>{error}</p>
        : hint && <p id={`${id}-hint`} class="mt-1 text-xs text-slate-500 dark:text-slate-400">{hint}</p>}
    </div>
  );
}

// The classes of a text box, for an input the kit has no control for (a password).
export const inputClass = 'block w-full rounded-lg border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm focus:border-amber-500 focus:outline-2 focus:outline-amber-500/40 disabled:bg-slate-100 disabled:text-slate-500 aria-invalid:border-red-500 dark:border-slate-700 dark:bg-slate-900 dark:disabled:bg-slate-800';
