// The seven Mongoose tutorials a new user tries first, written from their documented
// behaviour into test/compat/tutorials and built from dist/ alone (Makefile: TUTORIAL_BINS),
// run against real peers: curl, raw sockets, node's http server and the `ws` package.
// BIN's sibling directory holds them: build/tutorials, build/asan/tutorials, build/poll/tutorials.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import WebSocket, { WebSocketServer } from 'ws';
import { BIN, startServer, curl, raw, tmpdir } from './lib.mjs';

const DIR = process.env.TUTORIALS || path.join(path.dirname(BIN), 'tutorials');
const exe = (name) => path.join(DIR, name);
const HTTP_PORT = /http:\/\/127\.0\.0\.1:(\d+)/;
const WS_PORT = /ws:\/\/127\.0\.0\.1:(\d+)/;

// Run a tutorial that ends by itself: {code, stdout, stderr}
function run(name, args, ms = 20000) {
  return new Promise((resolve, reject) => {
    const p = spawn(exe(name), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    const timer = setTimeout(() => (p.kill('SIGKILL'), reject(new Error(`${name} did not end:\n${stdout}\n${stderr}`))), ms);
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => {
      clearTimeout(timer);
      assert.doesNotMatch(stderr + stdout, /ERROR: (LeakSanitizer|AddressSanitizer)|runtime error:/, `${name}:\n${stderr}`);
      resolve({ code, stdout, stderr });
    });
  });
}

function webRoot(files) {
  const dir = tmpdir('tutorial-root');
  for (const [name, body] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), body);
  }
  return dir;
}

const body = (r) => r.stdout.toString();
const status = (r) => body(r).match(/(\d{3})$/)?.[1];

test('http-server: serves files, expands SSI includes (file= and virtual=, nested), lists directories', async () => {
  let root = webRoot({
    'index.html': '<h1>home</h1>\n',
    'a.txt': 'plain file\n',
    'page.shtml': 'top [<!--#include file="part.html" -->] [<!--#include virtual="/sub/inc.shtml" -->] end\n',
    'part.html': 'PART',
    'sub/inc.shtml': 'inc(<!--#include file="leaf.txt" -->)',
    'sub/leaf.txt': 'LEAF',
    'sub/other.txt': 'other\n',
    'escape.shtml': 'x<!--#include file="../outside.txt" --><!--#include virtual="/../outside.txt" -->y',
    'self.shtml': 'loop<!--#include file="self.shtml" -->',
  });
  // A file beside the root: ../outside.txt from it
  const top = webRoot({ 'outside.txt': 'SECRET' });
  fs.renameSync(root, path.join(top, 'www'));
  root = path.join(top, 'www');
  const srv = await startServer(exe('http-server'), ['-l', 'http://127.0.0.1:0', '-d', root], { portPattern: HTTP_PORT });
  const base = `http://127.0.0.1:${srv.port}`;
  try {
    assert.match(srv.log(), /Mongoose version : v7\.22/);
    assert.equal(body(curl([`${base}/a.txt`])), 'plain file\n');
    assert.equal(body(curl([`${base}/`])), '<h1>home</h1>\n');
    assert.equal(body(curl([`${base}/page.shtml`])), 'top [PART] [inc(LEAF)] end\n');
    const escape = body(curl([`${base}/escape.shtml`]));
    assert.match(escape, /^x.*y$/s, 'the page is served');
    assert.doesNotMatch(escape, /SECRET/, 'never a file outside the root');
    const loop = curl(['-w', '%{http_code}', `${base}/self.shtml`]);
    assert.equal(status(loop), '200', 'a page that includes itself is cut at the depth bound');
    assert.match(body(loop), /^(loop)+/);
    assert.ok(body(loop).length < 4096);
    const listing = body(curl([`${base}/sub/`]));
    assert.match(listing, /leaf\.txt/);
    assert.match(listing, /other\.txt/);
    assert.equal(status(curl(['-o', '/dev/null', '-w', '%{http_code}', `${base}/missing.txt`])), '404');
    // A request with bare LF line endings, as Mongoose's own tests send
    const r = await raw(srv.port, 'GET /a.txt HTTP/1.0\n\n');
    assert.match(r.data.toString(), /^HTTP\/1\.[01] 200 [^\r\n]*\r\n/);
    assert.match(r.data.toString(), /plain file\n$/);
  } finally {
    await srv.stop();
    fs.rmSync(top, { recursive: true, force: true });
  }
});

