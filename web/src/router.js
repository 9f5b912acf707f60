// Hash routing (#/overview) so the device serves one index.html for every page.
import { useEffect, useState } from 'preact/hooks';

export const routes = [
  { path: 'overview', title: 'Overview' },
  { path: 'settings', title: 'Settings' },
  { path: 'firmware', title: 'Firmware' },
];

// The page the hash names; no hash or an unknown one shows (and names) the first.
function currentRoute() {
  const path = location.hash.replace(/^#\/?/, '');
  if (routes.some((r) => r.path === path)) return path;
  history.replaceState(null, '', `#/${routes[0].path}`);
  return routes[0].path;
}

export function useRoute() {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const onChange = () => setRoute(currentRoute());
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
