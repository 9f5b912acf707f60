// A form for a field set, rendered from its schema (api/sets): one input per
// field by type and limits, read-only where the user may not write. The device
// validates (it is the one authority): its reasons appear next to the fields.
import { useState } from 'preact/hooks';
import { post } from '../api.js';
import { applySet } from '../store.js';
import { mayWrite, useAuth, useSchema, useSet } from './hooks.js';
import { Button, Card, ErrorText, Field, Toggle, inputClass } from './ui.jsx';

function hint(f) {
  const unit = f.unit ? ` ${f.unit}` : '';
  if ((f.type === 'int' || f.type === 'double') && f.min !== undefined && f.max !== undefined) return `${f.min} to ${f.max}${unit}`;
  if (f.type === 'string' && f.max_len) return `Up to ${f.max_len} bytes of UTF-8`;
  return f.unit || '';
}

// String limits count bytes of UTF-8, as the device does (an accented letter takes 2, € 3).
function checkString(f, v) {
  const n = new TextEncoder().encode(v).length;
  if (f.max_len !== undefined && n > f.max_len) return new Error(`must be at most ${f.max_len} bytes of UTF-8 (this is ${n})`);
  if (f.min_len && n < f.min_len) return new Error(`must be ${f.min_len} to ${f.max_len} bytes of UTF-8`);
  return v;
}

// The set's file did not parse when the device started (schema.corrupt, API.md).
function CorruptNotice({ set, corrupt }) {
  const kept = corrupt.kept ? `the old file is kept on the device as ${corrupt.kept}` : 'the old file could not be set aside: the next save replaces it';
  return (
    <p role="alert" data-testid="corrupt-notice" class="mb-4 rounded-lg border border-amber-300 bg-amber-50 p-3 text-sm text-amber-900 dark:border-amber-700 dark:bg-amber-950 dark:text-amber-200">
      The {set}.json file was corrupt at start ({corrupt.reason}), so the defaults are in use; {kept}.
    </p>
  );
}

// The draft text of a field as the JSON value to send, or an Error for the user.
function parse(f, v) {
  if (f.type === 'string') return checkString(f, v);
  if (f.type !== 'int' && f.type !== 'double') return v;
  const n = String(v).trim() === '' ? NaN : Number(v);
  if (Number.isNaN(n)) return new Error('Enter a number');
  if (f.type === 'int' && !Number.isInteger(n)) return new Error('Enter a whole number');
  return n;
}

export function SchemaForm({ set, fields: only, title }) {
  const schema = useSchema(set);
  const values = useSet(set);
  const auth = useAuth();
  const [draft, setDraft] = useState({});
  const [errors, setErrors] = useState({});
  const [status, setStatus] = useState(null);  // { ok, text }
  const [busy, setBusy] = useState(false);

  if (!schema || !values) {
    return <Card title={title}><div class="h-24 animate-pulse rounded bg-slate-100 dark:bg-slate-800" aria-label="Loading" /></Card>;
  }
  const fields = schema.fields.filter((f) => !only || only.includes(f.name));
  const editable = (f) => mayWrite(f, auth?.level);
  const canSave = fields.some(editable);
  const edit = (name, v) => {
    setDraft((d) => ({ ...d, [name]: v }));
    setStatus(null);
  };

  async function submit(e) {
    e.preventDefault();
    const changes = {}, local = {};
    for (const f of fields) {
      if (!editable(f) || !(f.name in draft)) continue;
      const v = parse(f, draft[f.name]);
      if (v instanceof Error) local[f.name] = v.message;
      else if (v !== values[f.name]) changes[f.name] = v;
    }
    setErrors(local);
    if (Object.keys(local).length) return setStatus({ ok: false, text: 'Check the marked fields' });
    if (!Object.keys(changes).length) return setStatus({ ok: true, text: 'Nothing to save' });
    setBusy(true);
    try {
      applySet(set, await post(`api/sets/${set}`, changes));
      setDraft({});
      setStatus({ ok: true, text: 'Saved' });
    } catch (err) {
      const reasons = err.fields || {};
      setErrors(reasons);
      const other = Object.entries(reasons).filter(([k]) => !fields.some((f) => f.name === k));
      setStatus({ ok: false, text: [err.message, ...other.map(([k, r]) => `${k}: ${r}`)].join('; ') });
    } finally {
      setBusy(false);
    }
  }

  return (
    <Card title={title}>
      {schema.corrupt && <CorruptNotice set={set} corrupt={schema.corrupt} />}
      <form onSubmit={submit} noValidate class="space-y-4" data-set={set}>
        {fields.map((f) => {
          const id = `${set}-${f.name}`, label = f.title || f.name, error = errors[f.name];
          const value = f.name in draft ? draft[f.name] : values[f.name];
          const common = {
            id, name: f.name, disabled: !editable(f) || busy, 'aria-invalid': error ? 'true' : undefined,
            'aria-describedby': error ? `${id}-error` : hint(f) ? `${id}-hint` : undefined, class: inputClass,
          };
          let input;
          if (f.type === 'bool') {
            input = <Toggle id={id} label={label} checked={!!value} disabled={common.disabled} onChange={(v) => edit(f.name, v)} data-field={f.name} />;
          } else if (f.type === 'enum') {
            input = (
              <select {...common} value={value} onChange={(e) => edit(f.name, e.currentTarget.value)}>
                {(f.values || []).map((v) => <option key={v} value={v}>{v[0].toUpperCase() + v.slice(1)}</option>)}
              </select>
            );
          } else if (f.type === 'int' || f.type === 'double') {
            input = <input {...common} type="number" inputMode={f.type === 'int' ? 'numeric' : 'decimal'} step={f.type === 'int' ? 1 : 'any'}
              min={f.min} max={f.max} value={value ?? ''} onInput={(e) => edit(f.name, e.currentTarget.value)} />;
          } else {
            input = <input {...common} type="text" maxLength={f.max_len} value={value ?? ''} onInput={(e) => edit(f.name, e.currentTarget.value)} />;
          }
          return <Field key={f.name} id={id} label={label} hint={hint(f)} error={error}>{input}</Field>;
        })}
        {canSave ? (
          <div class="flex flex-wrap items-center gap-3 pt-2">
            <Button type="submit" disabled={busy}>{busy ? 'Saving…' : 'Save'}</Button>
            {status && (status.ok
              ? <p role="status" class="text-sm text-emerald-700 dark:text-emerald-400">{status.text}</p>
              : <ErrorText>{status.text}</ErrorText>)}
          </div>
        ) : (
          <p class="text-sm text-slate-500 dark:text-slate-400">Read only: your account can see these values but not change them.</p>
        )}
      </form>
    </Card>
  );
}
