// examples/http-server against curl and raw sockets: files, keep-alive,
// pipelining, bodies, ranges, conditional requests, and every bad-input case
// followed by proof that the server still serves. With MG_TEST_TLS=1 all of it over
// HTTPS (lib.mjs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { startServer, curl, raw, parseResponses, tmpdir, listenArgs, connectTo, HTTP } from './lib.mjs';

const top = tmpdir('www');
const root = path.join(top, 'www');
const secret = 'TOP-SECRET-' + crypto.randomBytes(8).toString('hex');
const big = crypto.randomBytes(300 * 1024);  // Larger than one streaming piece
let srv, url;
const condTime = new Date('2020-01-02T03:04:05Z');  // cond.txt's mtime

before(async () => {
  fs.mkdirSync(path.join(root, 'sub dir'), { recursive: true });
  fs.mkdirSync(path.join(root, 'docs'), { recursive: true });
  fs.writeFileSync(path.join(root, 'index.html'), '<h1>home</h1>\n');
  fs.writeFileSync(path.join(root, 'hello.txt'), 'hello, file\n');
  fs.writeFileSync(path.join(root, 'docs', 'index.html'), '<p>docs</p>\n');
  fs.writeFileSync(path.join(root, 'sub dir', 'a<b>.txt'), 'x');
  fs.writeFileSync(path.join(root, 'big.bin'), big);
  fs.writeFileSync(path.join(root, '404.html'), '<p>custom not found</p>\n');
  fs.writeFileSync(path.join(top, 'secret.txt'), secret);
  fs.writeFileSync(path.join(root, 'cond.txt'), 'conditional body\n');
  fs.utimesSync(path.join(root, 'cond.txt'), condTime, condTime);
  fs.mkdirSync(path.join(root, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(root, 'assets', 'app-3f2a9c1b.js'), 'export {};\n');
  fs.writeFileSync(path.join(root, 'swagger-initializer.js'), 'window.onload = () => {};\n');
  fs.writeFileSync(path.join(root, 'zipped.txt'), 'plain text\n');
  fs.writeFileSync(path.join(root, 'zipped.txt.gz'), zlib.gzipSync('plain text\n'));
  srv = await startServer('http-server', ['-d', root, ...listenArgs(), '-L', '-4', path.join(root, '404.html'), '-T', '1000']);
  url = `${HTTP}://127.0.0.1:${srv.port}`;
});

after(async () => {
  await srv.stop();
  fs.rmSync(top, { recursive: true, force: true });
});

// After every bad input, a well-formed request on a new connection still works
function stillServes() {
  const r = curl([`${url}/hello.txt`]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.toString(), 'hello, file\n');
}

test('serves a file with type, length, ETag and Last-Modified', () => {
  const r = curl(['-i', `${url}/hello.txt`]);
  const [res] = parseResponses(r.stdout);
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), 'hello, file\n');
  assert.match(res.headers['content-type'], /^text\/plain/);
  assert.equal(res.headers['content-length'], '12');
  assert.match(res.headers['etag'], /^"[0-9a-f]+\.[0-9a-f]+"$/);
  assert.match(res.headers['last-modified'], /^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$/);
  assert.equal(new Date(res.headers['last-modified']).getTime() / 1000,
    Math.floor(fs.statSync(path.join(root, 'hello.txt')).mtimeMs / 1000));
});

test('every answer carries a Date in IMF-fixdate, close to now (RFC 9110 6.6.1)', () => {
  for (const p of ['/hello.txt', '/no-such-file', '/api/echo']) {
    const [res] = parseResponses(curl(['-i', `${url}${p}`]).stdout);
    const date = res.headers['date'];
    assert.match(date || '', /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$/, `${p}: Date ${date}`);
    assert.ok(Math.abs(new Date(date).getTime() - Date.now()) < 5000, `${p}: Date ${date} is not now`);
  }
});

test('streams a file larger than the send queue intact', () => {
  const r = curl([`${url}/big.bin`]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.stdout.equals(big), `got ${r.stdout.length} bytes`);
});

