// The screens before the dashboard: first setup (the admin's password, twice)
// and login (the device's error on a wrong password, the wait when throttled).
import { useEffect, useState } from 'preact/hooks';
import { Brand } from './Brand.jsx';
import { Button, ErrorText, Field, inputClass } from './kit/ui.jsx';
import { login, setup } from './session.js';

function Screen({ title, intro, children }) {
  return (
    <main class="flex min-h-screen flex-col items-center justify-center px-4 py-10">
      <Brand />
      <section aria-labelledby="page-title" class="mt-6 w-full max-w-sm rounded-xl border border-slate-200 bg-white p-6 shadow-sm dark:border-slate-800 dark:bg-slate-900">
        <h1 id="page-title" class="text-xl font-semibold tracking-tight">{title}</h1>
        {intro && <p class="mt-1 text-sm text-slate-500 dark:text-slate-400">{intro}</p>}
        <div class="mt-5">{children}</div>
      </section>
    </main>
  );
}

export function Setup() {
  const [password, setPassword] = useState('');
  const [again, setAgain] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  async function submit(e) {
    e.preventDefault();
    if (password !== again) return setError('The two passwords differ');
    setBusy(true);
    setError('');
    try {
      await setup(password);
    } catch (err) {
      setError(err.message);
      setBusy(false);
    }
  }
  return (
    <Screen title="Welcome" intro="This device has no administrator yet. Choose the password of the user admin.">
      <form onSubmit={submit} class="space-y-4" noValidate>
        <Field id="password" label="Password" hint="8 to 128 bytes of UTF-8">
          <input id="password" type="password" autocomplete="new-password" class={inputClass} value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        </Field>
        <Field id="again" label="Password again">
          <input id="again" type="password" autocomplete="new-password" class={inputClass} value={again} onInput={(e) => setAgain(e.currentTarget.value)} />
        </Field>
        <ErrorText>{error}</ErrorText>
        <Button type="submit" class="w-full" disabled={busy}>{busy ? 'Setting up…' : 'Set password and log in'}</Button>
      </form>
    </Screen>
  );
}

export function Login() {
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const [waitUntil, setWaitUntil] = useState(0);
  const [now, setNow] = useState(Date.now());
  const wait = Math.ceil((waitUntil - now) / 1000);
  useEffect(() => {
    if (wait <= 0) return;
    const t = setTimeout(() => setNow(Date.now()), 250);
    return () => clearTimeout(t);
  });
  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      await login(user, password);
    } catch (err) {
      if (err.status === 429) {
        const s = err.retryAfter || 1;
        setWaitUntil(Date.now() + s * 1000);
        setNow(Date.now());
        setError(`Too many failed attempts: wait ${s} s before trying again`);
      } else {
        setError(err.message);
      }
      setBusy(false);
    }
  }
  return (
    <Screen title="Log in" intro="Log in to this device's dashboard.">
      <form onSubmit={submit} class="space-y-4">
        <Field id="user" label="User name">
          <input id="user" name="username" autocomplete="username" class={inputClass} value={user} onInput={(e) => setUser(e.currentTarget.value)} />
        </Field>
        <Field id="password" label="Password">
          <input id="password" type="password" autocomplete="current-password" class={inputClass} value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        </Field>
        <ErrorText>{error}</ErrorText>
        <Button type="submit" class="w-full" disabled={busy || wait > 0}>{busy ? 'Logging in…' : wait > 0 ? `Wait ${wait} s` : 'Log in'}</Button>
      </form>
    </Screen>
  );
}
