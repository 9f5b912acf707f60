// Firmware updates against the real firmware process: a signed image uploaded over HTTP
// runs after the device restarts itself on the same port; every bad image is refused
// with its reason and the running firmware untouched; uploads cut off (by the client or
// by SIGKILL) go on with Content-Range; a crashing or never-confirming image rolls back.
// The images come from `make ota` (the Makefile's test target builds them).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { startServer, tmpdir } from './lib.mjs';

const BUILD = process.env.BIN ? path.join(process.env.BIN, '..') : 'build';
const FIRMWARE = path.join(BUILD, 'firmware', 'firmware');
const OTA = process.env.OTA_DIR || 'build/ota';  // Plain builds: the images are what they are in every flavour
const PACKER = 'build/packer/packer';
const KEY = 'build/keys/ota-dev.pem';
const B = fs.readFileSync(path.join(OTA, 'firmware-0.2.0.img'));
const HEADER = 128;
const PASSWORD = 'ota-test-password';
const root = tmpdir('ota');
after(() => fs.rmSync(root, { recursive: true, force: true }));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The firmware on a fresh data directory (or dir's), confirming a trial after 1 s
async function start(name, extra = [], port = 0) {
  const dir = path.join(root, name);
  const fw = await startServer(FIRMWARE, ['-l', `http://127.0.0.1:${port}`, '-d', dir, '-C', '1', ...extra]);
  return { ...fw, dir, name, extra, url: `http://127.0.0.1:${fw.port}` };
}

// One request with node's http (the body may be cut off: abortAfter bytes, then the socket dies)
function request(fw, method, p, { body, headers = {}, cookie, abortAfter } = {}) {
  return new Promise((resolve, reject) => {
    const h = { ...headers };
    if (cookie) h.Cookie = cookie;
    if (body !== undefined) h['Content-Length'] = body.length;  // All of it, even when the socket dies first
    const req = http.request(`${fw.url}${p}`, { method, headers: h, agent: false, timeout: 10000 }, (res) => {
      let text = '';
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, text, json, headers: res.headers });
      });
      res.on('error', reject);
    });
    req.on('error', (err) => (abortAfter !== undefined ? resolve({ status: 0, cut: true }) : reject(err)));
    req.on('timeout', () => req.destroy(new Error(`${method} ${p}: no answer in 10 s`)));
    if (abortAfter !== undefined) {
      req.write(body.subarray(0, abortAfter), () => setTimeout(() => { req.destroy(); resolve({ status: 0, cut: true }); }, 100));
      return;
    }
    req.end(body);
  });
}

async function login(fw, user = 'admin', password = PASSWORD) {
  let r = await request(fw, 'POST', '/api/auth/setup', { body: Buffer.from(JSON.stringify({ password })), headers: { 'Content-Type': 'application/json' } });
  if (r.status !== 200) {
    r = await request(fw, 'POST', '/api/auth/login', { body: Buffer.from(JSON.stringify({ user, password })), headers: { 'Content-Type': 'application/json' } });
  }
  assert.equal(r.status, 200, `login: ${r.text}`);
  return r.headers['set-cookie'][0].split(';')[0];
}

const OCTETS = { 'Content-Type': 'application/octet-stream', 'X-Requested-With': 'meerkat' };
function upload(fw, cookie, img, { range, query = '', abortAfter } = {}) {
  const headers = { ...OCTETS };
  if (range) headers['Content-Range'] = range;
  return request(fw, 'POST', `/api/ota${query}`, { body: img, headers, cookie, abortAfter });
}

// GET /api/ota with the session kept on fw, logging in again after a restart ended it
async function status(fw) {
  let r = fw.cookie ? await request(fw, 'GET', '/api/ota', { cookie: fw.cookie }) : { status: 401 };
  if (r.status === 401) {
    fw.cookie = await login(fw);
    r = await request(fw, 'GET', '/api/ota', { cookie: fw.cookie });
  }
  assert.equal(r.status, 200, r.text);
  return r.json;
}

