// Hash routing: #/overview, #/settings... The device serves index.html at "/"
// only, so every page lives in the fragment and a reload or deep link works
// under any path prefix. Pages come from pages/index.js.
import { useEffect, useState } from 'preact/hooks';
import { pages } from './pages/index.js';

// The pages this user may open (admin-only ones for admins).
export function pagesFor(level) {
  return pages.filter((p) => !p.admin || level === 'admin');
}

function current(list) {
  const path = location.hash.replace(/^#\/?/, '');
  return list.find((p) => p.path === path);
}

// The page the hash names; no hash or an unknown one shows (and names) the first.
export function useRoute(list) {
  const [, setHash] = useState(location.hash);
  useEffect(() => {
    const onChange = () => setHash(location.hash);
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  const page = current(list) || list[0];
  useEffect(() => {
    if (!current(list)) history.replaceState(null, '', `#/${page.path}`);
  });
  return page;
}
