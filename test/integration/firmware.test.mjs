// The firmware serving the packed dashboard, against curl: gzip and identity
// responses carry the same bytes, validators and cache headers are right,
// only / and /index.html are the page (it routes by hash), /api/ speaks JSON, traversal finds nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { startServer, curl, raw, parseResponses, tmpdir, SANITIZED } from './lib.mjs';

const FIRMWARE = process.env.BIN ? path.join(process.env.BIN, '..', 'firmware', 'firmware') : 'build/firmware/firmware';
const DIST = 'web/dist';
let fw, url, data, assets, session;

before(async () => {
  data = tmpdir('fw');
  fw = await startServer(FIRMWARE, ['-l', 'http://127.0.0.1:0', '-d', path.join(data, 'd')]);
  url = `http://127.0.0.1:${fw.port}`;
  assets = fs.readdirSync(path.join(DIST, 'assets')).map((f) => `/assets/${f}`);
  // /api/ needs a session (test/integration/auth.test.mjs covers how): set up the admin
  const setup = curl(['-i', '-H', 'Content-Type: application/json', '-d', '{"password":"firmware-test"}', `${url}/api/auth/setup`]);
  session = parseResponses(setup.stdout)[0].headers['set-cookie'].split(';')[0];
});

after(async () => {
  await fw.stop();
  fs.rmSync(data, { recursive: true, force: true });
});

const head = (args) => parseResponses(curl(['-i', ...args]).stdout)[0];

test('creates its data directory and logs where it listens', () => {
  assert.ok(fs.statSync(path.join(data, 'd')).isDirectory());
  assert.match(fw.log(), /listening on http:\/\/127\.0\.0\.1:\d+/);
});

