// HTTPS against examples/hello (one handler for HTTP and HTTPS) with the development
// certificates of tools/make-certs.sh: curl over TLS 1.3 and 1.2, keep-alive, a 1 MiB
// upload echoed back, openssl s_client resuming from a ticket, and peers that send
// garbage, stop mid-handshake or pile up 200 stalled handshakes while curl is served.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { startServer, curl, tmpdir, waitForLog } from './lib.mjs';

const CERTS = process.env.CERTS || 'build/certs';
const CA = path.join(CERTS, 'ca.pem');
let srv, httpsPort, url;

before(async () => {
  srv = await startServer('hello', ['http://127.0.0.1:0', 'https://127.0.0.1:0', path.join(CERTS, 'server.pem'),
    path.join(CERTS, 'server.key')]);
  await waitForLog(srv, /listening on https:\/\/127\.0\.0\.1:(\d+)/);
  httpsPort = Number(srv.log().match(/listening on https:\/\/127\.0\.0\.1:(\d+)/)[1]);
  url = `https://localhost:${httpsPort}`;
});

after(async () => {
  await srv.stop();
});

// Run a program; its stdin ends at once, or once endWhen() holds (polled). Resolves
// with its exit code and output when it exits.
function run(cmd, args, { endWhen = null, timeoutMs = 10000 } = {}) {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    const poll = endWhen ? setInterval(() => endWhen() && p.stdin.end(), 20) : null;
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('close', (code) => {
      clearTimeout(timer);
      clearInterval(poll);
      resolve({ code, out });
    });
    if (!endWhen) p.stdin.end();
  });
}

// The ClientHello a real client (node) sends, caught by a TCP server that answers nothing
async function clientHello() {
  const server = net.createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const got = new Promise((resolve) => server.on('connection', (s) => s.once('data', (d) => (s.destroy(), resolve(d)))));
  const c = tls.connect({ port: server.address().port, host: '127.0.0.1', servername: 'localhost' });
  c.on('error', () => {});
  const hello = await got;
  c.destroy();
  server.close();
  return hello;
}

function openRaw(port, data) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => {
      if (data) s.write(data);
      resolve(s);
    });
    s.on('error', (e) => (e.code === 'ECONNRESET' ? null : reject(e)));
  });
}

function closedByServer(s, ms = 5000) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    s.on('close', () => (clearTimeout(timer), resolve(true)));
    s.resume();
  });
}

test('one handler answers over HTTP and HTTPS', () => {
  const plain = curl([`http://127.0.0.1:${srv.port}/`]);
  assert.equal(plain.stdout.toString(), 'Hello, world!');
  const r = curl(['--cacert', CA, `${url}/`]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.toString(), 'Hello, world!');
  const byIp = curl(['--cacert', CA, `https://127.0.0.1:${httpsPort}/`]);
  assert.equal(byIp.stdout.toString(), 'Hello, world!', byIp.stderr);
});

test('keep-alive: two URLs in one curl share one TLS connection', () => {
  const r = curl(['--cacert', CA, '-w', ' %{num_connects}\n', `${url}/a`, `${url}/b`]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.toString(), 'Hello, world! 1\nHello, world! 0\n');
});

test('a 1 MiB upload comes back whole (1 MiB each way)', () => {
  const dir = tmpdir('tls');
  const body = crypto.randomBytes(1 << 20);
  fs.writeFileSync(path.join(dir, 'up.bin'), body);
  const r = curl(['--cacert', CA, '--data-binary', `@${path.join(dir, 'up.bin')}`, '-H', 'Content-Type: application/octet-stream',
    `${url}/echo`]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.length, body.length);
  assert.ok(r.stdout.equals(body), 'the echo differs from the upload');
  fs.rmSync(dir, { recursive: true });
});

