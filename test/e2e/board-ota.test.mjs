// OTA on the board: the firmware (build/arm/firmware.elf, the installed program) in QEMU's
// mps2-an385 with port 80 forwarded to an ephemeral host port. A signed image of version
// 0.2.0 (make ota-arm VERSION=0.2.0) is uploaded through the API; the board restarts (a
// system reset under QEMU), its boot stage checks and starts the image, which reports
// 0.2.0 and confirms itself; a rollback on demand brings the installed version back. An
// image that hangs at start is reset by the watchdog until its trial boots run out, then
// the installed version runs again. Bad images are refused with the host's reasons. Users
// and settings survive the resets (the flash filesystem); sessions do not.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { api, session } from './dashboard-lib.mjs';
import { QEMU, READY, freePort, hasQemu, spawnBoard, stopBoard, waitForLog } from './qemu-board.mjs';

const ELF = process.env.BOARD_FIRMWARE || 'build/arm/firmware.elf';
const IMAGE = process.env.BOARD_OTA_IMAGE || 'build/ota/firmware-arm-0.2.0.img';
const PAYLOAD = 'build/ota/arm-0.2.0/firmware.bin';  // What IMAGE signs, to re-sign for another board
const PACKER = 'build/packer/packer';
const KEY = 'build/keys/ota-dev.pem';
const B = '0.2.0';
const HANG = process.env.BOARD_OTA_HANG_IMAGE || 'build/ota/firmware-arm-0.3.0-hang.img';  // Hangs at start
const skip = !hasQemu() ? `no ${QEMU} (Debian: qemu-system-arm)`
  : !fs.existsSync(ELF) ? `${ELF} not built (make arm)`
  : !fs.existsSync(IMAGE) ? `${IMAGE} not built (make ota-arm VERSION=${B})`
  : !fs.existsSync(HANG) ? `${HANG} not built (make ota-arm VERSION=0.3.0 OTA_TEST=hang)` : false;
if (skip) console.log(`# board-ota skipped: ${skip}`);

let qemu, url, output = '';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// POST /api/ota with the image as the body (the dashboard's CSRF header, as the host test)
async function upload(cookie, img) {
  const res = await fetch(new URL('api/ota', url), {
    method: 'POST', body: img,
    headers: { Cookie: cookie, 'Content-Type': 'application/octet-stream', 'X-Requested-With': 'meerkat' },
  });
  return { status: res.status, body: await res.json() };
}

// GET /api/ota and /api/info until pred holds; after a reset the board's sessions are
// gone (its clock starts again), its users and settings are not (the flash filesystem):
// the admin logs in again
let cookie;
async function waitForBoard(what, pred, ms = 60000) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      let ota = cookie ? await api(url, 'GET', 'api/ota', undefined, cookie) : { status: 401 };
      if (ota.status === 401) {
        cookie = await session(url);
        ota = await api(url, 'GET', 'api/ota', undefined, cookie);
      }
      const info = (await api(url, 'GET', 'api/info', undefined, cookie)).body;
      last = { ota: ota.body, info, cookie };
      if (pred(last)) return last;
    } catch { /* resetting, or not up yet */ }
    await sleep(250);
  }
  assert.fail(`${what} never came (last: ${JSON.stringify(last)}):\n${output.slice(-4000)}`);
}

before(async () => {
  if (skip) return;
  const port = await freePort();
  url = `http://127.0.0.1:${port}/`;
  qemu = spawnBoard(ELF, port, (d) => { output += d; });
  await waitForLog(qemu, () => output, READY, 20000);
});

after(() => {
  if (process.env.BOARD_OTA_LOG) console.log(output.replace(/\r/g, '').replace(/^/gm, '# '));  // The board's console, to read
  return stopBoard(qemu);
});

test('bad images are refused with the host\'s reasons and the installed firmware stays', { skip }, async () => {
  const { ota, cookie } = await waitForBoard('the installed firmware', (s) => s.ota.slot === 0);
  assert.equal(ota.board, 'mps2-an385');
  const badSig = Buffer.from(fs.readFileSync(IMAGE));
  badSig[badSig.length - 1] ^= 1;
  let r = await upload(cookie, badSig);
  assert.equal(r.status, 400, JSON.stringify(r.body));
  assert.match(r.body.error, /signature does not verify/);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'board-ota-'));
  try {
    const host = path.join(dir, 'host.img');
    const s = spawnSync(PACKER, ['sign', '--key', KEY, '--version', B, '--board', 'host', PAYLOAD, host], { encoding: 'utf8' });
    assert.equal(s.status, 0, s.stderr);
    r = await upload(cookie, fs.readFileSync(host));
    assert.equal(r.status, 422, JSON.stringify(r.body));
    assert.match(r.body.error, /for board "host", this device is "mps2-an385"/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const now = (await api(url, 'GET', 'api/ota', undefined, cookie)).body;
  assert.equal(now.version, ota.version);
  assert.equal(now.other.valid, false, 'slot 1 holds nothing that can start');
});