test('index.html for a directory, 301 without the slash, listing otherwise', () => {
  assert.equal(curl([`${url}/`]).stdout.toString(), '<h1>home</h1>\n');
  assert.equal(curl([`${url}/docs/`]).stdout.toString(), '<p>docs</p>\n');
  const redirect = parseResponses(curl(['-i', `${url}/docs?x=1`]).stdout)[0];
  assert.equal(redirect.status, 301);
  assert.equal(redirect.headers['location'], '/docs/?x=1');
  const list = curl([`${url}/sub%20dir/`]).stdout.toString();
  assert.match(list, /a&lt;b&gt;\.txt/);
  assert.match(list, /href="a%3Cb%3E\.txt"/);
});

test('custom 404 page with status 404', () => {
  const [res] = parseResponses(curl(['-i', `${url}/nope.txt`]).stdout);
  assert.equal(res.status, 404);
  assert.equal(res.body.toString(), '<p>custom not found</p>\n');
});

test('error answers from serve_dir say their type: 404 without a page, 400 for a bad path', async () => {
  const other = await startServer('http-server', ['-d', root, ...listenArgs()]);
  try {
    const [nf] = parseResponses(curl(['-i', `${HTTP}://127.0.0.1:${other.port}/nope.txt`]).stdout);
    assert.equal(nf.status, 404);
    assert.equal(nf.headers['content-type'], 'text/plain; charset=utf-8');
    const { data } = await raw(other.port, 'GET /a%00b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { idleMs: 500 });
    const [bad] = parseResponses(data);
    assert.equal(bad.status, 400);
    assert.equal(bad.headers['content-type'], 'text/plain; charset=utf-8');
  } finally {
    await other.stop();
  }
});

test('keep-alive: several requests on one connection', () => {
  const r = curl(['-v', `${url}/hello.txt`, `${url}/index.html`, `${url}/hello.txt`]);
  assert.equal(r.code, 0);
  assert.equal(r.stdout.toString(), 'hello, file\n<h1>home</h1>\nhello, file\n');
  assert.equal((r.stderr.match(/Re-using existing connection/g) || []).length, 2, r.stderr);
});

test('pipelining: three requests in one write, three responses in order', async () => {
  const req = (p) => `GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`;
  const { data } = await raw(srv.port, req('/hello.txt') + req('/big.bin') + req('/index.html'), { idleMs: 800 });
  const res = parseResponses(data);
  assert.deepEqual(res.map((r) => r.status), [200, 200, 200]);
  assert.equal(res[0].body.toString(), 'hello, file\n');
  assert.ok(res[1].body.equals(big));
  assert.equal(res[2].body.toString(), '<h1>home</h1>\n');
});

test('HTTP/1.0 client gets its answer and the connection closes', async () => {
  const { data, closed } = await raw(srv.port, 'GET /hello.txt HTTP/1.0\r\n\r\n');
  assert.equal(parseResponses(data)[0].body.toString(), 'hello, file\n');
  assert.ok(closed);
  const r = curl(['--http1.0', '-sv', `${url}/hello.txt`]);
  assert.equal(r.stdout.toString(), 'hello, file\n');
});

test('Connection: close is honoured', async () => {
  const { closed } = await raw(srv.port, 'GET /hello.txt HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
  assert.ok(closed);
});

test('Connection lists and lines are honoured and the decision is echoed', async () => {
  for (const hdrs of ['Connection: TE, close\r\nTE: trailers', 'Connection: TE\r\nConnection: close']) {
    const { data, closed } = await raw(srv.port,
      `GET /hello.txt HTTP/1.1\r\nHost: x\r\n${hdrs}\r\n\r\nGET /index.html HTTP/1.1\r\nHost: x\r\n\r\n`);
    const res = parseResponses(data);
    assert.ok(closed, hdrs);
    assert.equal(res.length, 1, hdrs);
    assert.equal(res[0].headers['connection'], 'close');
  }
  const v = curl(['--http1.0', '-sv', '-H', 'Connection: keep-alive', `${url}/hello.txt`, `${url}/hello.txt`]);
  assert.equal(v.stdout.toString(), 'hello, file\nhello, file\n');
  assert.match(v.stderr.toString(), /< Connection: keep-alive/);
  assert.match(v.stderr.toString(), /Re-using existing connection/);
  const c = curl(['--http1.0', '-sv', `${url}/hello.txt`]);
  assert.match(c.stderr.toString(), /< Connection: close/);
});

test('ab -k: HTTP/1.0 keep-alive requests all complete on reused connections', () => {
  const r = spawnSync('ab', ['-k', '-q', '-n', '400', '-c', '4', '-s', '5', `${url}/hello.txt`], { timeout: 20000 });
  const out = r.stdout.toString();
  assert.equal(r.status, 0, out + r.stderr);
  assert.match(out, /Complete requests:\s+400\b/);
  assert.match(out, /Failed requests:\s+0\b/);
  assert.match(out, /Keep-Alive requests:\s+400\b/);
});

test('static files: other methods get 405 with Allow, OPTIONS 204, unknown methods 501', () => {
  for (const m of ['POST', 'PUT', 'DELETE', 'PATCH']) {
    const [res] = parseResponses(curl(['-si', '-X', m, '--data', 'x', `${url}/hello.txt`]).stdout);
    assert.equal(res.status, 405, m);
    assert.equal(res.headers['allow'], 'GET, HEAD, OPTIONS', m);
    assert.doesNotMatch(res.body.toString(), /hello, file/, m);
  }
  const [opt] = parseResponses(curl(['-si', '-X', 'OPTIONS', `${url}/hello.txt`]).stdout);
  assert.equal(opt.status, 204);
  assert.equal(opt.headers['allow'], 'GET, HEAD, OPTIONS');
  const [unk] = parseResponses(curl(['-si', '-X', 'FROB', `${url}/hello.txt`]).stdout);
  assert.equal(unk.status, 501);
  stillServes();
});

test('long paths are served up to MG_PATH_MAX, longer targets get 414', () => {
  const dirs = Array.from({ length: 6 }, (_, i) => `${i}`.repeat(200));  // 1200+ bytes, 200 per name
  fs.mkdirSync(path.join(root, ...dirs), { recursive: true });
  fs.writeFileSync(path.join(root, ...dirs, 'long.txt'), 'long path\n');
  const ok = curl(['-si', `${url}/${dirs.join('/')}/long.txt`]);
  const [res] = parseResponses(ok.stdout);
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), 'long path\n');
  const [over] = parseResponses(curl(['-si', `${url}/${'x'.repeat(6000)}`]).stdout);
  assert.equal(over.status, 414);
  stillServes();
});

