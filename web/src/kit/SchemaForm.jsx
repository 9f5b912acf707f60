// A card for a field set, from its schema (api/sets): what the user only reads as
// values with units, switches that apply at once, and the other writable fields in
// a form with Save when there are several (one alone applies when changed). The
// device validates (it is the one authority): its reasons appear next to the fields.
import { useState } from 'preact/hooks';
import { post } from '../api.js';
import { applySet } from '../store.js';
import { NumberInput, Select, TextInput, Toggle, Value } from './controls.jsx';
import { fieldWritable, parseInput } from './fields.js';
import { useAuth, useSchema, useSet } from './hooks.js';
import { Button, Card, ErrorText } from './ui.jsx';

const controls = { int: NumberInput, double: NumberInput, enum: Select, string: TextInput };

// The set's file did not parse when the device started (schema.corrupt, API.md).
function CorruptNotice({ set, corrupt }) {
  const kept = corrupt.kept ? `the old file is kept on the device as ${corrupt.kept}` : 'the old file could not be set aside: the next save replaces it';
  return (
    <p role="alert" data-testid="corrupt-notice" class="mb-4 rounded-lg border border-amber-300 bg-amber-50 p-3 text-sm text-amber-900 dark:border-amber-700 dark:bg-amber-950 dark:text-amber-200">
      The {set}.json file was corrupt at start ({corrupt.reason}), so the defaults are in use; {kept}.
    </p>
  );
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
  const editable = (f) => fieldWritable(auth, f);
  const toggles = fields.filter((f) => f.type === 'bool');
  const shown = fields.filter((f) => f.type !== 'bool' && !editable(f));
  const inputs = fields.filter((f) => f.type !== 'bool' && editable(f));
  const saving = inputs.length > 1;
  const readOnly = fields.some((f) => f.writable) && !fields.some(editable);
  const edit = (name, v) => {
    setDraft((d) => ({ ...d, [name]: v }));
    setStatus(null);
  };

  async function submit(e) {
    e.preventDefault();
    if (!saving) return;  // Enter in a field that applies by itself
    const changes = {}, local = {};
    for (const f of inputs) {
      if (!(f.name in draft)) continue;
      const v = parseInput(f, draft[f.name]);
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

  // In a form of several fields this form holds the typed text; one alone is bound
  function input(f) {
    const Control = controls[f.type] || TextInput;
    if (!saving) return <Control key={f.name} id={`${set}-${f.name}`} set={set} field={f.name} />;
    const change = (v) => edit(f.name, v);
    return (
      <Control key={f.name} id={`${set}-${f.name}`} name={f.name} label={f.title || f.name} unit={f.unit} min={f.min} max={f.max}
        step={f.type === 'int' ? 1 : undefined} maxLength={f.max_len} options={f.values} disabled={busy} error={errors[f.name]}
        value={f.name in draft ? draft[f.name] : values[f.name]} onInput={change} onChange={change} />
    );
  }

  return (
    <Card title={title}>
      {schema.corrupt && <CorruptNotice set={set} corrupt={schema.corrupt} />}
      <form onSubmit={submit} noValidate class="space-y-5" data-set={set}>
        {shown.length > 0 && (
          <div class="grid grid-cols-[repeat(auto-fill,minmax(9rem,1fr))] gap-x-6 gap-y-4">
            {shown.map((f) => <Value key={f.name} set={set} field={f.name} />)}
          </div>
        )}
        {toggles.length > 0 && (
          <div class="flex flex-wrap gap-x-8 gap-y-4">{toggles.map((f) => <Toggle key={f.name} set={set} field={f.name} />)}</div>
        )}
        {inputs.length > 0 && <div class="grid gap-4 md:grid-cols-2">{inputs.map(input)}</div>}
        {saving && (
          <div class="flex flex-wrap items-center gap-3">
            <Button type="submit" disabled={busy}>{busy ? 'Saving…' : 'Save'}</Button>
            {status && (status.ok
              ? <p role="status" class="text-sm text-emerald-700 dark:text-emerald-400">{status.text}</p>
              : <ErrorText>{status.text}</ErrorText>)}
          </div>
        )}
        {readOnly && <p class="text-sm text-slate-500 dark:text-slate-400">Read only: your account can see these values but not change them.</p>}
      </form>
    </Card>
  );
}