test('a signed image runs after a system reset, confirms itself, and rolls back on demand', { skip }, async () => {
  const a = await waitForBoard('the installed firmware', (s) => s.ota.slot === 0 && !s.ota.trial);
  const versionA = a.ota.version;
  assert.notEqual(versionA, B);
  const named = await api(url, 'POST', 'api/sets/settings', { name: 'board-ota-kept' }, a.cookie);
  assert.equal(named.status, 200, JSON.stringify(named.body));
  const img = fs.readFileSync(IMAGE);
  const t0 = process.hrtime.bigint();
  const r = await upload(a.cookie, img);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(`# board-ota: ${img.length} bytes uploaded through QEMU's forward in ${ms.toFixed(0)} ms ` +
    `(${(img.length / 1024 / (ms / 1000)).toFixed(0)} KiB/s)`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body, { ok: true, version: B, restarting: true });

  // The reset: the boot stage of the installed program checks slot 1 and starts it
  await waitForLog(qemu, () => output, /starting slot 1: version 0\.2\.0/, 30000);
  await waitForLog(qemu, () => output, READY, 30000, 2);
  assert.equal((output.match(/first power-up/g) || []).length, 1, 'the slots and the record survived the reset');
  let auth;
  for (let i = 0; i < 100 && !auth; i++) auth = await api(url, 'GET', 'api/auth').catch(() => sleep(250).then(() => undefined));
  assert.equal(auth?.body?.setup, false, 'the admin survived the reset: the users file is on the flash filesystem');
  const b = await waitForBoard(`version ${B} confirmed`, (s) => s.ota.version === B && !s.ota.trial);
  assert.equal(b.ota.slot, 1);
  assert.equal(b.info.version, B);
  const settings = await api(url, 'GET', 'api/sets/settings', undefined, b.cookie);
  assert.equal(settings.body.name, 'board-ota-kept', 'a setting made before the update is kept');
  assert.deepEqual(b.ota.other, { slot: 0, valid: true, version: versionA });
  assert.match(output, /slot 1 confirmed/);

  // Rollback on demand: the installed program is started again, on trial, and confirms itself
  const rb = await fetch(new URL('api/ota/rollback', url), {
    method: 'POST', headers: { Cookie: b.cookie, 'X-Requested-With': 'meerkat' },
  });
  assert.equal(rb.status, 200, await rb.text());
  await waitForLog(qemu, () => output, READY, 30000, 3);
  const back = await waitForBoard(`version ${versionA} again`, (s) => s.ota.version === versionA && !s.ota.trial);
  assert.equal(back.ota.slot, 0);
  assert.equal(back.info.version, versionA);
  assert.deepEqual(back.ota.other, { slot: 1, valid: true, version: B });
});

test('an image that hangs at start is reset by the watchdog, and after its trial boots the installed version runs again', { skip }, async () => {
  const a = await waitForBoard('the installed firmware', (s) => s.ota.slot === 0 && !s.ota.trial);
  const versionA = a.ota.version;
  const resets = (output.match(/watchdog: the main loop stopped/g) || []).length;
  const r = await upload(a.cookie, fs.readFileSync(HANG));
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body, { ok: true, version: '0.3.0', restarting: true });
  // Each of its trial boots: the boot stage starts it, it hangs, the watchdog resets the board
  await waitForLog(qemu, () => output, /hanging at start/, 30000);
  await waitForLog(qemu, () => output, /watchdog: the main loop stopped for 3000 ms/, 15000, resets + 1);
  const back = await waitForBoard(`version ${versionA} after the rollback`, (s) => s.ota.version === versionA && s.ota.rolled_back, 90000);
  assert.equal(back.ota.slot, 0);
  assert.match(back.ota.error, /0\.3\.0 did not confirm itself/);
  const hangs = (output.match(/hanging at start/g) || []).length;
  assert.equal(hangs, 3, `the hung image had its three trial boots, no more (it hung ${hangs} times)`);
  assert.equal((output.match(/watchdog: the main loop stopped/g) || []).length - resets, 3, 'each ended by the watchdog');
});