test('HEAD: headers with the length, no body', async () => {
  const { data } = await raw(srv.port, 'HEAD /hello.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /index.html HTTP/1.1\r\nHost: h\r\n\r\n', { idleMs: 500 });
  const text = data.toString();
  assert.match(text, /^HTTP\/1.1 200 OK\r\n/);
  assert.match(text, /Content-Length: 12\r\n/);
  // The next response follows the head directly: no body was sent for HEAD
  assert.match(text, /\r\n\r\nHTTP\/1.1 200 OK\r\n/);
});

test('ETag + If-None-Match gives 304, a stale one gives 200', () => {
  const [first] = parseResponses(curl(['-i', `${url}/hello.txt`]).stdout);
  const [again] = parseResponses(curl(['-i', '-H', `If-None-Match: ${first.headers.etag}`, `${url}/hello.txt`]).stdout);
  assert.equal(again.status, 304);
  assert.equal(again.body.length, 0);
  const [stale] = parseResponses(curl(['-i', '-H', 'If-None-Match: "0.0"', `${url}/hello.txt`]).stdout);
  assert.equal(stale.status, 200);
});

test('a 304 carries the validators and caching headers of the 200, but no Content-Length', () => {
  const [first] = parseResponses(curl(['-i', `${url}/cond.txt`]).stdout);
  const [again] = parseResponses(curl(['-i', '-H', `If-None-Match: ${first.headers.etag}`, `${url}/cond.txt`]).stdout);
  assert.equal(again.status, 304);
  assert.equal(again.headers['content-length'], undefined, 'RFC 9110 8.6: it would describe the selected representation');
  assert.equal(again.headers.etag, first.headers.etag);
  assert.equal(again.headers['last-modified'], first.headers['last-modified']);
});

