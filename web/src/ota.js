// A firmware update from this browser tab: the image file the admin picked, its
// upload with progress, the wait while the device verifies and restarts, and the
// resume after a cut. It lives beside the pages, not in one: a restart ends the
// device's sessions, the login page takes the Firmware page's place for a while,
// and the file and the upload must still be here when the page comes back.
import { get, request, upload } from './api.js';
import { backoff } from './live.js';
import { IMAGE_HEADER_LEN, compareVersions, contentRange, readImageHeader, resumeOffset } from './ota-image.js';
import { getState, setState } from './store.js';

const PROGRESS_EVERY_MS = 200; // the store hears of progress at most this often
const STALL_MS = 30000;        // no byte sent for this long: the link is dead, resume
const RETRIES = 8;             // cuts, 409s and 416s in a row before the device's word is final

// The update as the page shows it (the store's `update`):
//   phase: 'ready' (a file picked), 'sending', 'verifying' (all sent, the device checks),
//          'waiting' (cut off: resumes once the device answers), 'restarting',
//          'done', 'failed'; null: nothing picked
//   file, image (readImageHeader), resumable (bytes the device holds of it), force,
//   start (where this send began), sent (bytes that left this browser), total,
//   resuming (this send follows a cut), target (the version to come back with),
//   away (the device went away), version (done: what runs now), error (the
//   device's words), older (a downgrade the device refused)
let attempt = 0;  // each start, cancel and pick takes a new number; older callbacks stop
let abortSend = () => {};
const current = () => getState().update;
const change = (patch) => setState({ update: { ...current(), ...patch } });
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// GET api/ota into the store's `firmware`: running version and slot, trial, the
// other slot, the upload the device holds, its last error.
export async function loadFirmware() {
  const info = await get('api/ota');
  setState({ firmware: info });
  return info;
}

// The file the admin dropped or picked: its header read, and how much of it the
// device already holds (an upload cut off before a reload resumes from there).
export async function choose(file) {
  const token = forget();
  const image = readImageHeader(new Uint8Array(await file.slice(0, IMAGE_HEADER_LEN).arrayBuffer()));
  if (token !== attempt) return;
  setState({ update: { phase: 'ready', file, image, resumable: 0 } });
  try {
    const info = await loadFirmware();
    if (token === attempt) change({ resumable: resumeOffset(info, file.size, image) });
  } catch {
    // the page shows that the device did not answer; Install asks again
  }
}

// Stop whatever runs (the bytes the device got stay there for a resume) and forget the file.
export function cancel() {
  forget();
  setState({ update: null });
}

function forget() {
  abortSend();
  abortSend = () => {};
  return ++attempt;
}

// Send the picked file: from where the device's upload of the same image stopped,
// or from the start (fresh: always). force: let an older version in.
export async function install({ force = false, fresh = false } = {}) {
  const file = current()?.file;
  if (!file) return;
  const token = forget();
  change({ phase: 'sending', force, start: 0, sent: 0, total: file.size, error: '', older: false, resuming: false });
  try {
    const info = await loadFirmware();
    if (token === attempt) send(token, fresh ? 0 : resumeOffset(info, file.size, current().image), 0);
  } catch (err) {
    failed(token, err);
  }
}

// Ask the device to restart into the other slot, then wait for it with that version.
export async function rollback(target) {
  const token = forget();
  await request('POST', 'api/ota/rollback');  // its error shows at the button
  if (token === attempt) {
    setState({ update: { phase: 'restarting', target, away: false } });
    awaitVersion(token, target);
  }
}

function send(token, start, retries) {
  const { file, force } = current();
  let shown = 0, moved = performance.now();
  const progress = (sent) => {
    const now = performance.now();
    moved = now;
    if (now - shown < PROGRESS_EVERY_MS) return;
    shown = now;
    change({ sent });
  };
  change({ phase: 'sending', start, sent: start, total: file.size });
  const { promise, abort } = upload(force ? 'api/ota?force=1' : 'api/ota', start ? file.slice(start) : file, {
    headers: start ? { 'Content-Range': contentRange(start, file.size) } : {},
    onProgress: (loaded) => token === attempt && progress(start + loaded),
    onSent: () => token === attempt && change({ phase: 'verifying', sent: file.size }),
  });
  abortSend = abort;
  // A link that died without a word (a cable pulled) would hold the upload forever
  const watchdog = setInterval(() => {
    if (current()?.phase === 'sending' && performance.now() - moved > STALL_MS) abort();
  }, 1000);
  promise.then((answer) => {
    if (token !== attempt) return;
    change({ phase: 'restarting', target: answer.version, away: false });
    awaitVersion(token, answer.version);
  }, (err) => {
    if (token === attempt) sendFailed(token, err, retries);
  }).finally(() => clearInterval(watchdog));
}

function sendFailed(token, err, retries) {
  const { phase, start, sent, resuming } = current();
  // A cut that moved nothing on counts against the retries: a link that always dies
  // at the same byte must end in words, not in a loop
  if (err.status === 0 && retries < RETRIES) return resumeWhenBack(token, phase === 'verifying', sent > start ? 0 : retries + 1);
  // The device's record moved on (416 says where it is), or after a cut it still
  // finishes the old upload (409 until it notices): try again, a few times
  if (retries < RETRIES && err.status === 416 && Number.isSafeInteger(err.body?.received)) return send(token, err.body.received, retries + 1);
  if (retries < RETRIES && err.status === 409 && resuming) return resumeWhenBack(token, false, retries + 1);
  failed(token, err);
}

function failed(token, err) {
  if (token !== attempt) return;
  const { image, force } = current();
  const older = err.status === 422 && !force && compareVersions(image?.version, getState().firmware?.version) < 0;
  change({ phase: 'failed', error: err.message, older });
  loadFirmware().catch(() => {});  // the device's last error and upload record moved too
}

// GET api/ota once the device answers again, and the user is logged in again if
// the restart ended the session; until ready(info). null if another attempt took over.
async function whenBack(token, ready = () => true, away = () => {}) {
  for (let n = 0; token === attempt;) {
    const { auth, conn } = getState();
    if (!auth?.user || conn !== 'online') {
      if (conn !== 'online') away();
      await sleep(250);
      continue;
    }
    try {
      const info = await loadFirmware();
      if (token === attempt && ready(info)) return info;
    } catch (err) {
      if (err.status === 0) away();
    }
    await sleep(backoff(n++));
  }
  return null;
}

// Cut off mid-upload: once the device answers, go on from what it holds of this
// image (the same id), or start over when it holds nothing of it.
async function resumeWhenBack(token, sentAll, retries) {
  change({ phase: 'waiting', resuming: true });
  if (retries) await sleep(backoff(retries));
  const info = await whenBack(token);
  if (!info) return;
  const { file, image } = current();
  // The answer to the last byte was lost, not the update: the device runs it already
  if (sentAll && image?.version && info.version === image.version) return finish(info);
  send(token, resumeOffset(info, file.size, image), retries);
}

// After a verified image or a rollback: the device restarts. Done when it answers
// with the target version; when it came back with another one, it rolled back.
async function awaitVersion(token, target) {
  let away = false;
  const info = await whenBack(token, (i) => i.version === target || (away && !!i.rolled_back), () => {
    if (!away) change({ away: (away = true) });
  });
  if (info) finish(info);
}

function finish(info) {
  const { target } = current();
  change({ phase: 'done', version: info.version, file: null, error: target && info.version !== target ? info.error : '' });
}
