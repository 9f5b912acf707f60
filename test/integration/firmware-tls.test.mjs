// The firmware over HTTPS with the development certificates of tools/make-certs.sh:
// pages, REST with a login and /api/ws as WSS; the session cookie Secure over HTTPS
// only; where the certificate comes from (DATA_DIR/tls, -c/-k, the development one of
// -T) and what a missing or bad one does; the redirect of -R and HSTS, which only a
// real certificate gets.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { startServer, curl, parseResponses, tmpdir, waitForLog } from './lib.mjs';

const FIRMWARE = process.env.BIN ? path.join(process.env.BIN, '..', 'firmware', 'firmware') : 'build/firmware/firmware';
const CERTS = process.env.CERTS || 'build/certs';
const CA = path.join(CERTS, 'ca.pem');
const INDEX = fs.readFileSync('web/dist/index.html');
const PASSWORD = 'firmware-tls-test';
let data;

before(() => {
  data = tmpdir('fw-tls');
});

after(() => {
  fs.rmSync(data, { recursive: true, force: true });
});

// The firmware with an HTTP and an HTTPS listener on ephemeral ports; resolves with
// both base URLs (HTTPS by the name the certificate has) once both listen, or only
// HTTP when the log says HTTPS could not start (expectHttps false).
async function start(name, args, { expectHttps = true } = {}) {
  const dir = path.join(data, name);
  const fw = await startServer(FIRMWARE, ['-l', 'http://127.0.0.1:0', '-l', 'https://127.0.0.1:0', '-d', dir, ...args]);
  const http = `http://127.0.0.1:${fw.port}`;
  if (!expectHttps) {
    await waitForLog(fw, /no HTTPS/);
    return { fw, http, dir };
  }
  await waitForLog(fw, /listening on https:\/\/127\.0\.0\.1:\d+/);
  const httpsPort = Number(fw.log().match(/listening on https:\/\/127\.0\.0\.1:(\d+)/)[1]);
  return { fw, http, https: `https://localhost:${httpsPort}`, httpsPort, dir };
}

// The data directory's certificate, as a device has it installed
function installCert(dir, cert = 'server.pem', key = 'server.key') {
  fs.mkdirSync(path.join(dir, 'tls'), { recursive: true });
  fs.copyFileSync(path.join(CERTS, cert), path.join(dir, 'tls', 'cert.pem'));
  fs.copyFileSync(path.join(CERTS, key), path.join(dir, 'tls', 'key.pem'));
}

const get = (args) => parseResponses(curl(['-i', '--cacert', CA, ...args]).stdout)[0];
const json = ['-H', 'Content-Type: application/json'];

// Sets up the admin over base; returns the Set-Cookie header
function setUp(base) {
  const r = curl(['-i', '--cacert', CA, ...json, '-d', JSON.stringify({ password: PASSWORD }), `${base}/api/auth/setup`]);
  assert.equal(r.code, 0, r.stderr);
  const [res] = parseResponses(r.stdout);
  assert.equal(res.status, 200, res.body.toString());
  return res.headers['set-cookie'];
}

function logIn(base) {
  const [res] = parseResponses(curl(['-i', '--cacert', CA, ...json, '-d', JSON.stringify({ user: 'admin', password: PASSWORD }),
    `${base}/api/auth/login`]).stdout);
  assert.equal(res.status, 200, res.body.toString());
  return res.headers['set-cookie'];
}

test('development certificate (-T): pages, REST with a login and a Secure cookie over HTTPS only, no HSTS', async () => {
  const { fw, http, https } = await start('dev', ['-T', CERTS]);
  try {
    assert.match(fw.log(), /development certificate/);
    const page = get([`${https}/`]);
    assert.equal(page.status, 200);
    assert.ok(page.body.equals(INDEX), 'the packed page over HTTPS');
    assert.equal(page.headers['strict-transport-security'], undefined, 'no HSTS with the development certificate');

    const secure = setUp(https);
    assert.match(secure, /^mk_session=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Secure$/);
    const info = get(['-b', secure.split(';')[0], `${https}/api/info`]);
    assert.equal(info.status, 200);
    assert.match(JSON.parse(info.body.toString()).name, /^meerkat-/);

    const plain = logIn(http);
    assert.doesNotMatch(plain, /Secure/i, 'no Secure over plain HTTP');
    assert.equal(get([`${http}/api/info`, '-b', plain.split(';')[0]]).status, 200);
    assert.equal(get([`${http}/`]).status, 200, 'no redirect without -R');
    assert.match(logIn(https), /; Secure$/);
  } finally {
    await fw.stop();
  }
});

test('WSS: /api/ws over TLS with the CA pushes live sensor values', async () => {
  const { fw, https } = await start('wss', ['-T', CERTS]);
  try {
    const cookie = setUp(https).split(';')[0];
    const ws = new WebSocket(`${https.replace('https', 'wss')}/api/ws`, { ca: fs.readFileSync(CA), headers: { Cookie: cookie } });
    const sensors = [];
    const twoTicks = new Promise((resolve, reject) => {
      ws.on('message', (d) => {
        const m = JSON.parse(d.toString());
        if (m.set === 'sensors') sensors.push(m.values);
        if (sensors.length === 2) resolve();  // The snapshot, then a pushed tick
      });
      ws.on('error', reject);
      setTimeout(() => reject(new Error(`${sensors.length} sensor messages in 5 s`)), 5000);
    });
    await twoTicks;
    assert.equal(typeof sensors[1].temperature, 'number');
    assert.equal(typeof sensors[1].humidity, 'number');
    ws.close();
  } finally {
    await fw.stop();
  }
});

