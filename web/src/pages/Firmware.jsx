// Firmware: what the device runs (version, slot, trial or confirmed, the other
// slot) and, for admins, an update: drop or pick a signed image, watch it go up,
// verify and restart, and roll back. Everyone sees an update's progress (the
// `ota` set), whoever sends it. The upload itself lives in ota.js.
import { useEffect, useRef, useState } from 'preact/hooks';
import { Button, Card, ConfirmButton, ErrorText, Page, Stat, formatBytes, formatUptime, levelAtLeast, useAuth, useSet } from '../kit';
import { cancel, choose, install, loadFirmware, rollback } from '../ota.js';
import { rateMeter } from '../ota-image.js';
import { useStore } from '../store.js';

const TRIAL_POLL_MS = 2000;
const active = (phase) => ['sending', 'verifying', 'waiting', 'restarting'].includes(phase);

function Running({ info }) {
  const other = info?.other;
  return (
    <dl class="grid grid-cols-2 gap-3 sm:grid-cols-4 sm:gap-4" data-testid="running">
      <Stat label="Running version" value={info?.version} data-testid="version" />
      <Stat label="Slot" value={info && String(info.slot)} />
      <Stat label="State" value={info && (info.trial ? 'On trial' : 'Confirmed')} data-testid="trial" />
      <Stat label={`Other slot${other ? ` (${other.slot})` : ''}`} value={info && (other?.valid ? other.version : 'Empty')} data-testid="other" />
    </dl>
  );
}

// A trial that ended in a rollback, and the last error the device keeps (unless the
// Update card shows it already, as this tab's upload failed)
function Notes({ info, shown }) {
  const error = info?.error !== shown && info?.error;
  if (!info?.rolled_back && !error) return null;
  return (
    <div class="space-y-1 rounded-xl border border-amber-300 bg-amber-50 p-4 text-sm dark:border-amber-800 dark:bg-amber-950/40" data-testid="notes">
      {info.rolled_back && <p class="font-medium">The last update was rolled back: the device runs {info.version} again.</p>}
      {error && <p>Last error: {error}</p>}
    </div>
  );
}

function Rollback({ info, disabled }) {
  const { other } = info;
  return (
    <Card title="Previous version" data-testid="rollback">
      <div class="flex flex-wrap items-center justify-between gap-3">
        <p class="text-sm text-slate-600 dark:text-slate-300">Slot {other.slot} holds {other.version}. Rolling back restarts the device into it.</p>
        <ConfirmButton level="admin" disabled={disabled} confirm={`Restart into ${other.version}?`} yes="Roll back"
          onConfirm={() => rollback(other.version)}>Roll back to {other.version}</ConfirmButton>
      </div>
    </Card>
  );
}

// Bytes per second as `bytes` grows from render to render (a smaller value: another upload)
function useRate(bytes) {
  const meter = useRef(null), last = useRef(0);
  if (!meter.current || bytes < last.current) meter.current = rateMeter();
  last.current = bytes;
  meter.current.add(performance.now(), bytes);
  return meter.current.rate();
}

// Bytes with their rate and time left while `moving`; without a total, a bar that only says "busy"
function Progress({ label, note, sent, total, moving }) {
  const measured = useRate(sent);
  const rate = moving ? measured : 0;
  const pct = total > 0 ? Math.min(100, Math.floor((sent * 100) / total)) : undefined;
  const left = rate > 0 && total > sent ? (total - sent) / rate : 0;
  return (
    <div class="space-y-2" data-testid="progress">
      <div class="flex items-baseline justify-between gap-3 text-sm">
        <span class="font-medium" role="status" data-testid="phase">{label}</span>
        {pct !== undefined && <span class="tabular-nums">{pct}%</span>}
      </div>
      <div role="progressbar" aria-label="Upload" aria-valuemin="0" aria-valuemax="100" aria-valuenow={pct}
        aria-valuetext={total ? `${formatBytes(sent)} of ${formatBytes(total)}` : undefined}
        class="h-3 overflow-hidden rounded-full bg-slate-200 dark:bg-slate-800">
        <div class={`h-full rounded-full bg-amber-500 transition-[width] ${pct === undefined ? 'w-1/3 animate-pulse' : ''}`} style={pct === undefined ? undefined : { width: `${pct}%` }} />
      </div>
      <p class="flex flex-wrap gap-x-4 text-xs text-slate-500 tabular-nums dark:text-slate-400" data-testid="bytes">
        <span>{formatBytes(sent)} of {total ? formatBytes(total) : 'unknown'}</span>
        {rate > 0 && <span>{formatBytes(rate)}/s</span>}
        {left > 0 && <span>{formatUptime(left)} left</span>}
        {note && <span data-testid="note">{note}</span>}
      </p>
    </div>
  );
}