test('curl --tlsv1.3 and --tls-max 1.2 both work', () => {
  const v13 = curl(['-v', '--cacert', CA, '--tlsv1.3', `${url}/`]);
  assert.equal(v13.code, 0, v13.stderr);
  assert.match(v13.stderr, /SSL connection using TLSv1\.3 \/ TLS_(AES_\d+_GCM_SHA\d+|CHACHA20_POLY1305_SHA256)/);
  const v12 = curl(['-v', '--cacert', CA, '--tls-max', '1.2', `${url}/`]);
  assert.equal(v12.code, 0, v12.stderr);
  assert.match(v12.stderr, /SSL connection using TLSv1\.2 \/ ECDHE-ECDSA-(AES\d+-GCM-SHA\d+|CHACHA20-POLY1305)/);
  assert.equal(v12.stdout.toString(), 'Hello, world!');
});

test('openssl s_client: version and cipher, and a session resumed from its ticket', async () => {
  const dir = tmpdir('tls');
  for (const version of ['-tls1_3', '-tls1_2']) {
    const sess = path.join(dir, `sess${version}`);
    const args = ['s_client', version, '-connect', `127.0.0.1:${httpsPort}`, '-servername', 'localhost', '-CAfile', CA];
    // A TLS 1.3 ticket arrives after the handshake: s_client saves the session then
    const first = await run('openssl', [...args, '-sess_out', sess], { endWhen: () => fs.existsSync(sess) });
    assert.equal(first.code, 0, first.out);
    const minor = version === '-tls1_3' ? 3 : 2;
    assert.match(first.out, new RegExp(`New, TLSv1\\.${minor}, Cipher is \\S+`), first.out);
    assert.match(first.out, /Verify return code: 0 \(ok\)/);
    const second = await run('openssl', [...args, '-sess_in', sess]);
    assert.match(second.out, new RegExp(`Reused, TLSv1\\.${minor}, Cipher is \\S+`), second.out);
  }
  fs.rmSync(dir, { recursive: true });
});

// The server names curl's alert when it reads it before curl's reset arrives (a slow,
// sanitized build may not): test_tls checks the named reason on both sides
test('a client that does not trust our CA: curl says so, the server logs the failed handshake', async () => {
  const r = curl(['--cacert', path.join(CERTS, 'other-ca.pem'), `${url}/`]);
  assert.equal(r.code, 60, r.stderr);
  assert.match(r.stderr, /certificate/);
  await waitForLog(srv, /TLS handshake with 127\.0\.0\.1:\d+: (the peer does not trust our certificate \(unknown CA\)|the peer reset)/);
});

test('random bytes and a truncated ClientHello are closed with a log line; curl is served meanwhile', async () => {
  const junk = await openRaw(httpsPort, crypto.randomBytes(1000));
  assert.ok(await closedByServer(junk), 'the server closed the connection that sent random bytes');
  await waitForLog(srv, /TLS handshake with 127\.0\.0\.1:\d+: the peer does not speak TLS/);
  const hello = await clientHello();
  const cut = await openRaw(httpsPort, hello.subarray(0, hello.length >> 1));
  cut.end();  // Half a ClientHello, then the end of the stream
  assert.ok(await closedByServer(cut));
  await waitForLog(srv, /TLS handshake with 127\.0\.0\.1:\d+: the peer closed the connection/);
  const r = curl(['--cacert', CA, `${url}/`]);
  assert.equal(r.stdout.toString(), 'Hello, world!', r.stderr);
});

// Peers that send nothing or part of a ClientHello hold no handshake slot: curl is
// served without any stalled handshake having to make room
test('200 stalled handshakes and a client stopped mid-handshake do not hold curl back', async () => {
  const hello = await clientHello();
  const stalled = [];
  for (let i = 0; i < 200; i++) stalled.push(await openRaw(httpsPort, i % 2 ? hello.subarray(0, 40) : null));
  const mid = await openRaw(httpsPort, hello);  // A whole ClientHello, then silence
  for (const s of [...stalled, mid]) s.resume();
  const t0 = Date.now();
  const r = curl(['--cacert', CA, '-w', ' %{time_total}', `${url}/`]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout.toString(), /^Hello, world! /);
  console.log(`# curl answered in ${Date.now() - t0} ms beside 201 stalled handshakes`);
  assert.doesNotMatch(srv.log(), /closed \d+ stalled/, 'no handshake slot was taken by a peer without a whole hello');
  for (const s of [...stalled, mid]) s.destroy();
});