// After restarts, until GET /api/ota satisfies pred
async function waitFor(fw, what, pred, ms = 30000) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      last = await status(fw);
      if (pred(last)) return last;
    } catch { /* restarting */ }
    await sleep(100);
  }
  assert.fail(`${what} never came (last: ${JSON.stringify(last)}):\n${fw.log().slice(-3000)}`);
}

// After a restart (same process, same port) the device answers again, as version
const waitForVersion = (fw, version) => waitFor(fw, `version ${version}`, (st) => st.version === version);

// The running version is A (whatever `make` stamped) until B arrives
async function versionA(fw) {
  return (await status(fw)).version;
}

function kill9(fw) {
  return new Promise((resolve) => {
    fw.proc.once('exit', resolve);
    fw.proc.kill('SIGKILL');
  });
}

// An image of B's program re-signed: another version, board or key
function resign(name, { version = '0.2.0', board = 'host', key = KEY }) {
  const out = path.join(root, `${name}.img`);
  const r = spawnSync(PACKER, ['sign', '--key', key, '--version', version, '--board', board, path.join(OTA, 'firmware-0.2.0'), out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return fs.readFileSync(out);
}

test('a signed image uploaded as one body runs after the restart, on trial, then confirmed; rollback brings A back', async () => {
  const fw = await start('update');
  try {
    const a = await versionA(fw);
    const cookie = await login(fw);
    const r = await upload(fw, cookie, B);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { ok: true, version: '0.2.0', restarting: true });
    let s = await waitForVersion(fw, '0.2.0');
    assert.equal(s.slot, 1);
    const same = await request(fw, 'GET', '/api/ota', { cookie });
    assert.equal(same.status, 200, 'the session from before the restart still holds');
    assert.equal(s.other.version, a, 'the installed program is the other slot');
    assert.equal(s.other.valid, true);
    await sleep(1600);  // -C 1: confirmed after a second of serving
    s = await status(fw);
    assert.equal(s.trial, false, JSON.stringify(s));
    const info = await request(fw, 'GET', '/api/info', { cookie: await login(fw) });
    assert.equal(info.json.version, '0.2.0');
    const rb = await request(fw, 'POST', '/api/ota/rollback', { cookie: await login(fw), headers: { 'X-Requested-With': 'meerkat' } });
    assert.equal(rb.status, 200, rb.text);
    s = await waitForVersion(fw, a);
    assert.equal(s.slot, 0);
    assert.equal(s.other.version, '0.2.0');
    assert.match(fw.log(), /listening on http:\/\/127\.0\.0\.1:\d+[\s\S]*starting slot 1[\s\S]*starting slot 0/);
  } finally {
    await fw.stop();
  }
});

// An image whose header passes has the other slot erased for it: if it then fails, what
// that slot held is gone, and GET /api/ota and the rollback say so
test('an upload that fails after its header leaves the other slot empty: no rollback to it', async () => {
  const fw = await start('erased');
  try {
    const cookie = await login(fw);
    assert.equal((await upload(fw, cookie, B)).status, 200);
    let s = await waitFor(fw, 'B confirmed', (st) => st.version === '0.2.0' && !st.trial);
    assert.equal(s.other.valid, true, 'the installed program waits in slot 0');
    const otherKey = path.join(root, 'erased.pem');
    fs.writeFileSync(otherKey, crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'sec1', format: 'pem' }));
    const r = await upload(fw, await login(fw), resign('erased', { version: '0.2.1', key: otherKey }));
    assert.equal(r.status, 400, r.text);
    s = await status(fw);
    assert.deepEqual([s.version, s.other.valid, s.other.version], ['0.2.0', false, null]);
    const rb = await request(fw, 'POST', '/api/ota/rollback', { cookie: await login(fw), headers: { 'X-Requested-With': 'meerkat' } });
    assert.equal(rb.status, 409, rb.text);
    assert.match(rb.json.error, /no firmware that can start/);
  } finally {
    await fw.stop();
  }
});

