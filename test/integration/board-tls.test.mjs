// The board firmware with HTTPS (build/arm/tls/firmware.elf: mbedTLS 3.6 cross-compiled,
// the development certificate packed) in QEMU's mps2-an385, ports 443 and 80 forwarded to
// ephemeral host ports through the restricted user network: curl checking the certificate
// against build/certs/ca.pem for the dashboard and the API, openssl s_client for TLS 1.3,
// wss for a live push, plain HTTP beside it, and the handshake time through QEMU.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import WebSocket from 'ws';
import { CA } from './lib.mjs';
import { freePort, qemuSkipReason, startBoard } from './qemu.mjs';

const ELF = process.env.BOARD_TLS_FIRMWARE || 'build/arm/tls/firmware.elf';
const PASSWORD = 'board over https 24';
const skip = qemuSkipReason(ELF) ?? (fs.existsSync(CA) ? false : `${CA} not made (make certs)`);
if (skip) console.log(`# board-tls skipped: ${skip}`);

let qemu, tlsPort, httpPort, base, cookie;

// curl on the board over HTTPS, the certificate checked (it names localhost): {code, stdout, stderr}
function curlTls(path, ...args) {
  const r = spawnSync('curl', ['-sS', '--max-time', '20', '--cacert', CA, '--resolve', `localhost:${tlsPort}:127.0.0.1`,
    ...args, `${base}${path}`], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function curlTlsOk(path, ...args) {
  const r = curlTls(path, ...args);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

before(async () => {
  if (skip) return;
  [tlsPort, httpPort] = [await freePort(), await freePort()];
  base = `https://localhost:${tlsPort}/`;
  qemu = startBoard(ELF, `user,restrict=on,hostfwd=tcp:127.0.0.1:${tlsPort}-:443,hostfwd=tcp:127.0.0.1:${httpPort}-:80`);
  await qemu.waitFor(/ready: dashboard on http:\/\/10\.0\.2\.15\/ and https:\/\//, 20000);
});

after(async () => {
  await qemu?.stop();
});

test('the board says it serves HTTPS with the packed development certificate', { skip }, () => {
  assert.match(qemu.output(), /HTTPS on 443 with the development certificate \/server\.pem \(no HSTS/);
});

test('curl over HTTPS: the dashboard and the API, the certificate checked, no HSTS for a development one', { skip }, () => {
  const page = curlTlsOk('', '--compressed', '-i');
  assert.match(page, /^HTTP\/1\.1 200/);
  assert.match(page, /<!doctype html>/i);
  assert.doesNotMatch(page, /strict-transport-security/i);
  assert.deepEqual(JSON.parse(curlTlsOk('api/auth')), { setup: true, user: null, level: null });
  const setup = curlTlsOk('api/auth/setup', '-i', '-H', 'Content-Type: application/json', '-d', JSON.stringify({ password: PASSWORD }));
  cookie = /^set-cookie: (mk_session=[^;]+)/im.exec(setup)?.[1];
  assert.ok(cookie, setup);
  assert.equal(JSON.parse(curlTlsOk('api/info', '-b', cookie)).name, 'meerkat-mps2');
  const untrusted = spawnSync('curl', ['-sS', '--max-time', '20', `https://127.0.0.1:${tlsPort}/`], { encoding: 'utf8' });
  assert.notEqual(untrusted.status, 0, 'a client without the development CA refuses it');
});

test('the largest packed asset over HTTPS, byte for byte (the board cuts its records at 4 KiB)', { skip }, () => {
  const assets = fs.readdirSync('web/dist/assets').map((f) => `web/dist/assets/${f}`);
  const largest = assets.reduce((a, b) => (fs.statSync(a).size >= fs.statSync(b).size ? a : b));
  const r = spawnSync('curl', ['-sS', '--max-time', '20', '--cacert', CA, '--resolve', `localhost:${tlsPort}:127.0.0.1`,
    `${base}${largest.slice('web/dist/'.length)}`], { maxBuffer: 16 << 20 });
  assert.equal(r.status, 0, String(r.stderr));
  assert.ok(r.stdout.equals(fs.readFileSync(largest)), `${r.stdout.length} bytes, not ${largest}`);
});

test('plain HTTP on port 80 keeps serving beside HTTPS', { skip }, () => {
  const r = spawnSync('curl', ['-sS', '--max-time', '20', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${httpPort}/`],
    { encoding: 'utf8' });
  assert.equal(r.stdout, '200', r.stderr);
});

// s_client's report of one handshake with the board, the chain checked against the CA
function sClient(...args) {
  const r = spawnSync('openssl', ['s_client', '-connect', `127.0.0.1:${tlsPort}`, '-servername', 'localhost', '-CAfile', CA,
    '-verify_return_error', ...args], { input: '', encoding: 'utf8', timeout: 20000 });
  assert.match(r.stdout, /Verify return code: 0 \(ok\)/, r.stdout + r.stderr);
  return r.stdout;
}

test('openssl s_client: TLS 1.3 by default, TLS 1.2 (ECDHE-ECDSA) for an older client, the chain verified', { skip }, () => {
  assert.match(sClient(), /^New, TLSv1\.3, Cipher is TLS_(AES_128_GCM_SHA256|CHACHA20_POLY1305_SHA256)$/m);
  assert.match(sClient('-tls1_2'), /^New, TLSv1\.2, Cipher is ECDHE-ECDSA-/m);
});

test('wss on /api/ws: a change made over HTTPS is pushed', { skip }, async () => {
  assert.ok(cookie, 'logged in by the test before');
  const ws = new WebSocket(`wss://localhost:${tlsPort}/api/ws`, { ca: fs.readFileSync(CA), headers: { Cookie: cookie },
    lookup: (host, opts, cb) => (opts?.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)) });
  const closed = new Promise((resolve) => ws.on('close', resolve));
  let timer;
  try {
    const pushed = new Promise((resolve, reject) => {
      timer = setTimeout(() => reject(new Error('no push of led3 in 20 s')), 20000);
      ws.on('message', (d) => {
        const m = JSON.parse(d);
        if (m.set === 'leds' && m.values?.led3 === true) resolve(m);
      });
      ws.on('error', reject);
    });
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const r = curlTls('api/sets/leds', '-b', cookie, '-H', 'Content-Type: application/json', '-d', '{"led3":true}',
      '-w', ' %{http_code}');
    assert.match(r.stdout, / 200$/, r.stdout + r.stderr);
    await pushed;
  } finally {
    clearTimeout(timer);
    ws.close();
    await closed;
  }
});

// A figure, not an assertion: the time from TCP connected to TLS done, five new handshakes
test('the handshake time through QEMU (printed)', { skip }, (t) => {
  const times = [];
  for (let i = 0; i < 5; i++) {
    const w = curlTlsOk('api/auth', '-o', '/dev/null', '-w', '%{time_connect} %{time_appconnect}').split(' ').map(Number);
    times.push((w[1] - w[0]) * 1000);
  }
  times.sort((a, b) => a - b);
  t.diagnostic(`TLS 1.3 handshake through QEMU (X25519, ECDSA P-256): median ${times[2].toFixed(1)} ms, ` +
    `min ${times[0].toFixed(1)}, max ${times[4].toFixed(1)} of 5`);
});