// RFC 9110 13.2.2: If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since, then If-Range
test('conditional requests are evaluated in the order of RFC 9110 13.2.2', () => {
  const get = (...hdrs) => {
    const args = ['-i'];
    for (const h of hdrs) args.push('-H', h);
    const [r] = parseResponses(curl([...args, `${url}/cond.txt`]).stdout);
    return r;
  };
  const etag = get().headers.etag;
  const lm = 'Thu, 02 Jan 2020 03:04:05 GMT';
  assert.equal(get().headers['last-modified'], lm);
  const before = 'Thu, 02 Jan 2020 03:04:04 GMT', after = 'Fri, 03 Jan 2020 00:00:00 GMT';
  // If-Match: strong comparison; a failed one is 412
  assert.equal(get(`If-Match: ${etag}`).status, 200);
  assert.equal(get('If-Match: "x", *').status, 200);
  assert.equal(get('If-Match: "0.0"').status, 412);
  assert.equal(get(`If-Match: W/${etag}`).status, 412, 'weak tags never match strongly');
  // If-Unmodified-Since: 412 when modified after the date; ignored under If-Match
  assert.equal(get(`If-Unmodified-Since: ${lm}`).status, 200);
  assert.equal(get(`If-Unmodified-Since: ${after}`).status, 200);
  assert.equal(get(`If-Unmodified-Since: ${before}`).status, 412);
  assert.equal(get(`If-Match: ${etag}`, `If-Unmodified-Since: ${before}`).status, 200);
  assert.equal(get('If-Unmodified-Since: not a date').status, 200);
  // If-Modified-Since: 304 unless modified after it (wget -N); ignored under If-None-Match
  assert.equal(get(`If-Modified-Since: ${lm}`).status, 304);
  assert.equal(get(`If-Modified-Since: ${after}`).status, 304);
  assert.equal(get(`If-Modified-Since: ${before}`).status, 200);
  assert.equal(get('If-Modified-Since: Thursday, 02-Jan-20 03:04:05 GMT').status, 304, 'RFC 850');
  assert.equal(get('If-Modified-Since: Thu Jan  2 03:04:05 2020').status, 304, 'asctime');
  assert.equal(get('If-Modified-Since: yesterday').status, 200);
  assert.equal(get('If-None-Match: "0.0"', `If-Modified-Since: ${lm}`).status, 200);
  assert.equal(get(`If-None-Match: ${etag}`, `If-Modified-Since: ${before}`).status, 304);
  // If-Match fails first even when If-None-Match would give 304
  assert.equal(get('If-Match: "0.0"', `If-None-Match: ${etag}`).status, 412);
  // If-Range: a current validator gives the range, a stale one the whole file with 200
  let r = get('Range: bytes=0-3', `If-Range: ${etag}`);
  assert.equal(r.status, 206);
  assert.equal(r.body.toString(), 'cond');
  r = get('Range: bytes=0-3', 'If-Range: "0.0"');
  assert.equal(r.status, 200);
  assert.equal(r.body.toString(), 'conditional body\n');
  assert.equal(get('Range: bytes=0-3', `If-Range: W/${etag}`).status, 200);
  assert.equal(get('Range: bytes=0-3', `If-Range: ${lm}`).status, 206);
  assert.equal(get('Range: bytes=0-3', `If-Range: ${after}`).status, 200, 'a date must match exactly');
  assert.equal(get('Range: bytes=50-', 'If-Range: "0.0"').status, 200, 'a stale If-Range beats a 416');
});

test('HEAD with a matching If-None-Match gets 304', async () => {
  const [first] = parseResponses(curl(['-i', `${url}/cond.txt`]).stdout);
  const { data } = await raw(srv.port, `HEAD /cond.txt HTTP/1.1\r\nHost: x\r\nIf-None-Match: ${first.headers.etag}\r\nConnection: close\r\n\r\n`, { idleMs: 500 });
  assert.match(data.toString(), /^HTTP\/1.1 304 /);
});

// RFC 9110 12.5.3: codings are case-insensitive, q=0 refuses, an explicit coding beats *
test('Accept-Encoding is parsed: q-values, case, * and identity', () => {
  const enc = (ae) => {
    const [r] = parseResponses(curl(['-i', '-H', `Accept-Encoding: ${ae}`, `${url}/zipped.txt`]).stdout);
    assert.equal(r.status, 200);
    return r.headers['content-encoding'] ?? 'identity';
  };
  for (const ae of ['gzip', 'GZIP', 'gzip;q=1', 'gzip; q=0.5', '*', 'identity;q=0.5, *', '*;q=0, gzip', 'x-gzip']) {
    assert.equal(enc(ae), 'gzip', ae);
  }
  for (const ae of ['gzip;q=0, *', 'GZIP;Q=0', 'gzip;q=0.000', 'gzip ; q=0', '*;q=0', 'gzip;q=0, *;q=1', 'identity', 'br', 'gzipx']) {
    assert.equal(enc(ae), 'identity', ae);
  }
});

