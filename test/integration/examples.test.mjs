// The small examples against real peers: hello (HTTPS without a certificate fails alone),
// echo over TCP, rest-server's bounds on the numbers it adds, and http-client
// fetching from our server, resolving a name through dnsmasq, and failing clearly
// when it cannot.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import { BIN, startServer, curl, tmpdir, have, waitForLog } from './lib.mjs';

// HTTPS with certificates: tls.test.mjs
test('hello: answers 13 bytes over HTTP; HTTPS without a certificate is refused with a log line', async () => {
  const srv = await startServer('hello', ['http://127.0.0.1:0', 'https://127.0.0.1:0']);
  try {
    const r = curl(['-i', `http://127.0.0.1:${srv.port}/anything`]);
    assert.match(r.stdout.toString(), /^HTTP\/1.1 200 OK\r\n/);
    assert.match(r.stdout.toString(), /\r\n\r\nHello, world!$/);
    await waitForLog(srv, /no HTTPS: it needs a certificate and key/);
  } finally {
    await srv.stop();
  }
});

test('echo: bytes come back unchanged, also in bulk', async () => {
  const srv = await startServer('echo', ['tcp://127.0.0.1:0']);
  try {
    const payload = crypto.randomBytes(2 * 1024 * 1024);
    const got = await new Promise((resolve, reject) => {
      const chunks = [];
      let n = 0;
      const s = net.connect(srv.port, '127.0.0.1', () => s.write(payload));
      s.on('data', (d) => {
        chunks.push(d);
        n += d.length;
        if (n >= payload.length) s.end();
      });
      s.on('close', () => resolve(Buffer.concat(chunks)));
      s.on('error', reject);
    });
    assert.ok(got.equals(payload), `echoed ${got.length} of ${payload.length} bytes`);
  } finally {
    await srv.stop();
  }
});