test('a certificate in DATA_DIR/tls is a real one: HSTS over HTTPS, none over HTTP', async () => {
  const dir = path.join(data, 'real');
  installCert(dir);
  const { fw, http, https } = await start('real', ['-T', path.join(data, 'nowhere')]);
  try {
    assert.match(fw.log(), new RegExp(`certificate ${path.join(dir, 'tls', 'cert.pem')}`));
    for (const p of ['/', '/index.html']) {
      const res = get([`${https}${p}`]);
      assert.equal(res.status, 200, p);
      assert.equal(res.headers['strict-transport-security'], 'max-age=31536000', p);
    }
    assert.equal(get([`${http}/`]).headers['strict-transport-security'], undefined, 'never over plain HTTP');
  } finally {
    await fw.stop();
  }
});

test('-c CERT -k KEY is a real certificate too; -R redirects plain HTTP with 308 to the HTTPS port', async () => {
  const { fw, http, https, httpsPort } = await start('redirect',
    ['-c', path.join(CERTS, 'server.pem'), '-k', path.join(CERTS, 'server.key'), '-R']);
  try {
    const httpPort = new URL(http).port;
    const cases = [
      [`localhost:${httpPort}`, '/index.html?x=1&y=%20', `https://localhost:${httpsPort}/index.html?x=1&y=%20`],
      [`127.0.0.1:${httpPort}`, '/api/info', `https://127.0.0.1:${httpsPort}/api/info`],
      ['[::1]:8000', '/', `https://[::1]:${httpsPort}/`],
      ['device.local', '/#/x', `https://device.local:${httpsPort}/`],
    ];
    for (const [host, target, want] of cases) {
      const res = get(['-H', `Host: ${host}`, `${http}${target}`]);
      assert.equal(res.status, 308, `${host} ${target}`);
      assert.equal(res.headers.location, want);
      assert.equal(res.headers['strict-transport-security'], undefined, 'no HSTS over plain HTTP');
    }
    const post = get([...json, '-d', '{}', `${http}/api/auth/login`]);
    assert.equal(post.status, 308, 'a POST too: 308 keeps the method and body');
    for (const bad of ['', 'a/b', 'x@evil', 'a b']) {
      const res = get(['-H', `Host: ${bad}`, `${http}/`]);
      assert.equal(res.status, 400, `Host "${bad}"`);
      assert.match(res.body.toString(), /Host/);
    }
    const followed = curl(['-sSL', '--cacert', CA, `http://localhost:${httpPort}/`]);
    assert.equal(followed.code, 0, followed.stderr);
    assert.ok(followed.stdout.equals(INDEX), 'curl -L ends on the page over HTTPS');
    assert.equal(get([`${https}/`]).headers['strict-transport-security'], 'max-age=31536000');
  } finally {
    await fw.stop();
  }
});

test('no certificate anywhere: a log line says where to put one, and HTTP keeps serving', async () => {
  const { fw, http } = await start('none', ['-R'], { expectHttps: false });
  try {
    assert.match(fw.log(), /no HTTPS on https:\/\/127\.0\.0\.1:0: no certificate: put cert\.pem and key\.pem in .*tls, or pass -c CERT -k KEY/);
    assert.equal(get([`${http}/`]).status, 200, 'HTTP serves the page, not a redirect to nowhere');
  } finally {
    await fw.stop();
  }
});

test('a bad certificate or a key of another certificate: the log names the file and why, HTTP keeps serving', async () => {
  const dir = path.join(data, 'bad');
  fs.mkdirSync(path.join(dir, 'tls'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'tls', 'cert.pem'), 'not a certificate\n');
  fs.copyFileSync(path.join(CERTS, 'server.key'), path.join(dir, 'tls', 'key.pem'));
  let { fw, http } = await start('bad', ['-T', CERTS], { expectHttps: false });
  try {
    assert.match(fw.log(), /no HTTPS on .*cert\.pem.*no PEM or DER X\.509 certificate/);
    assert.doesNotMatch(fw.log(), /development certificate/, 'a broken installed certificate is not silently replaced');
    assert.equal(get([`${http}/`]).status, 200);
  } finally {
    await fw.stop();
  }
  installCert(dir, 'server.pem', 'other-host.key');
  ({ fw, http } = await start('bad', [], { expectHttps: false }));
  try {
    assert.match(fw.log(), /no HTTPS on .*key\.pem.*does not belong to/);
    assert.equal(get([`${http}/`]).status, 200);
  } finally {
    await fw.stop();
  }
  fs.rmSync(path.join(dir, 'tls', 'key.pem'));
  ({ fw, http } = await start('bad', ['-T', CERTS], { expectHttps: false }));
  try {
    assert.match(fw.log(), /no HTTPS on .*cannot read .*key\.pem/);
  } finally {
    await fw.stop();
  }
});
