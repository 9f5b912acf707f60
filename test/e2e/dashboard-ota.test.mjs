// The Firmware page against the firmware in Chromium. Version A runs; an admin
// uploads the signed image of a newer version B while a viewer watches its progress
// without controls; the firmware is stopped and started mid-upload and the page
// resumes by itself (after a login if the restart ended the session); the device
// restarts into B and the page shows it. An unsigned file (dropped on the drop zone) and
// an older image are refused in the device's words while B keeps running and A waits
// untouched; the rollback brings A back; then an image signed with another key, even let
// in as a downgrade, is refused and A keeps running. Chromium's upload throttling makes
// B's upload last about 20 s, so there is a progress to watch and a middle to cut.
// OTA_IMAGE: B's image (default OTA_DIR/firmware-0.2.0.img, OTA_DIR build/ota: the plain
// build's, which test/integration/ota.test.mjs uploads too).
// Screenshots: build/e2e/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { OUT, PASSWORD, api, launchBrowser, problemLog, session, startFirmware } from './dashboard-lib.mjs';
import { compareVersions, readImageHeader } from '../../web/src/ota-image.js';
import { tmpdir } from '../integration/lib.mjs';

const OTA_IMAGE = process.env.OTA_IMAGE || path.join(process.env.OTA_DIR || 'build/ota', 'firmware-0.2.0.img');
const PACKER = process.env.PACKER || 'build/packer/packer';
const UPLOAD_SECONDS = 20;  // B's upload, throttled: time to look at it and cut it twice
const VIEWER = ['vera', 'viewer-pass-1'];
const desktop = { viewport: { width: 1280, height: 800 } };
let firmware, browser, files, A, B;
const log = problemLog();

// B's image, one of the same version signed with a key the device does not trust, and
// an older one (whose payload never gets checked: its header is refused first)
function makeFiles(dir) {
  const b = fs.readFileSync(OTA_IMAGE);
  const key = path.join(dir, 'stranger.pem');
  assert.equal(spawnSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]).status, 0);
  const sign = (version, bytes) => {
    const [input, output] = [path.join(dir, `in-${version}`), path.join(dir, `out-${version}.img`)];
    fs.writeFileSync(input, crypto.randomBytes(bytes));
    const r = spawnSync(PACKER, ['sign', '--key', key, '--version', version, '--board', 'host', input, output], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return fs.readFileSync(output);
  };
  const version = readImageHeader(new Uint8Array(b.subarray(0, 128))).version;
  const stranger = sign(version.replace(/\d+$/, (p) => Number(p) + 1), 256 << 10);
  const unsigned = { name: 'firmware.bin', mimeType: 'application/octet-stream', buffer: b.subarray(128, b.length - 64) };
  return { b: { name: path.basename(OTA_IMAGE), mimeType: 'application/octet-stream', buffer: b }, version, unsigned,
    stranger: { name: 'stranger.img', mimeType: 'application/octet-stream', buffer: stranger },
    older: { name: 'older.img', mimeType: 'application/octet-stream', buffer: sign('0.0.1', 64 << 10) } };
}