test('echo: a peer that sends without reading does not make the server grow', async (t) => {
  if (process.env.SANITIZED) return t.skip('RSS is not meaningful under ASan');
  const srv = await startServer('echo', ['tcp://127.0.0.1:0']);
  const rss = () => Number(fs.readFileSync(`/proc/${srv.proc.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]);
  try {
    const before = rss();
    const s = net.connect(srv.port, '127.0.0.1');
    s.pause();  // Never read the echo
    const block = Buffer.alloc(256 * 1024, 7);
    const end = Date.now() + 1500;
    await new Promise((resolve) => {
      const pump = () => {
        while (Date.now() < end && s.write(block)) {}
        if (Date.now() >= end) return resolve();
        s.once('drain', pump);
        setTimeout(resolve, end - Date.now());
      };
      s.on('connect', pump);
    });
    const grown = rss() - before;
    s.destroy();
    assert.ok(grown < 8 * 1024, `server grew by ${grown} KiB while a peer flooded it`);
    // And it still serves others
    const ok = await new Promise((resolve) => {
      const c = net.connect(srv.port, '127.0.0.1', () => c.write('ping'));
      c.on('data', (d) => { resolve(d.toString()); c.destroy(); });
    });
    assert.equal(ok, 'ping');
  } finally {
    await srv.stop();
  }
});

test('rest-server: /api/sum answers 400 to numbers it cannot add, never overflows', async () => {
  const srv = await startServer('rest-server', ['http://127.0.0.1:0']);
  const sum = (body) => {
    const r = curl(['-w', '\n%{http_code}', '-d', body, `http://127.0.0.1:${srv.port}/api/sum`]);
    const [text, status] = r.stdout.toString().split('\n').filter((l) => l !== '');
    return { status: Number(status), text };
  };
  try {
    const max = 9223372036854775807n;  // LONG_MAX on the 64-bit hosts the suite runs on
    assert.deepEqual(sum(`a=${max - 1n}&b=1`), { status: 200, text: `{"sum":${max}}` });
    assert.deepEqual(sum(`a=-${max}&b=-1`), { status: 200, text: `{"sum":-${max + 1n}}` });
    for (const body of [`a=${max}&b=1`, `a=-${max}&b=-2`, `a=${max}0&b=0`, 'a=1e3&b=1', 'a=&b=1', 'a=x&b=1']) {
      const r = sum(body);
      assert.equal(r.status, 400, `${body}: ${r.text}`);
      assert.match(JSON.parse(r.text).error, /a and b|range/, body);
    }
  } finally {
    await srv.stop();
  }
});

test('http-server: serves files over HTTPS with -c CERT -k KEY; an https listener without them is refused', async () => {
  const certs = process.env.CERTS || 'build/certs';
  const dir = tmpdir('https-files');
  fs.writeFileSync(path.join(dir, 'file.bin'), crypto.randomBytes(1024));
  const srv = await startServer('http-server', ['-d', dir, '-l', 'http://127.0.0.1:0', '-l', 'https://127.0.0.1:0',
    '-c', path.join(certs, 'server.pem'), '-k', path.join(certs, 'server.key')]);
  try {
    await waitForLog(srv, /on https:\/\/127\.0\.0\.1:\d+/);
    const port = Number(srv.log().match(/on https:\/\/127\.0\.0\.1:(\d+)/)[1]);
    const r = curl(['--cacert', path.join(certs, 'ca.pem'), `https://localhost:${port}/file.bin`]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout, fs.readFileSync(path.join(dir, 'file.bin')));
    const plain = curl([`http://127.0.0.1:${srv.port}/file.bin`]);
    assert.deepEqual(plain.stdout, fs.readFileSync(path.join(dir, 'file.bin')));
  } finally {
    await srv.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const bare = spawnSync(path.join(BIN, 'http-server'), ['-l', 'https://127.0.0.1:0'], { timeout: 5000 });
  assert.equal(bare.status, 2);
  assert.match(bare.stderr.toString(), /needs a certificate and key: -c CERT\.pem -k KEY\.pem/);
});

function client(args) {
  const r = spawnSync(path.join(BIN, 'http-client'), args, { timeout: 15000 });
  return { code: r.status, signal: r.signal, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

let www, server;
before(async () => {
  www = tmpdir('client');
  fs.writeFileSync(path.join(www, 'data.txt'), 'fetched by meerkat\n');
  server = await startServer('http-server', ['-d', www, '-l', 'http://127.0.0.1:0']);
});
after(async () => {
  await server.stop();
  fs.rmSync(www, { recursive: true, force: true });
});

test('http-client: prints the body and exits 0', () => {
  const r = client([`http://127.0.0.1:${server.port}/data.txt`]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'fetched by meerkat\n');
});

test('http-client: "localhost" resolves without DNS', () => {
  const r = client([`http://localhost:${server.port}/data.txt`]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'fetched by meerkat\n');
});

test('http-client: 404 exits 1 and says so', () => {
  const r = client([`http://127.0.0.1:${server.port}/missing`]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /HTTP status 404/);
});

test('http-client: refused connection exits 1 with the reason', () => {
  const r = client(['http://127.0.0.1:1/']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Connection refused/);
});

test('http-client: malformed URL exits non-zero', () => {
  assert.notEqual(client(['http://[::1/']).code, 0);
});

// dnsmasq as the nameserver, on loopback and a free port, answering for *.meerkat.test only
async function startDnsmasq() {
  const port = await new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
  const proc = spawn('dnsmasq', ['--keep-in-foreground', '--no-daemon', '--no-resolv', '--no-hosts', '--no-poll',
    '--listen-address=127.0.0.1', '--bind-interfaces', `--port=${port}`, '--user=root',
    '--address=/device.meerkat.test/127.0.0.1', '--address=/#/', '--log-facility=-', '--pid-file='], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stderr.on('data', (d) => (log += d));
  await new Promise((r) => setTimeout(r, 300));
  if (proc.exitCode !== null) throw new Error(`dnsmasq failed: ${log}`);
  return { port, stop: () => proc.kill('SIGTERM') };
}

test('http-client: resolves a name through a real nameserver (dnsmasq)', async (t) => {
  if (!have('dnsmasq')) return t.skip('dnsmasq not installed');
  const dns = await startDnsmasq();
  try {
    const ns = `udp://127.0.0.1:${dns.port}`;
    const ok = client(['-n', ns, `http://device.meerkat.test:${server.port}/data.txt`]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, 'fetched by meerkat\n');
    const missing = client(['-n', ns, `http://nowhere.meerkat.test:${server.port}/`]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /DNS lookup of nowhere\.meerkat\.test failed/);
  } finally {
    dns.stop();
  }
});

test('http-client: a host name as the nameserver is a clear error, not a crash', () => {
  const r = client(['-n', 'udp://ns.invalid:53', 'http://x.invalid/']);
  assert.equal(r.signal, null, `killed by ${r.signal}`);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /http-client: DNS error\n/);  // Mongoose 7.22's words; the log says why
});

test('http-client: a nameserver that never answers times out with a clear message', async () => {
  const silent = await new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.bind(0, '127.0.0.1', () => resolve(s));
  });
  try {
    const start = Date.now();
    const r = client(['-n', `udp://127.0.0.1:${silent.address().port}`, 'http://silent.meerkat.test/']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /http-client: DNS timeout\n/);
    assert.ok(Date.now() - start < 8000);
  } finally {
    silent.close();
  }
});
