// The controls of a page: Toggle, Slider, NumberInput, Select, TextInput, a Value
// to read and a ConfirmButton. Given `set` and `field` a control binds itself to the
// device: label, unit, limits and options from the schema, its value live, a
// change written at once, and shown read-only when the session may not write it.
import { useId, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { formatValue, levelAtLeast, optionLabel, parseInput } from './fields.js';
import { useAuth, useField } from './hooks.js';
import { Button, ErrorText, Field, inputClass } from './ui.jsx';

// A control's props completed from its field when it has `set` and `field`
// (what the caller passes wins, but never over the value, the write and the level).
function useBound(props) {
  const b = useField(props.set, props.field);
  if (!props.set) return { ...props, readOnly: !!props.readOnly };
  const f = b.field || {};
  const given = Object.fromEntries(Object.entries(props).filter(([, v]) => v !== undefined));
  return {
    label: f.title || props.field, unit: f.unit, min: f.min, max: f.max, maxLength: f.max_len, options: f.values,
    ...given,
    schema: b.field, value: b.value, onChange: b.write, busy: b.busy, error: props.error || b.error,
    readOnly: !b.writable, waiting: b.value === undefined,
  };
}

// A value to read, with its unit: `<Value label="Uptime" value={42} unit="s" />`
// or `<Value set="device" field="uptime" />`.
export function Value(props) {
  const p = useBound(props);
  const [text, unit] = formatValue(p.schema || (p.unit ? { unit: p.unit } : undefined), p.value);
  return (
    <div class="min-w-0" data-field={props.field}>
      <div class="text-xs font-medium tracking-wide text-slate-500 dark:text-slate-400">{p.label}</div>
      <div class="mt-0.5 text-lg font-semibold break-words tabular-nums">
        {text}{unit && <span class="ml-1 text-sm font-medium text-slate-500 dark:text-slate-400">{unit}</span>}
      </div>
    </div>
  );
}

// An on/off switch with its label as text (a click on the text switches it too).
// onChange(next) may return a promise: the switch waits for it.
export function Toggle({ set, field, label, checked, onChange, disabled, busy, readOnly, error, ...rest }) {
  const p = useBound({ set, field, label, value: checked, onChange, busy, readOnly, error });
  const labelId = useId();
  const off = disabled || p.readOnly || p.waiting;
  return (
    <div class="inline-flex flex-col gap-1">
      <label class={`inline-flex items-center gap-3 ${off ? '' : 'cursor-pointer'}`}>
        <button
          type="button"
          role="switch"
          aria-checked={p.value ? 'true' : 'false'}
          aria-labelledby={p.label ? labelId : undefined}
          disabled={off || p.busy}
          onClick={() => p.onChange?.(!p.value)}
          data-field={field}
          class={`relative inline-flex h-6 w-11 shrink-0 items-center rounded-full transition-colors focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-amber-500 disabled:cursor-not-allowed ${
            p.value ? 'bg-amber-500' : 'bg-slate-300 dark:bg-slate-700'} ${off ? 'opacity-60' : ''} ${p.busy ? 'animate-pulse' : ''}`}
          {...rest}
        >
          <span class={`inline-block size-5 rounded-full bg-white shadow transition-transform ${p.value ? 'translate-x-5.5' : 'translate-x-0.5'}`} />
        </button>
        {p.label && <span id={labelId} class="text-sm font-medium">{p.label}</span>}
      </label>
      <ErrorText>{p.error}</ErrorText>
    </div>
  );
}

// A range between min and max, the value and unit beside it; onChange(number)
// when released (onInput(number) while it moves).
export function Slider(props) {
  const p = useBound(props);
  const autoId = useId();
  const [moving, setMoving] = useState(null);
  if (p.readOnly) return <Value {...props} />;
  const id = p.id || autoId, min = p.min ?? 0, max = p.max ?? 100;
  const step = p.step ?? (p.schema?.type === 'double' ? (max - min) / 100 : 1);
  const shown = moving ?? p.value;
  async function release(e) {
    const v = Number(e.currentTarget.value);
    if (v !== p.value) await p.onChange?.(v);
    setMoving(null);
  }
  return (
    <Field id={id} label={p.label} error={p.error}>
      <div class="flex items-center gap-3">
        <input id={id} type="range" min={min} max={max} step={step} value={shown ?? min} data-field={props.field}
          disabled={p.disabled || p.busy || p.waiting} class="h-2 min-w-0 flex-1 cursor-pointer accent-amber-500 disabled:cursor-not-allowed"
          onInput={(e) => {
            setMoving(Number(e.currentTarget.value));
            p.onInput?.(Number(e.currentTarget.value));
          }}
          onChange={release} />
        <output for={id} class="w-20 shrink-0 text-right text-sm font-semibold tabular-nums">
          {shown ?? '–'}{p.unit && <span class="ml-1 font-medium text-slate-500 dark:text-slate-400">{p.unit}</span>}
        </output>
      </div>
    </Field>
  );
}

// Typed text: in a form the parent holds it (value + onInput(text)); otherwise the
// control does, and onChange(value) gets it parsed on Enter or when focus leaves.
function useDraft(p, parse) {
  const [draft, setDraft] = useState(null);
  const [local, setLocal] = useState('');
  const text = p.onInput ? p.value : draft ?? p.value;
  return {
    text: text ?? '',
    error: local || p.error,
    onInput(e) {
      const raw = e.currentTarget.value;
      setLocal('');
      if (p.onInput) p.onInput(raw);
      else setDraft(raw);
    },
    async onChange(e) {
      if (p.onInput || !p.onChange) return;
      const v = parse(e.currentTarget.value);
      if (v instanceof Error) return setLocal(v.message);
      if (v !== p.value && (await p.onChange(v)) === false) return;  // the device's reason shows; the text stays
      setDraft(null);
    },
  };
}

const parseNumber = (p) => (raw) => parseInput(p.schema || { type: 'double' }, raw);
const parseText = (p) => (raw) => (p.schema ? parseInput(p.schema, raw) : raw);

// A number with its unit inside the box and its bounds as the hint.
export function NumberInput(props) {
  const p = useBound(props);
  const autoId = useId();
  const d = useDraft(p, parseNumber(p));
  if (p.readOnly) return <Value {...props} />;
  const id = p.id || autoId, int = p.schema?.type === 'int' || p.step === 1;
  const hint = p.hint ?? (p.min !== undefined && p.max !== undefined ? `${p.min} to ${p.max}` : '');
  return (
    <Field id={id} label={p.label} hint={hint} error={d.error}>
      <div class="relative">
        <input id={id} name={p.name || props.field} type="number" inputMode={int ? 'numeric' : 'decimal'} step={p.step ?? (int ? 1 : 'any')}
          min={p.min} max={p.max} value={d.text} onInput={d.onInput} onChange={d.onChange} disabled={p.disabled || p.busy || p.waiting}
          aria-invalid={d.error ? 'true' : undefined} aria-describedby={d.error ? `${id}-error` : hint ? `${id}-hint` : undefined}
          class={`${inputClass} ${p.unit ? 'pr-12' : ''}`} data-field={props.field} />
        {p.unit && (
          <span class="pointer-events-none absolute inset-y-0 right-3 flex items-center text-sm text-slate-500 dark:text-slate-400"
            data-unit-for={p.name || props.field}>{p.unit}</span>
        )}
      </div>
    </Field>
  );
}

// One line of text; a bound one is checked against the field's byte limits first.
export function TextInput(props) {
  const p = useBound(props);
  const autoId = useId();
  const d = useDraft(p, parseText(p));
  if (p.readOnly) return <Value {...props} />;
  const id = p.id || autoId;
  return (
    <Field id={id} label={p.label} hint={p.hint} error={d.error}>
      <input id={id} name={p.name || props.field} type="text" maxLength={p.maxLength} value={d.text} onInput={d.onInput} onChange={d.onChange}
        disabled={p.disabled || p.busy || p.waiting} aria-invalid={d.error ? 'true' : undefined}
        aria-describedby={d.error ? `${id}-error` : p.hint ? `${id}-hint` : undefined} class={inputClass} data-field={props.field} />
    </Field>
  );
}

// One of `options` (strings, or { value, label }); onChange(value) on a choice.
export function Select(props) {
  const p = useBound(props);
  const autoId = useId();
  if (p.readOnly) return <Value {...props} />;
  const id = p.id || autoId;
  return (
    <Field id={id} label={p.label} hint={p.hint} error={p.error}>
      <select id={id} name={p.name || props.field} value={p.value ?? ''} onChange={(e) => p.onChange?.(e.currentTarget.value)}
        disabled={p.disabled || p.busy || p.waiting} aria-invalid={p.error ? 'true' : undefined}
        aria-describedby={p.error ? `${id}-error` : undefined} class={inputClass} data-field={props.field}>
        {(p.options || []).map((o) => {
          const [value, label] = typeof o === 'string' ? [o, optionLabel(o)] : [o.value, o.label];
          return <option key={value} value={value}>{label}</option>;
        })}
      </select>
    </Field>
  );
}

// A button for a dangerous action: the first click asks `confirm` in the page,
// `yes` runs onConfirm (it may return a promise; its error shows), `no` or Escape
// closes the question. With `level` ('operator', 'admin') it is disabled for a
// session below that level, as the device would refuse it.
export function ConfirmButton({ onConfirm, confirm = 'Are you sure?', yes = 'Confirm', no = 'Cancel', variant = 'danger', level, disabled, children, ...rest }) {
  const auth = useAuth();
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const box = useRef(null), asked = useRef(false);
  // Focus follows the question (to Confirm when it opens, back when it closes) before
  // the next key: a layout effect, as a key pressed right after the click must reach it
  useLayoutEffect(() => {
    asked.current ||= asking;
    if (asked.current) box.current?.querySelector('button')?.focus();
  }, [asking]);
  const allowed = !level || levelAtLeast(auth?.level, level);
  async function act() {
    setBusy(true);
    setError('');
    try {
      await onConfirm?.();
      setAsking(false);
    } catch (err) {
      setError(err.message);
    } finally {
      setBusy(false);
    }
  }
  return (
    <div ref={box} class="inline-flex flex-col gap-1">
      {asking ? (
        <div role="group" aria-label={confirm} onKeyDown={(e) => e.key === 'Escape' && setAsking(false)}
          class="flex flex-wrap items-center gap-2 rounded-lg border border-red-200 bg-red-50 p-2 dark:border-red-900 dark:bg-red-950">
          <span class="px-1 text-sm font-medium text-red-900 dark:text-red-200">{confirm}</span>
          <Button variant={variant} disabled={busy} onClick={act}>{busy ? `${yes}…` : yes}</Button>
          <Button variant="secondary" disabled={busy} onClick={() => setAsking(false)}>{no}</Button>
        </div>
      ) : (
        <Button variant={variant} disabled={disabled || !allowed} title={allowed ? undefined : `Needs the ${level} level`}
          onClick={() => setAsking(true)} {...rest}>{children}</Button>
      )}
      <ErrorText>{error}</ErrorText>
    </div>
  );
}