test('GET /api/info: name, version, build time, uptime', () => {
  const r = curl(['-i', '-b', session, `${url}/api/info`]);
  const [res] = parseResponses(r.stdout);
  assert.equal(res.status, 200);
  assert.match(res.headers['content-type'], /application\/json/);
  const info = JSON.parse(res.body.toString());
  assert.match(info.name, /^meerkat-/);
  assert.match(info.version, /^\d+\.\d+\.\d+/);
  assert.match(info.build, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(typeof info.uptime, 'number');
});

test('unknown /api/ paths answer a JSON 404, wrong methods a JSON 405', () => {
  for (const p of ['/api/nope', '/api/', '/api', '/api/info/extra']) {
    const res = head(['-b', session, `${url}${p}`]);
    assert.equal(res.status, 404, p);
    assert.match(res.headers['content-type'], /application\/json/);
    assert.equal(JSON.parse(res.body.toString()).error, 'no such endpoint');
  }
  const res = head(['-b', session, '-H', 'X-Requested-With: meerkat', '-X', 'DELETE', `${url}/api/info`]);
  assert.equal(res.status, 405);
  assert.equal(res.headers['allow'], 'GET, HEAD');
  assert.equal(JSON.parse(res.body.toString()).error, 'method not allowed');
});

// The 404 echoes the path: bytes that are not UTF-8 come back as U+FFFD, never raw
test('a JSON 404 for a path of bytes that are not UTF-8 is valid UTF-8 and JSON', async () => {
  const cases = [
    ['%FF%FE', '/api/%FF%FE'],
    [Buffer.from([0xff, 0xfe]), '/api/\ufffd\ufffd'],
    [Buffer.from([0xc0, 0xaf, 0xed, 0xa0, 0x80]), '/api/' + '\ufffd'.repeat(5)],  // Overlong '/', a surrogate
    [Buffer.from([0xc3, 0xa9, 0xe2, 0x82]), '/api/\u00e9\ufffd\ufffd'],  // Valid, then a truncated sequence
  ];
  for (const [tail, want] of cases) {
    const req = Buffer.concat([Buffer.from('GET /api/'), Buffer.from(tail),
      Buffer.from(` HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ${session}\r\nConnection: close\r\n\r\n`)]);
    const [res] = parseResponses((await raw(fw.port, req)).data);
    assert.equal(res.status, 404, want);
    const text = new TextDecoder('utf-8', { fatal: true }).decode(res.body);  // Throws on invalid UTF-8
    assert.deepEqual(JSON.parse(text), { error: 'no such endpoint', path: want });
  }
});

test('every packed file: gzip and identity decode to the bytes in web/dist', () => {
  for (const p of ['/index.html', ...assets]) {
    const original = fs.readFileSync(path.join(DIST, p));
    const plain = curl([`${url}${p}`]);
    assert.ok(plain.stdout.equals(original), `identity ${p}`);
    const gz = curl(['--compressed', '-D', '-', '-o', '/dev/null', `${url}${p}`]).stdout.toString();
    const decoded = curl(['--compressed', `${url}${p}`]).stdout;
    assert.ok(decoded.equals(original), `gzip ${p}`);
    if (original.length > 200) assert.match(gz, /Content-Encoding: gzip/i, p);
    assert.match(gz, /Vary: Accept-Encoding/i, p);
  }
});

test('a client that refuses gzip gets identity; one that accepts it gets fewer bytes', () => {
  const js = assets.find((a) => a.endsWith('.js'));
  const id = head(['-H', 'Accept-Encoding: gzip;q=0, identity', `${url}${js}`]);
  assert.equal(id.headers['content-encoding'], undefined);
  const gz = head(['-H', 'Accept-Encoding: gzip', `${url}${js}`]);
  assert.equal(gz.headers['content-encoding'], 'gzip');
  assert.ok(Number(gz.headers['content-length']) < Number(id.headers['content-length']));
  assert.notEqual(gz.headers.etag, id.headers.etag, 'each encoding has its own ETag');
});

test('ETag from the table: If-None-Match gives 304 for either encoding', () => {
  for (const enc of ['gzip', 'identity']) {
    const first = head(['-H', `Accept-Encoding: ${enc}`, `${url}/index.html`]);
    assert.match(first.headers.etag, /^"[0-9a-f]+(-gz)?"$/);
    const again = head(['-H', `Accept-Encoding: ${enc}`, '-H', `If-None-Match: ${first.headers.etag}`, `${url}/index.html`]);
    assert.equal(again.status, 304, enc);
    assert.equal(again.body.length, 0);
  }
});

test('cache headers: hashed assets immutable for a year, index.html revalidated', () => {
  for (const a of assets) {
    assert.equal(head([`${url}${a}`]).headers['cache-control'], 'public, max-age=31536000, immutable', a);
  }
  assert.equal(head([`${url}/`]).headers['cache-control'], 'no-cache');
  assert.equal(head([`${url}/index.html`]).headers['cache-control'], 'no-cache');
});

test('the dashboard routes by hash: only / and /index.html give the page, other paths 404', () => {
  const index = fs.readFileSync(path.join(DIST, 'index.html'));
  for (const p of ['/', '/index.html']) {
    const res = head([`${url}${p}`]);
    assert.equal(res.status, 200, p);
    assert.ok(res.body.equals(index), p);
  }
  // A nested path served index.html once, whose relative asset links then 404ed: a blank page
  for (const p of ['/settings', '/foo/bar', '/firmware/update', '/overview/']) {
    assert.equal(head([`${url}${p}`]).status, 404, p);
  }
  assert.equal(head([`${url}/missing.js`]).status, 404);
  assert.equal(head([`${url}/assets/nothing.css`]).status, 404);
});

const traversals = ['/../index.html', '/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2fetc%2fpasswd', '/assets/..\\..\\x.js',
  '/%00', '/index.html%00.js', '//../../etc/passwd.txt', '/assets/%2e%2e/%2e%2e/%2e%2e/x.css'];
for (const p of traversals) {
  test(`traversal against the packed fs finds nothing: ${p}`, async () => {
    const { data: d } = await raw(fw.port, `GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, { idleMs: 500 });
    assert.match(d.toString('latin1'), /^HTTP\/1.1 (400|404) /, p);
  });
}

// The review's attack: peers that pipeline hundreds of GETs for the largest asset,
// then send junk and never read. Before, each one grew the firmware by up to 3 MiB of
// input and every queued answer (RSS 1.5 -> 64.6 MB for 20 of them).
test('pipelining peers that never read hold little memory and stall nobody', { skip: SANITIZED && 'RSS means nothing under ASan' }, async () => {
  const rss = () => Number(fs.readFileSync(`/proc/${fw.proc.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]);
  const big = assets.map((a) => [a, fs.statSync(path.join(DIST, a)).size]).sort((x, y) => y[1] - x[1])[0][0];
  const req = `GET ${big} HTTP/1.1\r\nHost: x\r\nAccept-Encoding: identity\r\n\r\n`.repeat(400);
  const junk = Buffer.alloc(1 << 20, 'j');
  const before = rss();
  const peers = await Promise.all(Array.from({ length: 20 }, () => new Promise((resolve) => {
    const s = net.connect(fw.port, '127.0.0.1', () => {
      s.pause();  // Never reads
      s.write(req);
      s.write(junk);
      resolve(s);
    });
    s.on('error', () => {});
  })));
  await new Promise((r) => setTimeout(r, 1500));
  const during = rss();
  const t0 = Date.now();
  const res = head(['--max-time', '5', '-b', session, `${url}/api/info`]);
  const waited = Date.now() - t0;
  for (const s of peers) s.destroy();
  assert.equal(res.status, 200, 'another client is served meanwhile');
  assert.ok(during - before < 16 * 1024, `RSS grew by ${during - before} KiB for 20 peers (answered in ${waited} ms)`);
});

test('SIGINT stops the firmware cleanly', async () => {
  const proc = spawn(FIRMWARE, ['-l', 'http://127.0.0.1:0', '-d', path.join(data, 'd2')], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 300));
  proc.kill('SIGINT');
  const code = await new Promise((r) => proc.on('exit', (c) => r(c)));
  assert.equal(code, 0);
});