// A name that looks hashed is not proof: swagger-ui's swagger-initializer.js is edited by users
test('from disk nothing is immutable unless the serve options name it', async () => {
  for (const p of ['/swagger-initializer.js', '/assets/app-3f2a9c1b.js', '/hello.txt']) {
    const [r] = parseResponses(curl(['-i', `${url}${p}`]).stdout);
    assert.equal(r.status, 200, p);
    assert.doesNotMatch(r.headers['cache-control'] ?? '', /immutable/, p);
  }
  const other = await startServer('http-server', ['-d', root, ...listenArgs(), '-i', '/assets/*,*.woff2']);
  try {
    const get = (p) => parseResponses(curl(['-i', `${HTTP}://127.0.0.1:${other.port}${p}`]).stdout)[0];
    assert.equal(get('/assets/app-3f2a9c1b.js').headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(get('/swagger-initializer.js').headers['cache-control'], undefined);
    assert.equal(get('/index.html').headers['cache-control'], 'no-cache');
  } finally {
    await other.stop();
  }
});

test('Range: 206 with Content-Range, suffix ranges, 416 past the end', () => {
  let [r] = parseResponses(curl(['-i', '-H', 'Range: bytes=0-4', `${url}/hello.txt`]).stdout);
  assert.equal(r.status, 206);
  assert.equal(r.body.toString(), 'hello');
  assert.equal(r.headers['content-range'], 'bytes 0-4/12');
  [r] = parseResponses(curl(['-i', '-H', 'Range: bytes=-5', `${url}/hello.txt`]).stdout);
  assert.equal(r.body.toString(), 'file\n');
  [r] = parseResponses(curl(['-i', '-H', 'Range: bytes=100000-', `${url}/big.bin`]).stdout);
  assert.equal(r.status, 206);
  assert.ok(r.body.equals(big.subarray(100000)));
  [r] = parseResponses(curl(['-i', '-H', 'Range: bytes=50-', `${url}/hello.txt`]).stdout);
  assert.equal(r.status, 416);
  assert.equal(r.headers['content-range'], 'bytes */12');
  stillServes();
});

test('chunked upload streamed to the handler, of any size', () => {
  const file = path.join(top, 'upload.bin');
  const body = crypto.randomBytes(5 * 1024 * 1024);
  fs.writeFileSync(file, body);
  const r = curl(['-H', 'Transfer-Encoding: chunked', '--data-binary', `@${file}`, `${url}/api/upload`]);
  assert.equal(r.code, 0, r.stderr);
  const got = JSON.parse(r.stdout.toString());
  assert.equal(got.size, body.length);
  assert.equal(got.crc32, zlib.crc32(body).toString(16).padStart(8, '0'));
  // The same with Content-Length (curl sends Expect: 100-continue for this size)
  const r2 = JSON.parse(curl(['--data-binary', `@${file}`, `${url}/api/upload`]).stdout.toString());
  assert.equal(r2.size, body.length);
});

test('a single chunk larger than the receive buffer still streams through', async () => {
  const body = crypto.randomBytes(4 * 1024 * 1024);
  const head = 'POST /api/upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n';
  const { data } = await raw(srv.port, [head + body.length.toString(16) + '\r\n', body, '\r\n0\r\n\r\n'], { idleMs: 1000 });
  const [res] = parseResponses(data);
  assert.equal(res.status, 200, data.toString().slice(0, 200));
  const got = JSON.parse(res.body.toString());
  assert.equal(got.size, body.length);
  assert.equal(got.crc32, zlib.crc32(body).toString(16).padStart(8, '0'));
});

test('chunked body buffered whole for a normal handler', async () => {
  const { data } = await raw(srv.port, [
    'POST /api/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n',
    '5;ext=1\r\nhello\r\n',
    '7\r\n, world\r\n0\r\nTrailer: x\r\n\r\n',
  ], { idleMs: 500 });
  const [res] = parseResponses(data);
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), 'hello, world');
});