const phaseLabel = (u) => ({
  sending: `Uploading ${u.image?.version ? `version ${u.image.version}` : u.file?.name}`,
  verifying: 'Verifying the image…',
  waiting: 'Connection lost: resuming when the device answers…',
  restarting: u.away ? 'Restarting: waiting for the device to come back…' : `Restarting into ${u.target}…`,
})[u.phase];

// This tab's upload. What left the browser may sit in socket buffers: while the
// device says how much it has (the `ota` set), that is the progress shown
function MyUpload({ u, ota }) {
  const device = ota?.state === 'receiving' && Number(ota.total) === u.total;
  const sent = device ? Math.min(u.sent, Number(ota.bytes)) : u.sent;
  const phase = device && u.phase === 'verifying' ? 'sending' : u.phase;
  return (
    <div class="space-y-4">
      <Progress key={u.start} label={phaseLabel({ ...u, phase })} note={u.start > 0 && phase === 'sending' ? `Resuming from ${formatBytes(u.start)}` : ''}
        sent={sent} total={u.total} moving={phase === 'sending'} />
      {(phase === 'sending' || phase === 'waiting') && <Button variant="secondary" onClick={cancel}>Cancel</Button>}
    </div>
  );
}

// The device's own account of an upload (the `ota` set), whoever sends it
function DeviceUpload({ ota }) {
  const label = { receiving: `Receiving ${ota.version ? `version ${ota.version}` : 'an image'}`, verifying: 'Verifying the image…', restarting: 'Restarting…' }[ota.state];
  return <Progress label={label} sent={Number(ota.bytes) || 0} total={Number(ota.total) || 0} moving={ota.state === 'receiving'} />;
}

function DropZone() {
  const [over, setOver] = useState(false);
  const take = (files) => files?.[0] && choose(files[0]);
  return (
    <label data-testid="dropzone"
      class={`flex flex-col items-center gap-2 rounded-xl border-2 border-dashed px-6 py-10 text-center text-sm focus-within:outline-2 focus-within:outline-offset-2 focus-within:outline-amber-500 ${
        over ? 'border-amber-500 bg-amber-50 dark:bg-amber-950/30' : 'cursor-pointer border-slate-300 hover:border-amber-400 dark:border-slate-700'}`}
      onDragOver={(e) => { e.preventDefault(); setOver(true); }} onDragLeave={() => setOver(false)}
      onDrop={(e) => { e.preventDefault(); setOver(false); take(e.dataTransfer.files); }}>
      <svg viewBox="0 0 24 24" class="size-8 text-slate-400" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true">
        <path d="M12 15V3m0 0L8 7m4-4l4 4M4 17v2a2 2 0 002 2h12a2 2 0 002-2v-2" />
      </svg>
      <span class="font-medium">Drop a firmware image here, or <span class="text-amber-700 underline dark:text-amber-400">choose a file</span></span>
      <span class="text-xs text-slate-500 dark:text-slate-400">A signed image (.img) for this device</span>
      <input type="file" class="sr-only" onChange={(e) => { take(e.currentTarget.files); e.currentTarget.value = ''; }} />
    </label>
  );
}