// Peers that each send a whole ClientHello and stall fill the handshake slots (64 on a
// host): curl waits until the oldest have stalled MG_TLS_HANDSHAKE_STALL_MS and make room
test('200 peers stalled after a whole ClientHello: curl gets through once they are closed as stalled', async () => {
  const hello = await clientHello();
  const stalled = [];
  for (let i = 0; i < 200; i++) stalled.push(await openRaw(httpsPort, hello));
  for (const s of stalled) s.resume();
  const t0 = Date.now();
  const r = curl(['--cacert', CA, '-w', ' %{time_total}', `${url}/`]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout.toString(), /^Hello, world! /);
  console.log(`# curl answered in ${Date.now() - t0} ms beside 200 handshakes stalled after their hello`);
  await waitForLog(srv, /TLS handshakes in progress \(MG_TLS_MAX_HANDSHAKES\): closed \d+ stalled/);
  for (const s of stalled) s.destroy();
});

// ---------------------------------------------------------------------------
// The client side: examples/http-client --ca FILE against openssl s_server and hello

// openssl s_server -www (a status page over HTTP/1.0) on an ephemeral loopback port
// with the given certificate; resolves once it says where it accepts
function startSServer(certName) {
  const args = ['s_server', '-accept', '127.0.0.1:0', '-www', '-cert', path.join(CERTS, `${certName}.pem`),
    '-key', path.join(CERTS, `${certName}.key`)];
  const p = spawn('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (p.kill(), reject(new Error(`openssl s_server did not start:\n${out}`))), 10000);
    const onData = (d) => {
      out += d;
      const m = out.match(/ACCEPT 127\.0\.0\.1:(\d+)/);
      if (!m) return;
      clearTimeout(timer);
      resolve({ port: Number(m[1]), stop: () => p.kill() });
    };
    p.stdout.on('data', onData);
    p.stderr.on('data', onData);
  });
}

const httpClient = (...args) => run(path.join(process.env.BIN || 'build/examples', 'http-client'), args);

test('http-client --ca fetches from openssl s_server, checking the host name of the URL', async () => {
  const s = await startSServer('server');
  try {
    const r = await httpClient('--ca', CA, `https://localhost:${s.port}/`);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /s_server/, 'the status page of openssl s_server');
    const byIp = await httpClient('--ca', CA, `https://127.0.0.1:${s.port}/`);
    assert.equal(byIp.code, 0, byIp.out);
  } finally {
    s.stop();
  }
});

test('http-client --ca fetches from our own server (hello over HTTPS)', async () => {
  const r = await httpClient('--ca', CA, `${url}/`);
  assert.equal(r.code, 0, r.out);
  assert.equal(r.out, 'Hello, world!');
});

test('http-client names why it refuses a server: host name, unknown CA, expired, no --ca', async () => {
  const cases = [
    ['other-host', [CA], /http-client: TLS handshake with 127\.0\.0\.1:\d+: host name mismatch: the certificate is not for localhost/],
    ['untrusted', [CA], /http-client: TLS handshake with 127\.0\.0\.1:\d+: certificate not signed by a trusted CA \(unknown CA\)/],
    ['expired', [CA], /http-client: TLS handshake with 127\.0\.0\.1:\d+: certificate expired/],
    ['server', [], /http-client: TLS handshake with 127\.0\.0\.1:\d+: no CA to verify the peer's certificate with \(set mg_tls_opts\.ca\)/],
  ];
  for (const [cert, ca, reason] of cases) {
    const s = await startSServer(cert);
    try {
      const r = await httpClient(...(ca.length ? ['--ca', ...ca] : []), `https://localhost:${s.port}/`);
      assert.equal(r.code, 1, `${cert}: ${r.out}`);
      assert.match(r.out, reason, `${cert}: ${r.out}`);
    } finally {
      s.stop();
    }
  }
});

test('http-client: a CA file that cannot be read is a usage error naming it', async () => {
  const r = await httpClient('--ca', '/nonexistent/ca.pem', `${url}/`);
  assert.equal(r.code, 2, r.out);
  assert.match(r.out, /http-client: cannot read the CA file \/nonexistent\/ca\.pem/);
});