// Each bad input: expected status, the connection closes, the server still serves
const badInputs = [
  ['header block over 8 KiB', `GET / HTTP/1.1\r\nHost: h\r\nX: ${'a'.repeat(9000)}\r\n\r\n`, 431],
  ['too many headers', `GET / HTTP/1.1\r\nHost: h\r\n${Array.from({ length: 40 }, (_, i) => `H${i}: v\r\n`).join('')}\r\n`, 431],
  ['malformed request line', 'GET /\r\n\r\n', 400],
  ['space before colon', 'GET / HTTP/1.1\r\nHost: h\r\nHost : x\r\n\r\n', 400],
  ['NUL in a header', 'GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n', 400],
  ['both Content-Length and Transfer-Encoding', 'POST /api/echo HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n', 400],
  ['bad chunk size', 'POST /api/echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n', 400],
  ['body over the limit', `POST /api/echo HTTP/1.1\r\nHost: h\r\nContent-Length: ${1 << 20}\r\n\r\n`, 413],
  ['chunked body over the limit', ['POST /api/echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n', `10000\r\n${'a'.repeat(0x10000)}\r\n`, `10000\r\n${'a'.repeat(0x10000)}\r\n`], 413],
  ['negative Content-Length', 'POST /api/echo HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n', 400],
];
for (const [name, input, status] of badInputs) {
  test(`bad input: ${name} -> ${status} and close`, async () => {
    const { data, closed } = await raw(srv.port, input);
    assert.match(data.toString('latin1'), new RegExp(`^HTTP/1.1 ${status} `));
    assert.ok(closed, 'connection closed');
    stillServes();
  });
}

// Chunk framing counts against the limits: a size line with a huge extension or a
// huge trailer section is refused at once, buffered (/api/echo) or streamed (/api/upload)
const framingInputs = [
  ['long chunk extension, buffered', '/api/echo', `1;${'a'.repeat(200000)}`, /^HTTP\/1.1 413 /],
  ['long chunk extension, streamed', '/api/upload', `1;${'a'.repeat(200000)}`, /^HTTP\/1.1 413 /],
  ['long trailers, buffered', '/api/echo', `0\r\n${'X-T: aaaaaaaaaa\r\n'.repeat(10000)}`, /^HTTP\/1.1 431 /],
  ['long trailers, streamed', '/api/upload', `0\r\n${'X-T: aaaaaaaaaa\r\n'.repeat(10000)}`, /^HTTP\/1.1 431 /],
];
for (const [name, target, framing, status] of framingInputs) {
  test(`bad input: ${name} is refused quickly and the server still serves`, async () => {
    const start = Date.now();
    const head = `POST ${target} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n`;
    const { data, closed } = await raw(srv.port, [head, framing], { idleMs: 3000 });
    assert.match(data.toString('latin1'), status);
    assert.ok(closed, 'connection closed');
    assert.ok(Date.now() - start < 2500, `answered after ${Date.now() - start} ms`);
    stillServes();
  });
}

test('twenty connections sending endless chunk extensions are all refused', async () => {
  const head = 'POST /api/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1;';
  const ext = 'a'.repeat(64 * 1024);
  const all = await Promise.all(Array.from({ length: 20 }, () => raw(srv.port, [head, ext, ext, ext, ext], { idleMs: 3000 })));
  for (const { data, closed } of all) {
    assert.match(data.toString('latin1'), /^HTTP\/1.1 413 /);
    assert.ok(closed);
  }
  stillServes();
});

const traversals = [
  '/../secret.txt', '/%2e%2e/secret.txt', '/%2E%2E/secret.txt', '/..%2fsecret.txt', '/..%2Fsecret.txt',
  '/..\\secret.txt', '/..%5csecret.txt', '/docs/../../secret.txt', '/docs/%2e%2e/%2e%2e/secret.txt',
  '/./../secret.txt', '//../secret.txt', '/%2e%2e%2fsecret.txt', '/hello.txt%00.html', '/%00',
  '/docs/..%2f..%2fsecret.txt', `/${top}/secret.txt`, '/....//secret.txt', '/%252e%252e/secret.txt',
];
for (const p of traversals) {
  test(`path traversal never escapes the root: ${p}`, async () => {
    const { data } = await raw(srv.port, `GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, { idleMs: 500 });
    const text = data.toString('latin1');
    assert.doesNotMatch(text, new RegExp(secret));
    assert.match(text, /^HTTP\/1.1 (400|404) /);
  });
}

// A Location of "//host/..." (or "/\\host") is scheme-relative: the browser would leave for that host
for (const p of ['//evil.example/..', '//evil.example/.', '/\\evil.example/..', '/%2fevil.example/..', '//docs']) {
  test(`directory redirect stays on this host: ${p}`, async () => {
    const { data } = await raw(srv.port, `GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, { idleMs: 500 });
    const [res] = parseResponses(data);
    assert.ok([301, 400, 404].includes(res.status), `status ${res.status}`);
    if (res.status === 301) {
      assert.match(res.headers.location, /^\/(?![/\\])/, `Location ${res.headers.location}`);
      assert.doesNotMatch(res.headers.location, /evil/);
    }
    stillServes();
  });
}