test('a chunked upload (no Content-Length) is taken the same way', async () => {
  const fw = await start('chunked');
  try {
    const cookie = await login(fw);
    const r = await new Promise((resolve, reject) => {
      const req = http.request(`${fw.url}/api/ota`, { method: 'POST', headers: { ...OCTETS, Cookie: cookie, 'Transfer-Encoding': 'chunked' } }, (res) => {
        let t = '';
        res.on('data', (d) => { t += d; });
        res.on('end', () => resolve({ status: res.statusCode, text: t }));
      });
      req.on('error', reject);
      for (let at = 0; at < B.length; at += 100000) req.write(B.subarray(at, at + 100000));  // 100 kB chunks
      req.end();
    });
    assert.equal(r.status, 200, r.text);
    await waitForVersion(fw, '0.2.0');
  } finally {
    await fw.stop();
  }
});

// Every refusal: the status, the reason, and A still running with nothing valid in slot 1
test('bad images are refused with their reason and the running firmware stays', async () => {
  const fw = await start('refusals');
  try {
    const a = await versionA(fw);
    const cookie = await login(fw);
    const flipped = Buffer.from(B);
    flipped[HEADER + 1000] ^= 1;
    const otherKey = path.join(root, 'other.pem');
    fs.writeFileSync(otherKey, crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'sec1', format: 'pem' }));
    const cases = [
      ['wrong magic', Buffer.concat([Buffer.from('MZ'), B.subarray(2)]), 400, /not an OTA image/],
      ['random bytes', crypto.randomBytes(5000), 400, /not an OTA image/],
      ['flipped payload byte', flipped, 400, /SHA-256 does not match/],
      ['signed by another key', resign('otherkey', { key: otherKey }), 400, /signature does not verify/],
      ['wrong board', resign('board', { board: 'stm32h743' }), 422, /for board "stm32h743", this device is "host"/],
      ['older version', resign('older', { version: '0.0.9' }), 422, /older than the running/],
      ['header says more than the body', B.subarray(0, B.length - 1), 400, /header announces/],
    ];
    for (const [what, img, code, reason] of cases) {
      const r = await upload(fw, cookie, img);
      assert.equal(r.status, code, `${what}: ${r.text}`);
      assert.match(r.json.error, reason, what);
      const s = await status(fw);
      assert.equal(s.version, a, what);
      assert.equal(s.other.valid, false, `${what}: slot 1 is not valid`);
      assert.match(s.error, reason, `${what}: GET /api/ota says the last error`);
    }
    // Oversize: refused from the head, before a byte of body is read
    const big = await new Promise((resolve) => {
      const req = http.request(`${fw.url}/api/ota`, { method: 'POST', headers: { ...OCTETS, Cookie: cookie, 'Content-Length': 65 * 1024 * 1024 } }, (res) => {
        let t = '';
        res.on('data', (d) => { t += d; });
        res.on('end', () => resolve({ status: res.statusCode, json: JSON.parse(t) }));
      });
      req.on('error', () => {});
      req.write(B.subarray(0, 10));
    });
    assert.equal(big.status, 413);
    assert.match(big.json.error, /does not fit/);
    // An admin may force the older one in (its program is B's, which says 0.2.0 when it runs)
    const older = resign('older2', { version: '0.0.9' });
    const r = await upload(fw, cookie, older, { query: '?force=1' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.version, '0.0.9');
    assert.equal((await waitForVersion(fw, '0.2.0')).slot, 1);
  } finally {
    await fw.stop();
  }
});

test('only an admin uploads, with the CSRF rule; a second upload meanwhile gets 409', async () => {
  const fw = await start('rights');
  try {
    const admin = await login(fw);
    const u = await request(fw, 'POST', '/api/users', { cookie: admin, body: Buffer.from(JSON.stringify({ user: 'vic', password: 'viewer-password', level: 'viewer' })), headers: { 'Content-Type': 'application/json' } });
    assert.equal(u.status, 201, u.text);
    const viewer = await login(fw, 'vic', 'viewer-password');
    let r = await upload(fw, viewer, B);
    assert.equal(r.status, 403, r.text);
    r = await request(fw, 'POST', '/api/ota', { cookie: admin, body: B, headers: { 'Content-Type': 'application/octet-stream' } });
    assert.equal(r.status, 415, `no X-Requested-With: ${r.text}`);
    r = await upload(fw, undefined, B);
    assert.equal(r.status, 401);
    const s = await request(fw, 'GET', '/api/ota', { cookie: viewer });
    assert.equal(s.status, 200, 'viewers see the state');
    // One upload streams (held open half way); a second one is refused meanwhile
    const held = http.request(`${fw.url}/api/ota`, { method: 'POST', headers: { ...OCTETS, Cookie: admin, 'Content-Length': B.length } });
    held.on('error', () => {});
    held.write(B.subarray(0, 100000));
    await sleep(200);
    r = await upload(fw, admin, B);
    assert.equal(r.status, 409, r.text);
    assert.match(r.json.error, /another upload is in progress/);
    held.destroy();
  } finally {
    await fw.stop();
  }
});

