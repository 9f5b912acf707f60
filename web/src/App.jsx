// The frame: header on top, navigation beside (or above, on a phone) the page.
import { useEffect } from 'preact/hooks';
import { Header } from './Header.jsx';
import { Nav } from './Nav.jsx';
import { ErrorState } from './ErrorState.jsx';
import { Overview } from './pages/Overview.jsx';
import { Settings } from './pages/Settings.jsx';
import { Firmware } from './pages/Firmware.jsx';
import { routes, useRoute } from './router.js';
import { useStore } from './store.js';

const pages = { overview: Overview, settings: Settings, firmware: Firmware };

export function App() {
  const route = useRoute();
  const name = useStore((s) => s.info?.name);
  const failed = useStore((s) => s.infoError !== null);
  const Page = pages[route];

  useEffect(() => {
    const title = routes.find((r) => r.path === route).title;
    document.title = `${title} · ${name || 'Meerkat'}`;
  }, [route, name]);

  return (
    <div class="flex min-h-screen flex-col">
      <Header />
      <div class="mx-auto flex w-full max-w-6xl flex-1 flex-col md:flex-row">
        <Nav route={route} />
        <main class="min-w-0 flex-1 px-4 py-6 sm:px-6 md:py-8 lg:px-10">
          {failed && <ErrorState />}
          <Page />
        </main>
      </div>
    </div>
  );
}
