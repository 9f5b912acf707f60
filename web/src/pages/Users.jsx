// Users (admins only): who may log in, at which level; add and remove.
import { useEffect, useState } from 'preact/hooks';
import { Button, Card, ErrorText, Field, Page, del, get, inputClass, post, useAuth } from '../kit';

function AddUser({ onAdded }) {
  const [form, setForm] = useState({ user: '', password: '', level: 'viewer' });
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const set = (k) => (e) => setForm({ ...form, [k]: e.currentTarget.value });
  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await post('api/users', form);
      setForm({ user: '', password: '', level: 'viewer' });
      onAdded();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return (
    <Card title="Add a user">
      <form onSubmit={submit} noValidate class="grid gap-4 sm:grid-cols-3" aria-label="Add a user">
        <Field id="new-user" label="User name" error={error?.fields?.user}>
          <input id="new-user" name="user" class={inputClass} autocomplete="off" value={form.user} onInput={set('user')} />
        </Field>
        <Field id="new-password" label="Password" error={error?.fields?.password}>
          <input id="new-password" name="password" type="password" autocomplete="new-password" class={inputClass} value={form.password} onInput={set('password')} />
        </Field>
        <Field id="new-level" label="Level" error={error?.fields?.level}>
          <select id="new-level" name="level" class={inputClass} value={form.level} onChange={set('level')}>
            <option value="viewer">Viewer (read only)</option>
            <option value="operator">Operator (operates the device)</option>
            <option value="admin">Admin (also settings, users, firmware)</option>
          </select>
        </Field>
        <div class="flex flex-wrap items-center gap-3 sm:col-span-3">
          <Button type="submit" disabled={busy}>{busy ? 'Adding…' : 'Add user'}</Button>
          <ErrorText>{error?.message}</ErrorText>
        </div>
      </form>
    </Card>
  );
}

export function Users() {
  const me = useAuth()?.user;
  const [users, setUsers] = useState(null);
  const [error, setError] = useState('');
  const [confirm, setConfirm] = useState(null);  // the user whose removal awaits a second click
  const load = () => get('api/users').then((r) => setUsers(r.users), (err) => setError(err.message));
  useEffect(() => {
    load();
  }, []);
  async function remove(user) {
    if (confirm !== user) return setConfirm(user);
    setConfirm(null);
    setError('');
    try {
      await del(`api/users/${encodeURIComponent(user)}`);
    } catch (err) {
      setError(err.message);
    }
    load();
  }
  return (
    <Page title="Users" intro="Viewers look; operators also operate the device; admins also change its settings, users and firmware.">
      <Card title="Users">
        {users ? (
          <ul class="divide-y divide-slate-200 dark:divide-slate-800" data-testid="users">
            {users.map(({ user, level }) => (
              <li key={user} class="flex items-center justify-between gap-3 py-2" data-user={user}>
                <span class="min-w-0 truncate font-medium">{user}{user === me && <span class="ml-2 text-xs text-slate-500">(you)</span>}</span>
                <span class="flex shrink-0 items-center gap-3">
                  <span class="rounded-full bg-slate-100 px-2 py-0.5 text-xs font-medium dark:bg-slate-800">{level}</span>
                  <Button variant={confirm === user ? 'danger' : 'secondary'} class="px-3! py-1!" onClick={() => remove(user)} onBlur={() => setConfirm(null)}
                    aria-label={confirm === user ? `Confirm removing ${user}` : `Remove ${user}`}>
                    {confirm === user ? 'Confirm' : 'Remove'}
                  </Button>
                </span>
              </li>
            ))}
          </ul>
        ) : !error && <div class="h-16 animate-pulse rounded bg-slate-100 dark:bg-slate-800" aria-label="Loading" />}
        <div class="mt-3"><ErrorText>{error}</ErrorText></div>
      </Card>
      <AddUser onAdded={load} />
    </Page>
  );
}
