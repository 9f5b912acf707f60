// The frame. Before a session: the setup or login screen. With one: header on
// top, navigation beside (or above, on a phone) the page the hash names. Up to
// 96rem wide, as the header: a 1920 px screen keeps a fifth as margin, not two fifths.
import { useEffect } from 'preact/hooks';
import { Login, Setup } from './Auth.jsx';
import { Header } from './Header.jsx';
import { Nav } from './Nav.jsx';
import { Offline } from './Offline.jsx';
import { useAuth, useSet } from './kit/hooks.js';
import { pagesFor, useRoute } from './router.js';

function Dashboard({ level }) {
  const list = pagesFor(level);
  const page = useRoute(list);
  const name = useSet('device')?.name;
  useEffect(() => {
    document.title = `${page.title} · ${name || 'Meerkat'}`;
  }, [page, name]);
  const Page = page.component;
  return (
    <div class="flex min-h-screen flex-col">
      <Header />
      <div class="mx-auto flex w-full max-w-[96rem] flex-1 flex-col md:flex-row">
        <Nav pages={list} current={page} />
        <main class="min-w-0 flex-1 px-4 py-6 sm:px-6 md:py-8 lg:px-10">
          <Offline />
          <Page key={page.path} />
        </main>
      </div>
    </div>
  );
}

export function App() {
  const auth = useAuth();
  if (!auth) {
    return (
      <main class="mx-auto max-w-md px-4 py-16">
        <Offline />
        <p class="text-center text-sm text-slate-500" aria-busy="true">Connecting to the device…</p>
      </main>
    );
  }
  if (auth.setup) return <Setup />;
  if (!auth.user) return <Login />;
  return <Dashboard level={auth.level} />;
}