before(async () => {
  const dir = tmpdir('e2e-ota');
  try {
    files = makeFiles(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  firmware = await startFirmware();
  browser = await launchBrowser();
  const admin = await session(firmware.url);
  const r = await api(firmware.url, 'POST', 'api/users', { user: VIEWER[0], password: VIEWER[1], level: 'viewer' }, admin);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  A = (await api(firmware.url, 'GET', 'api/ota', undefined, admin)).body.version;
  B = files.version;
  assert.equal(compareVersions(B, A), 1, `${OTA_IMAGE} holds ${B}: it must be newer than the firmware's ${A}`);
});

after(async () => {
  await browser?.close();
  await firmware?.stop();
  assert.deepEqual(log.problems, []);
});

// Log in on the login page; the page the hash named opens (heading)
async function logIn(page, user = 'admin', password = PASSWORD) {
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

// The Firmware page for user, logged in, its uploads throttled so that B's lasts
// UPLOAD_SECONDS (Chromium applies new conditions to new requests only: they are set once)
async function open([user, password] = ['admin', PASSWORD]) {
  const context = await browser.newContext(desktop);
  const page = log.watch(await context.newPage());
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: files.b.buffer.length / UPLOAD_SECONDS,
  });
  await page.goto(new URL('#/firmware', firmware.url).href);
  await page.getByRole('heading', { level: 1, name: 'Log in' }).waitFor();
  await logIn(page, user, password);
  await page.getByRole('heading', { level: 1, name: 'Firmware' }).waitFor();
  return page;
}

const progress = (page) => page.getByRole('progressbar', { name: 'Upload' });
const percent = async (page) => Number(await progress(page).getAttribute('aria-valuenow'));
const running = (page, version) => page.getByTestId('version').getByText(version, { exact: true }).waitFor({ timeout: 30000 });
// A new firmware runs on trial, and takes no update, until it confirms itself after a few seconds
const confirmed = (page) => page.getByTestId('trial').getByText('Confirmed').waitFor({ timeout: 30000 });

// The restart ended the session, unless the page got back before anyone noticed: log in
// when asked, until `done` shows. The Firmware page comes back with the upload.
async function untilShown(page, done, timeout = 60000) {
  const login = page.getByRole('heading', { level: 1, name: 'Log in' });
  const end = Date.now() + timeout;
  while (!(await done.isVisible())) {
    assert.ok(Date.now() < end, `${done} within ${timeout / 1000} s`);
    if (await login.isVisible()) {
      log.allow(401, '/api/ota');  // asked before the page learnt that the session had ended
      await logIn(page);
    }
    await page.waitForTimeout(200);
  }
}

// A file dropped on the drop zone, as from the desktop
async function drop(page, { name, buffer }) {
  const transfer = await page.evaluateHandle(([n, b64]) => {
    const t = new DataTransfer();
    t.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], n));
    return t;
  }, [name, buffer.toString('base64')]);
  await page.getByTestId('dropzone').dispatchEvent('drop', { dataTransfer: transfer });
}

const reach = (page, pct) => page.waitForFunction((p) => Number(document.querySelector('[role="progressbar"]')?.getAttribute('aria-valuenow')) >= p, pct, { timeout: 20000 });

test('an upload resumes when the same file is picked again, and by itself after a restart of the device; B comes back', async () => {
  const page = await open();
  const viewer = await open(VIEWER);
  await running(page, A);
  await page.getByLabel(/Drop a firmware image/).setInputFiles(files.b);
  await page.getByTestId('chosen').getByText(`version ${B}`).waitFor();
  await page.getByRole('button', { name: `Install ${B}` }).click();
  await reach(page, 20);
  assert.match(await page.getByTestId('bytes').textContent(), /^[\d.]+ [KM]iB of [\d.]+ MiB[\d.]+ [KM]iB\/s.+ left$/, 'bytes, rate and time left');

  // The viewer sees the same upload from the device's `ota` set, and no control
  await viewer.getByTestId('update').getByText(`Receiving version ${B}`).waitFor();
  assert.ok(await percent(viewer) > 0);
  assert.equal(await viewer.getByTestId('dropzone').count(), 0);
  assert.equal(await viewer.getByRole('button', { name: /Roll back|Install|Upload/ }).count(), 0);
  await page.screenshot({ path: path.join(OUT, 'firmware-upload.png'), fullPage: true });
  await viewer.context().close();

  // A reload forgets the upload (the device keeps what it got): picking the file again offers the rest
  log.allowAbort('/api/ota');
  await page.reload();
  await page.getByTestId('cut').getByText(`An upload of version ${B} stopped at`).waitFor();
  await page.getByLabel(/Drop a firmware image/).setInputFiles(files.b);
  await page.getByTestId('resumable').getByText(/^The device holds .* of this image/).waitFor();
  await page.screenshot({ path: path.join(OUT, 'firmware-resume-offer.png'), fullPage: true });
  await page.getByRole('button', { name: /^Resume from \d+%$/ }).click();
  await page.getByTestId('note').getByText(/^Resuming from \d/).waitFor();
  await reach(page, 50);

  log.offline = true;  // the page's requests meet a closed port for a while
  const cutAt = await percent(page);
  await firmware.halt();
  await page.getByTestId('phase').getByText(/Connection lost/).waitFor();
  await firmware.restart();
  await untilShown(page, page.getByTestId('note').getByText(/^Resuming from \d/));
  const from = await percent(page);
  assert.ok(from >= 20 && from < 100, `resumed at ${from}% (cut at ${cutAt}%), not from the start`);
  await page.screenshot({ path: path.join(OUT, 'firmware-resumed.png'), fullPage: true });

  await untilShown(page, page.getByTestId('done').getByText(`Done: the device runs ${B}.`));
  await running(page, B);
  log.offline = false;
  const info = (await api(firmware.url, 'GET', 'api/ota', undefined, await session(firmware.url))).body;
  assert.equal(info.version, B);
  assert.deepEqual([info.other.valid, info.other.version], [true, A], 'A waits in the other slot');
  assert.equal(info.upload, null);
  await page.screenshot({ path: path.join(OUT, 'firmware-updated.png'), fullPage: true });
  await page.context().close();
});