// Cut by the client at several offsets (inside the header, at its end, mid payload, in
// the signature): GET says from where, Content-Range goes on, the result boots
test('an upload cut off at any point goes on from where it stopped and boots', async () => {
  const fw = await start('resume');
  try {
    const cookie = await login(fw);
    const cuts = [60, 128, 40000, 1234567, B.length - 30];
    let r = await upload(fw, cookie, B, { abortAfter: cuts[0] });
    for (const cut of cuts.slice(1)) {
      let s = await status(fw);
      const from = s.upload ? s.upload.received : 0;
      if (from === 0) {  // Cut inside the header: nothing to go on with, start again
        r = await upload(fw, cookie, B, { abortAfter: cut });
        continue;
      }
      assert.equal(s.upload.total, B.length);
      assert.equal(s.upload.id, B.subarray(32, 64).toString('hex'));
      assert.equal(s.upload.version, '0.2.0');
      r = await upload(fw, cookie, B.subarray(from), { range: `bytes ${from}-${B.length - 1}/${B.length}`, abortAfter: cut - from });
      await sleep(100);
      s = await status(fw);
      assert.ok(s.upload && s.upload.received <= cut && s.upload.received > from, `after the cut at ${cut}: ${JSON.stringify(s.upload)}`);
    }
    const s = await status(fw);
    const from = s.upload.received;
    r = await upload(fw, cookie, B.subarray(from + 5), { range: `bytes ${from + 5}-${B.length - 1}/${B.length}` });
    assert.equal(r.status, 416, 'a gap is refused');
    assert.equal(r.json.received, from);
    r = await upload(fw, cookie, B.subarray(from), { range: `bytes ${from}-${B.length - 1}/${B.length}` });
    assert.equal(r.status, 200, r.text);
    await waitForVersion(fw, '0.2.0');
  } finally {
    await fw.stop();
  }
});

// SIGKILL mid upload and around the switch: each next start runs a whole firmware
test('SIGKILL during an upload and during the slot switch: the next start runs a valid firmware', async () => {
  let fw = await start('sigkill');
  const port = fw.port;
  const restart = async () => start('sigkill', [], port);
  try {
    const a = await versionA(fw);
    for (const cut of [50000, 2000000]) {
      const cookie = await login(fw);
      const held = http.request(`${fw.url}/api/ota`, { method: 'POST', headers: { ...OCTETS, Cookie: cookie, 'Content-Length': B.length } });
      held.on('error', () => {});
      held.write(B.subarray(0, cut));
      await sleep(300);
      await kill9(fw);
      fw = await restart();
      const s = await status(fw);
      assert.equal(s.version, a, `killed at ${cut}: A runs`);
      assert.ok(s.upload && s.upload.received > 0 && s.upload.received <= cut, `killed at ${cut}: resumable ${JSON.stringify(s.upload)}`);
    }
    // Killed as the answer leaves, before or during the switch: A or B runs, never half of one
    const cookie = await login(fw);
    const s0 = await status(fw);
    const r = await upload(fw, cookie, B.subarray(s0.upload.received), { range: `bytes ${s0.upload.received}-${B.length - 1}/${B.length}` });
    assert.equal(r.status, 200, r.text);
    await kill9(fw);
    fw = await restart();
    let s = await status(fw);
    assert.ok(s.version === '0.2.0' || s.version === a, s.version);
    // Killed during B's trial, before it confirms (-C 1 is not reached in 300 ms): B on trial again
    if (s.version === '0.2.0') {
      assert.equal(s.trial, true);
      await kill9(fw);
      fw = await restart();
      s = await status(fw);
      assert.equal(s.version, '0.2.0', 'a try is left');
    }
  } finally {
    await fw.stop();
  }
});