// The picked file, what the device holds of it, and what the admin may do with it
function Chosen({ u, running, busy }) {
  const { file, image, resumable } = u;
  const pct = Math.floor((resumable * 100) / file.size);
  return (
    <div class="space-y-3" data-testid="chosen">
      <p class="text-sm">
        <span class="font-medium break-all">{file.name}</span>
        <span class="text-slate-500 dark:text-slate-400"> · {formatBytes(file.size)} · {image.magic ? `version ${image.version}` : 'not a firmware image'}</span>
      </p>
      {resumable > 0 && <p class="text-sm" data-testid="resumable">The device holds {formatBytes(resumable)} ({pct}%) of this image from an upload that was cut off.</p>}
      <div class="flex flex-wrap items-start gap-3">
        {u.older ? (
          <ConfirmButton level="admin" variant="danger" confirm={`Replace ${running} by the older ${image.version}?`} yes="Downgrade" no={`Keep ${running}`}
            onConfirm={() => install({ force: true })}>Install the older version anyway</ConfirmButton>
        ) : resumable > 0 ? (
          <>
            <Button disabled={busy} onClick={() => install()}>Resume from {pct}%</Button>
            <Button variant="secondary" disabled={busy} onClick={() => install({ fresh: true })}>Start over</Button>
          </>
        ) : (
          <Button disabled={busy} onClick={() => install()}>{image.version ? `Install ${image.version}` : 'Upload'}</Button>
        )}
        <Button variant="secondary" onClick={cancel}>Cancel</Button>
      </div>
      {u.phase === 'failed' && <ErrorText data-testid="upload-error">{u.error}</ErrorText>}
    </div>
  );
}

function Done({ u }) {
  const ok = !u.target || u.version === u.target;
  return (
    <p role="status" data-testid="done" class={`rounded-lg p-3 text-sm font-medium ${ok ? 'bg-emerald-50 text-emerald-800 dark:bg-emerald-950/40 dark:text-emerald-300' : 'bg-amber-50 text-amber-900 dark:bg-amber-950/40 dark:text-amber-200'}`}>
      {ok ? `Done: the device runs ${u.version}.` : `The device came back with ${u.version}, not ${u.target}: it rolled back.${u.error ? ` ${u.error}` : ''}`}
    </p>
  );
}

// Admins: the drop zone, the picked file, this tab's upload, or another's
function Update({ u, ota, info, deviceBusy }) {
  const elsewhere = !active(u?.phase) && deviceBusy;
  const cut = !u?.file && !elsewhere && info?.upload;
  return (
    <Card title="Update" data-testid="update">
      <div class="space-y-4">
        {u?.phase === 'done' && <Done u={u} />}
        {active(u?.phase) ? <MyUpload u={u} ota={ota} /> : elsewhere ? <DeviceUpload ota={ota} /> : <DropZone />}
        {elsewhere && <p class="text-sm text-slate-500 dark:text-slate-400">Another session is updating the device.</p>}
        {cut && (
          <p class="text-sm" data-testid="cut">
            An upload of version {cut.version} stopped at {formatBytes(cut.received)} of {formatBytes(cut.total)}: pick the same file to go on from there.
          </p>
        )}
        {u?.file && !active(u.phase) && <Chosen u={u} running={info?.version} busy={elsewhere} />}
      </div>
    </Card>
  );
}

export function Firmware() {
  const admin = levelAtLeast(useAuth()?.level, 'admin');
  const info = useStore((s) => s.firmware);
  const u = useStore((s) => s.update);
  const ota = useSet('ota');
  const [error, setError] = useState('');
  // Again whenever the device's update state moves (an upload ended, a slot changed),
  // and every few seconds while on trial, which ends with no push
  const reload = () => loadFirmware().then(() => setError(''), (err) => setError(err.message));
  useEffect(() => {
    reload();
  }, [ota?.state]);
  useEffect(() => {
    if (!info?.trial) return undefined;
    const t = setInterval(reload, TRIAL_POLL_MS);
    return () => clearInterval(t);
  }, [info?.trial]);
  const deviceBusy = ['receiving', 'verifying', 'restarting'].includes(ota?.state);
  return (
    <Page title="Firmware" intro="The software the device runs, and its update over the network.">
      <Running info={info} />
      <ErrorText>{error}</ErrorText>
      <Notes info={info} shown={u?.phase === 'failed' ? u.error : ''} />
      {admin ? <Update u={u} ota={ota} info={info} deviceBusy={deviceBusy} />
        : deviceBusy && <Card title="Update" data-testid="update"><DeviceUpload ota={ota} /></Card>}
      {admin && info?.other?.valid && <Rollback info={info} disabled={deviceBusy || active(u?.phase)} />}
    </Page>
  );
}