test('absolute path in the request target stays under the root', async () => {
  const { data } = await raw(srv.port, 'GET /etc/passwd HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
  assert.match(data.toString(), /^HTTP\/1.1 404 /);
  assert.doesNotMatch(data.toString(), /root:/);
});

test('a client idle in the middle of its head is closed after the timeout; others are served meanwhile', async () => {
  const start = Date.now();
  const slow = raw(srv.port, 'GET /hello.txt HTTP/1.1\r\nHost: x\r\n', { idleMs: 5000 });
  await new Promise((r) => setTimeout(r, 200));
  stillServes();
  const { data, closed } = await slow;
  const took = Date.now() - start;
  assert.ok(closed, 'slow client disconnected');
  assert.match(data.toString(), /^HTTP\/1.1 408 /);
  assert.ok(took >= 900 && took < 4000, `closed after ${took} ms`);
});

test('slow-loris trickling a byte at a time is still cut off', async () => {
  const pieces = Array.from('GET /hello.txt HTTP/1.1\r\nHost: x\r\nX-A: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa');
  const start = Date.now();
  const { closed } = await raw(srv.port, pieces, { pauseMs: 100, idleMs: 3000 });
  assert.ok(closed);
  assert.ok(Date.now() - start < 4500);
});

// A connection that has said nothing yet; resolves once it is open
function openConn(port) {
  return new Promise((resolve, reject) => {
    const sock = connectTo(port, () => resolve(sock));
    sock.on('error', reject);
  });
}

// Sends req on an open socket; resolves with what came back after idleMs of quiet, or at close
function ask(sock, req, idleMs = 500) {
  return new Promise((resolve) => {
    const chunks = [];
    let timer;
    const done = () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    sock.on('data', (d) => {
      chunks.push(d);
      clearTimeout(timer);
      timer = setTimeout(done, idleMs);
    });
    sock.on('close', done);
    sock.write(req);
  });
}

test('max_conns: the connection over the cap gets 503, those under it are still served', async () => {
  const capped = await startServer('http-server', ['-d', root, ...listenArgs(), '-C', '3']);
  try {
    const held = [];
    for (let i = 0; i < 3; i++) held.push(await openConn(capped.port));
    await new Promise((r) => setTimeout(r, 100));  // Let the server accept them all
    const { data, closed } = await raw(capped.port, 'GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n');
    const [res] = parseResponses(data);
    assert.equal(res.status, 503);
    assert.equal(res.headers['retry-after'], '1');
    assert.equal(res.headers.connection, 'close');
    assert.ok(closed, 'the one over the cap is closed');
    const answers = await Promise.all(held.map((s) => ask(s, 'GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n')));
    for (const a of answers) assert.match(a, /^HTTP\/1.1 200 [^]*hello, file\n$/);
    held[0].destroy();
    await new Promise((r) => setTimeout(r, 200));
    const again = await raw(capped.port, 'GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.match(again.data.toString(), /^HTTP\/1.1 200 /, 'a freed place is taken again');
    for (const s of held) s.destroy();
  } finally {
    await capped.stop();
  }
});

test('idle and body timeouts: an idle connection is closed silently, a stalled body gets 408', async () => {
  const timed = await startServer('http-server', ['-d', root, ...listenArgs(), '-I', '300', '-W', '300']);
  try {
    let start = Date.now();
    const idle = await raw(timed.port, 'GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n', { idleMs: 3000 });
    let took = Date.now() - start;
    assert.ok(idle.closed, 'idle connection closed');
    assert.equal(parseResponses(idle.data).length, 1, 'one answer, no 408 for an idle close');
    assert.ok(took >= 250 && took < 2500, `closed after ${took} ms`);
    start = Date.now();
    const stalled = await raw(timed.port, 'POST /api/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc', { idleMs: 3000 });
    took = Date.now() - start;
    assert.match(stalled.data.toString(), /^HTTP\/1.1 408 /);
    assert.ok(stalled.closed);
    assert.ok(took >= 250 && took < 2500, `closed after ${took} ms`);
  } finally {
    await timed.stop();
  }
});