// The firmware, started as a watchdog or systemd would start it again, until it serves
async function startUntilServing(name, port, extra = [], tries = 6) {
  for (let i = 0; i < tries; i++) {
    try {
      return await start(name, extra, port);
    } catch (err) {
      assert.match(String(err), /exited early[^]*(crashing|hanging) at start/);
    }
  }
  assert.fail('the firmware never came up');
}

test('an image that crashes at start: after its trial boots the previous version runs again', async () => {
  const crash = fs.readFileSync(path.join(OTA, 'firmware-0.3.0-crash.img'));
  let fw = await start('crash');
  const port = fw.port;
  try {
    const a = await versionA(fw);
    const r = await upload(fw, await login(fw), crash);
    assert.equal(r.status, 200, r.text);
    await new Promise((resolve) => fw.proc.once('exit', resolve));  // It restarts into the crash
    fw = await startUntilServing('crash', port);
    const s = await status(fw);
    assert.equal(s.version, a);
    assert.equal(s.rolled_back, true);
    assert.match(s.error, /0\.3\.0 did not confirm itself/);
    // Going back to it on purpose is a trial too: it crashes, and A comes back again
    assert.deepEqual(s.other, { slot: 1, valid: true, version: '0.3.0' });
    const rb = await request(fw, 'POST', '/api/ota/rollback', { cookie: await login(fw), headers: { 'X-Requested-With': 'meerkat' } });
    assert.equal(rb.status, 200, rb.text);
    await new Promise((resolve) => fw.proc.once('exit', resolve));
    fw = await startUntilServing('crash', port);
    assert.equal((await status(fw)).version, a);
  } finally {
    await fw.stop();
  }
});

test('an image that never confirms itself: restarts after its window, then rolls back', async () => {
  const noconfirm = fs.readFileSync(path.join(OTA, 'firmware-0.3.0-noconfirm.img'));
  const fw = await start('noconfirm', ['-W', '1']);
  try {
    const a = await versionA(fw);
    const r = await upload(fw, await login(fw), noconfirm);
    assert.equal(r.status, 200, r.text);
    const s = await waitFor(fw, 'the rollback', (st) => st.rolled_back);  // After three trial boots of a second
    assert.equal(s.version, a);
    assert.equal(s.other.version, '0.3.0');
    assert.equal((fw.log().match(/starting slot 1:/g) || []).length, 3, 'three trial boots');
  } finally {
    await fw.stop();
  }
});

test('an image that hangs at start: the trial\'s watchdog ends it, and after its trial boots the previous version runs again', async () => {
  const hang = fs.readFileSync(path.join(OTA, 'firmware-0.3.0-hang.img'));
  const first = await start('hang', ['-W', '1']);  // The watchdog ends a hung trial 1 + 5 s in
  let fw;
  try {
    const a = await versionA(first);
    const r = await upload(first, await login(first), hang);
    assert.equal(r.status, 200, r.text);
    // It restarts into the image, which hangs (SIGTERM stays blocked there, as across any restart)
    const ended = await new Promise((resolve) => {
      const timer = setTimeout(() => first.proc.kill('SIGKILL'), 20000);
      first.proc.once('exit', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal });
      });
    });
    assert.deepEqual(ended, { code: 1, signal: null }, first.log().slice(-2000));
    assert.match(first.log(), /hanging at start[^]*watchdog: slot 1, on trial, neither confirmed nor restarted itself within 6 s/);
    fw = await startUntilServing('hang', first.port, ['-W', '1']);  // Two more trial boots end the same way, then A
    const s = await status(fw);
    assert.equal(s.version, a);
    assert.equal(s.rolled_back, true);
    assert.match(s.error, /0\.3\.0 did not confirm itself/);
    await new Promise((resolve) => setTimeout(resolve, 7000));  // No alarm is left for the version that runs
    assert.equal((await status(fw)).version, a);
  } finally {
    first.proc.kill('SIGKILL');
    await fw?.stop();
  }
});