// Refused from their first bytes, so the slot that holds A is not touched
test('an unsigned file and an older image are refused in the device\'s words; B keeps running', async () => {
  const page = await open();
  await running(page, B);
  await confirmed(page);
  log.allow(400, '/api/ota');
  await drop(page, files.unsigned);
  await page.getByRole('button', { name: 'Upload' }).click();
  const error = page.getByTestId('upload-error');
  await error.waitFor({ timeout: 30000 });
  const admin = await session(firmware.url);
  const said = (await api(firmware.url, 'GET', 'api/ota', undefined, admin)).body;
  assert.equal(said.version, B, 'B still runs');
  assert.equal((await error.textContent()).trim(), said.error, 'the device\'s own words');
  assert.match(said.error, /not an OTA image/);
  assert.deepEqual([said.other.valid, said.other.version], [true, A], 'A waits untouched');

  log.allow(422, '/api/ota');
  await page.getByLabel(/Drop a firmware image/).setInputFiles(files.older);
  await page.getByRole('button', { name: 'Install 0.0.1' }).click();
  await page.getByTestId('upload-error').getByText(/older|downgrade/i).waitFor();
  await page.screenshot({ path: path.join(OUT, 'firmware-older.png'), fullPage: true });
  assert.equal((await api(firmware.url, 'GET', 'api/ota', undefined, admin)).body.other.valid, true);
  await page.context().close();
});

test('the rollback brings A back', async () => {
  const page = await open();
  await running(page, B);
  log.offline = true;
  await page.getByTestId('rollback').getByRole('button', { name: `Roll back to ${A}` }).click();
  await page.getByRole('button', { name: 'Roll back', exact: true }).click();
  await untilShown(page, page.getByTestId('done').getByText(`Done: the device runs ${A}.`));
  await running(page, A);
  log.offline = false;
  assert.equal((await api(firmware.url, 'GET', 'api/ota', undefined, await session(firmware.url))).body.version, A);
  await page.context().close();
});

// After the rollback A runs; these pass their header, so they take slot 1 (B's) with them
test('an image signed with another key, even let in as a downgrade, is refused; A keeps running', async () => {
  const page = await open();
  await running(page, A);
  await confirmed(page);
  log.allow(400, '/api/ota');
  await drop(page, files.stranger);
  await page.getByRole('button', { name: /^Install / }).click();
  const error = page.getByTestId('upload-error');
  await error.waitFor({ timeout: 30000 });
  const admin = await session(firmware.url);
  const said = (await api(firmware.url, 'GET', 'api/ota', undefined, admin)).body;
  assert.equal(said.version, A, 'A still runs');
  assert.equal((await error.textContent()).trim(), said.error, 'the device\'s own words');
  assert.match(said.error, /signature|key/i);

  log.allow(422, '/api/ota');
  await page.getByLabel(/Drop a firmware image/).setInputFiles(files.older);
  await page.getByRole('button', { name: 'Install 0.0.1' }).click();
  await page.getByTestId('upload-error').getByText(/older|downgrade/i).waitFor();
  // Let in, it goes on to the signature, which the device does not trust either
  log.allow(400, '/api/ota');
  await page.getByRole('button', { name: 'Install the older version anyway' }).click();
  await page.getByRole('button', { name: 'Downgrade' }).click();
  await page.getByTestId('upload-error').getByText(/signature|key/i).waitFor({ timeout: 30000 });
  assert.equal((await api(firmware.url, 'GET', 'api/ota', undefined, admin)).body.version, A);
  await page.context().close();
});