test('http-restful-server: JSON endpoints through mg_match, the rest from the web root', async () => {
  const root = webRoot({ 'index.html': 'static\n' });
  const srv = await startServer(exe('http-restful-server'), ['-l', 'http://127.0.0.1:0', '-d', root], { portPattern: HTTP_PORT });
  const base = `http://127.0.0.1:${srv.port}`;
  try {
    assert.deepEqual(JSON.parse(body(curl([`${base}/api/hello`]))), { status: 1 });
    assert.deepEqual(JSON.parse(body(curl(['-d', '[40, 2]', `${base}/api/sum`]))), { result: 42 });
    assert.equal(status(curl(['-o', '/dev/null', '-w', '%{http_code}', '-d', '[1]', `${base}/api/sum`])), '400');
    assert.deepEqual(JSON.parse(body(curl([`${base}/api/echo/x%20y/z`]))), { a: 'x%20y', b: 'z' });
    assert.equal(status(curl(['-o', '/dev/null', '-w', '%{http_code}', `${base}/api/echo/x/y/z`])), '404');
    assert.ok(JSON.parse(body(curl([`${base}/api/stats`]))).requests >= 5);
    assert.equal(body(curl([`${base}/`])), 'static\n');
  } finally {
    await srv.stop();
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('http-client: GET and POST against a local server, a close-delimited and a chunked body, a refused connection', async () => {
  const server = http.createServer((req, res) => {
    let got = '';
    req.on('data', (d) => (got += d));
    req.on('end', () => {
      if (req.url === '/chunked') {
        res.write('one,');
        setTimeout(() => res.end('two'), 20);
      } else {
        res.setHeader('Content-Length', Buffer.byteLength(`${req.method} ${req.url} [${got}]`));
        res.end(`${req.method} ${req.url} [${got}]`);
      }
    });
  });
  // An HTTP/1.0 server of old: no Content-Length, the body ends when it closes
  const old = net.createServer((s) => s.once('data', () => s.end('HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close')));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  await new Promise((r) => old.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${server.address().port}`;
    let r = await run('http-client', [`${url}/get/this`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'GET /get/this []');
    r = await run('http-client', ['-d', 'hello=1', `${url}/post`]);
    assert.equal(r.stdout, 'POST /post [hello=1]');
    r = await run('http-client', [`${url}/chunked`]);
    assert.equal(r.stdout, 'one,two');
    r = await run('http-client', [`http://127.0.0.1:${old.address().port}/`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'until close');
    // A port nobody listens on: the error reaches MG_EV_ERROR and the program says so
    const closed = net.createServer();
    await new Promise((res) => closed.listen(0, '127.0.0.1', res));
    const port = closed.address().port;
    await new Promise((res) => closed.close(res));
    r = await run('http-client', [`http://127.0.0.1:${port}/`]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /http-client: .+/);
  } finally {
    server.close();
    old.close();
  }
});

// Open a WebSocket and collect what it receives
function wsOpen(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const got = [];
    const waiters = [];
    ws.on('message', (data, isBinary) => {
      const m = { data, isBinary };
      const w = waiters.shift();
      if (w) w(m); else got.push(m);
    });
    ws.next = (ms = 5000) => got.length ? Promise.resolve(got.shift())
      : new Promise((res, rej) => {
        const t = setTimeout(() => rej(new Error('no message in time')), ms);
        waiters.push((m) => (clearTimeout(t), res(m)));
      });
    ws.on('open', () => resolve(ws));
    ws.on('error', reject);
  });
}

test('websocket-server: echoes text, binary and a 70,000-byte message; plain HTTP beside it', async () => {
  const root = webRoot({ 'index.html': '<script>/* client */</script>\n' });
  const srv = await startServer(exe('websocket-server'), ['-l', 'ws://127.0.0.1:0', '-d', root], { portPattern: WS_PORT });
  try {
    const ws = await wsOpen(`ws://127.0.0.1:${srv.port}/websocket`);
    ws.send('hello');
    let m = await ws.next();
    assert.equal(m.data.toString(), 'hello');
    assert.equal(m.isBinary, false);
    ws.send(Buffer.from([0, 1, 2, 255]));
    m = await ws.next();
    assert.deepEqual([...m.data], [0, 1, 2, 255]);
    assert.equal(m.isBinary, true);
    const big = 'x'.repeat(70000);
    ws.send(big);
    m = await ws.next();
    assert.equal(m.data.length, 70000, 'a message larger than 64 KiB comes back whole, as from Mongoose');
    ws.close();
    assert.deepEqual(JSON.parse(body(curl([`http://127.0.0.1:${srv.port}/rest`]))), { result: 123 });
    assert.match(body(curl([`http://127.0.0.1:${srv.port}/`])), /client/);
  } finally {
    await srv.stop();
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('websocket-client: sends hello to a ws echo server and prints the reply; says when there is none', async () => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => wss.on('listening', r));
  const port = wss.address().port;
  const seen = [];
  wss.on('connection', (ws, req) => {
    seen.push(req.url);
    ws.on('message', (d, isBinary) => ws.send(d, { binary: isBinary }));
  });
  try {
    let r = await run('websocket-client', [`ws://127.0.0.1:${port}/websocket`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'GOT ECHO REPLY: [hello]\n');
    assert.deepEqual(seen, ['/websocket']);
    r = await run('websocket-client', [`ws://127.0.0.1:${port}/x`, 'second message']);
    assert.equal(r.stdout, 'GOT ECHO REPLY: [second message]\n');
  } finally {
    await new Promise((r) => wss.close(r));
  }
  const r = await run('websocket-client', [`ws://127.0.0.1:${port}/websocket`]);
  assert.equal(r.code, 1, 'no server: no echo');
  assert.doesNotMatch(r.stdout, /GOT ECHO REPLY/);
  assert.match(r.stdout + r.stderr, /Connection refused/, 'the error, logged');
});

test('timers: a repeating timer, one that runs at once, a one-shot that ends the program and leaves the list', async () => {
  const r = await run('timers', ['50', '600']);
  assert.equal(r.code, 0, r.stderr);
  const beats = r.stdout.split('\n').filter((l) => l.startsWith('heartbeat')).map((l) => Number(l.split(' ')[1]));
  assert.ok(beats.length >= 1 && beats.length <= 12, `${beats.length} heartbeats in 600 ms at 50 ms`);
  assert.deepEqual(beats, beats.map((_, i) => i + 1), 'in order, each once');
  const m = r.stdout.match(/ticks (\d+), run-now ticks (\d+), once (\d+), timers listed (\d+), after free (\w+)/);
  assert.ok(m, r.stdout);
  assert.equal(Number(m[1]), beats.length);
  const runNow = Number(m[2]);
  assert.ok(runNow === beats.length || runNow === beats.length + 1, `run-now ${runNow} against ${beats.length}: one more, at creation`);
  assert.equal(m[3], '1', 'the one-shot ran once');
  assert.equal(m[4], '2', 'the fired one-shot left mgr->timers');
  assert.equal(m[5], 'none', 'mgr->timers is NULL after mg_mgr_free');
});

test('json-rpc-over-websocket: calls, errors, a notification answered with nothing, pushes from the device', async () => {
  const srv = await startServer(exe('json-rpc-over-websocket'), ['-l', 'ws://127.0.0.1:0', '-n', '200'], { portPattern: WS_PORT });
  try {
    const ws = await wsOpen(`ws://127.0.0.1:${srv.port}/websocket`);
    // The device's pushes are frames with no id; the answers carry the request's id
    const answer = async () => {
      for (;;) {
        const m = JSON.parse((await ws.next()).data.toString());
        if (m.id !== undefined) return m;
        assert.deepEqual(m, { method: 'notification1', params: [1, 2, 3] });
      }
    };
    ws.send('{"id":1,"method":"sum","params":[2,3]}');
    assert.deepEqual(await answer(), { id: 1, result: 5 });
    ws.send('{"id":"two","method":"mul","params":[6,7]}');
    assert.deepEqual(await answer(), { id: 'two', result: 42 });
    ws.send('{"id":3,"method":"mul","params":[6]}');
    let a = await answer();
    assert.equal(a.id, 3);
    assert.equal(a.error.code, -32602);
    ws.send('{"id":4,"method":"nope","params":[]}');
    a = await answer();
    assert.equal(a.id, 4);
    assert.equal(a.error.code, -32601, 'unknown method');
    ws.send('{"method":"sum","params":[1,1]}');  // A notification: no answer
    ws.send('{"id":5,"method":"rpc.list"}');
    a = await answer();
    assert.equal(a.id, 5, 'the notification before it was answered with nothing');
    assert.deepEqual([...a.result].sort(), ['mul', 'rpc.list', 'sum']);
    ws.send('{"id":6,"method":');
    a = JSON.parse((await ws.next()).data.toString());
    while (a.method === 'notification1') a = JSON.parse((await ws.next()).data.toString());
    assert.equal(a.error.code, -32700, 'parse error');
    // At least one push arrives by itself
    let pushed;
    do pushed = JSON.parse((await ws.next(3000)).data.toString()); while (pushed.id !== undefined);
    assert.equal(pushed.method, 'notification1');
    ws.close();
  } finally {
    await srv.stop();
  }
});
