// The Meerkat mark: a meerkat's face with its dark eye patches.
export function Brand() {
  return (
    <a href="#/overview" class="flex items-center gap-2.5 rounded-md focus-visible:outline-2 focus-visible:outline-offset-4 focus-visible:outline-amber-500">
      <svg viewBox="0 0 32 32" class="size-8 shrink-0" aria-hidden="true">
        <rect width="32" height="32" rx="8" class="fill-amber-500" />
        <path d="M16 6c-5.5 0-9 4.2-9 9.5 0 5 3.6 10.5 9 10.5s9-5.5 9-10.5C25 10.2 21.5 6 16 6z" class="fill-amber-100" />
        <ellipse cx="12" cy="15" rx="2.6" ry="3.2" class="fill-stone-800" />
        <ellipse cx="20" cy="15" rx="2.6" ry="3.2" class="fill-stone-800" />
        <circle cx="12.6" cy="14.3" r="0.9" class="fill-white" />
        <circle cx="20.6" cy="14.3" r="0.9" class="fill-white" />
        <path d="M14.4 21h3.2L16 23z" class="fill-stone-800" />
      </svg>
      <span class="text-lg font-semibold tracking-tight">Meerkat</span>
    </a>
  );
}
