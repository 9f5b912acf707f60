// WebSocket against an independent peer, node's `ws`: as a client of
// examples/websocket-server (echo, fragments, large messages, ping/pong, close codes for
// protocol errors, many clients at once) and as the server of examples/websocket-client.
// With MG_TEST_TLS=1 all of it over WSS (lib.mjs), trusting the development CA.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import WebSocket, { WebSocketServer } from 'ws';
import { BIN, startServer, raw, listenArgs, TLS, CA, CERTS, WS } from './lib.mjs';

const ca = TLS ? { ca: fs.readFileSync(CA) } : {};  // What a ws client needs to trust the server
// MG_WS_MAX_MESSAGE by default: MG_MAX_RECV_SIZE (3 MiB, as in Mongoose) less MG_WS_FRAMING_ROOM
const LIMIT = 3 * 1024 * 1024 - 256;
let srv;
let url;
before(async () => {
  srv = await startServer('websocket-server', listenArgs());
  url = `${WS}://127.0.0.1:${srv.port}/ws`;
});
after(async () => {
  await srv.stop();
});

// An open client that queues what it receives; next() awaits the next message
function connect(u = url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(u, ca);
    const queue = [];
    const waiters = [];
    ws.on('message', (data, isBinary) => {
      const m = { data, isBinary };
      if (waiters.length) waiters.shift()(m);
      else queue.push(m);
    });
    ws.closed = new Promise((res) => ws.on('close', (code, reason) => res({ code, reason: reason.toString() })));
    ws.next = () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((res) => waiters.push(res)));
    ws.on('open', () => resolve(ws));
    ws.on('error', reject);
  });
}

function withTimeout(p, ms, what) {
  let t;
  return Promise.race([p, new Promise((_, rej) => { t = setTimeout(() => rej(new Error(`timeout: ${what}`)), ms); })])
    .finally(() => clearTimeout(t));
}

test('server: text and binary come back with their type', async () => {
  const ws = await connect();
  ws.send('hello, ünïcödé €');
  let m = await ws.next();
  assert.equal(m.isBinary, false);
  assert.equal(m.data.toString(), 'hello, ünïcödé €');
  const bin = Buffer.from([0, 1, 2, 255, 254, 0x80]);
  ws.send(bin);
  m = await ws.next();
  assert.equal(m.isBinary, true);
  assert.deepEqual(m.data, bin);
  ws.close(1000, 'bye');
  assert.deepEqual(await ws.closed, { code: 1000, reason: '' });  // Our side echoes the code
});

test('server: large messages, and fragments joined into one', async () => {
  const ws = await connect();
  for (const size of [65536, 70000, 1024 * 1024]) {
    const big = Buffer.alloc(size, 'abcdefghijklmnopqrstuvwxyz');
    ws.send(big, { binary: false });
    const got = await ws.next();
    assert.equal(got.data.length, size);
    assert.ok(got.data.equals(big));
  }
  let m;
  ws.send('frag', { fin: false });
  ws.ping('between fragments');
  ws.send('men', { fin: false });
  ws.send('ts', { fin: true });
  m = await ws.next();
  assert.equal(m.data.toString(), 'fragments');
  // Fragments adding up to exactly the limit pass
  const half = Buffer.alloc(LIMIT / 2, 7);
  ws.send(half, { fin: false, binary: true });
  ws.send(half, { fin: true, binary: true });
  m = await ws.next();
  assert.equal(m.data.length, LIMIT);
  ws.close();
  await ws.closed;
});

test('server: ping answered with pong carrying the same data', async () => {
  const ws = await connect();
  const pong = new Promise((res) => ws.once('pong', res));
  ws.ping('are you there?');
  assert.equal((await withTimeout(pong, 3000, 'pong')).toString(), 'are you there?');
  ws.close();
  await ws.closed;
});

test('server: protocol errors close with 1002, 1007 and 1009 as ws sees them', async () => {
  const cases = [
    ['unmasked frame', (ws) => ws.send('x', { mask: false }), 1002, /unmasked/],
    ['reserved bit', (ws) => ws._socket.write(Buffer.from([0xc1, 0x81, 1, 2, 3, 4, 0x79])), 1002, /reserved/],
    ['unknown opcode', (ws) => ws._socket.write(Buffer.from([0x83, 0x80, 1, 2, 3, 4])), 1002, /opcode/],
    ['continuation first', (ws) => ws._socket.write(Buffer.from([0x80, 0x80, 1, 2, 3, 4])), 1002, /continuation/],
    ['invalid UTF-8', (ws) => ws.send(Buffer.from([0x61, 0xed, 0xa0, 0x80]), { binary: false }), 1007, /UTF-8/],
    ['UTF-8 cut between fragments', (ws) => {
      ws.send(Buffer.from([0x61, 0xe2]), { binary: false, fin: false });
      ws.send(Buffer.from([0x82]), { fin: true });
    }, 1007, /UTF-8/],
    ['over the limit', (ws) => ws.send(Buffer.alloc(LIMIT + 1)), 1009, /too big/],
    ['over the limit in fragments', (ws) => {
      ws.send(Buffer.alloc(LIMIT / 2 + 1), { fin: false });
      ws.send(Buffer.alloc(LIMIT / 2), { fin: true });
    }, 1009, /too big/],
  ];
  for (const [name, act, code, reason] of cases) {
    const ws = await connect();
    ws.on('error', () => {});  // ws may also report the close as an error: the code is what counts
    act(ws);
    const c = await withTimeout(ws.closed, 3000, name);
    assert.equal(c.code, code, name);
    assert.match(c.reason, reason, name);
  }
  // The server goes on serving
  const ws = await connect();
  ws.send('still serving');
  assert.equal((await ws.next()).data.toString(), 'still serving');
  ws.close();
  await ws.closed;
  assert.match(srv.log(), /closing with 1009/);
});

test('server: bad upgrades get 400 or 426', async () => {
  const status = (headers) => new Promise((resolve) => {
    const ws = new WebSocket(url, { ...headers, ...ca });
    ws.on('unexpected-response', (req, res) => { resolve(res.statusCode); req.destroy(); });
    ws.on('error', () => {});
  });
  assert.equal(await status({ protocolVersion: 8 }), 426);
  const got = (await raw(srv.port, 'GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
    + 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nConnection: close\r\n\r\n', { idleMs: 500 })).data.toString();
  assert.match(got, /^HTTP\/1.1 400 /);
  assert.match(got, /missing Sec-WebSocket-Version/);
});

test('server: 200 clients at once, each echoing 20 messages', async () => {
  const clients = await Promise.all(Array.from({ length: 200 }, () => connect()));
  await Promise.all(clients.map(async (ws, i) => {
    for (let k = 0; k < 20; k++) {
      const msg = `client ${i} message ${k}`;
      ws.send(msg);
      assert.equal((await ws.next()).data.toString(), msg);
    }
  }));
  await Promise.all(clients.map((ws) => { ws.close(); return ws.closed; }));
});

// ---- examples/websocket-client against a ws server

function runClient(args) {
  const trust = TLS ? ['--ca', CA] : [];
  const proc = spawn(path.join(BIN, 'websocket-client'), [...trust, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { out += d; });
  const done = new Promise((resolve) => proc.on('close', (code) => resolve({ code, out })));
  return { proc, done, out: () => out };
}

// A node HTTP(S) server, listening on loopback; under TLS with the development certificate
async function nodeServer(handler) {
  const cert = () => ({ cert: fs.readFileSync(path.join(CERTS, 'server.pem')), key: fs.readFileSync(path.join(CERTS, 'server.key')) });
  const server = TLS ? https.createServer(cert(), handler) : http.createServer(handler);
  await new Promise((res) => server.listen(0, '127.0.0.1', res));
  return server;
}

// A ws server (over WSS under TLS) on its own HTTP(S) server; close() ends both
async function wsServer() {
  const server = await nodeServer();
  const wss = new WebSocketServer({ server });
  return { wss, port: server.address().port, close: () => (wss.close(), server.close()) };
}

function nextMessage(ws) {
  return new Promise((res) => ws.once('message', (data, isBinary) => res({ data, isBinary })));
}

test('client: handshake, echo of text, binary, 70,000 bytes and fragments, ping, clean close', async () => {
  const { wss, port, close } = await wsServer();
  try {
    const conn = new Promise((res) => wss.once('connection', (ws, req) => res({ ws, req })));
    const cli = runClient(['-e', `${WS}://127.0.0.1:${port}/path?q=1`, 'first']);
    const { ws, req } = await withTimeout(conn, 5000, 'connection');
    assert.equal(req.url, '/path?q=1');
    assert.equal(req.headers['sec-websocket-version'], '13');
    let m = await nextMessage(ws);
    assert.equal(m.data.toString(), 'first');
    ws.send(Buffer.from([1, 2, 3]));
    m = await nextMessage(ws);
    assert.equal(m.isBinary, true);
    assert.deepEqual([...m.data], [1, 2, 3]);
    const big = Buffer.alloc(70000, 'x');  // Over the 64 KiB that was the limit before 7.22 parity
    ws.send(big, { binary: false });
    m = await nextMessage(ws);
    assert.ok(m.data.equals(big));
    ws.send('frag', { fin: false });
    ws.ping('p');
    ws.send('ments', { fin: true });
    const pong = new Promise((res) => ws.once('pong', res));
    m = await nextMessage(ws);
    assert.equal(m.data.toString(), 'fragments');
    assert.equal((await withTimeout(pong, 3000, 'pong')).toString(), 'p');
    const closed = new Promise((res) => ws.once('close', (code) => res(code)));
    ws.close(4001, 'enough');
    assert.equal(await closed, 4001);
    const r = await withTimeout(cli.done, 5000, 'client exit');
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /^open\n/);
    assert.match(r.out, /close 4001 enough\nclosed\n$/);
  } finally {
    close();
  }
});

test('client: a masked frame, bad UTF-8 and an oversized message close with 1002, 1007, 1009', async () => {
  const { wss, port, close } = await wsServer();
  try {
    const cases = [
      ['masked frame from the server', (ws) => ws.send('x', { mask: true }), 1002],
      ['invalid UTF-8', (ws) => ws.send(Buffer.from([0xf4, 0x90, 0x80, 0x80]), { binary: false }), 1007],
      ['over the limit', (ws) => ws.send(Buffer.alloc(LIMIT + 1)), 1009],
    ];
    for (const [name, act, code] of cases) {
      const conn = new Promise((res) => wss.once('connection', res));
      const cli = runClient([`${WS}://127.0.0.1:${port}/`]);
      const ws = await withTimeout(conn, 5000, name);
      const closed = new Promise((res) => ws.once('close', (c) => res(c)));
      ws.on('error', () => {});
      act(ws);
      assert.equal(await withTimeout(closed, 3000, name), code, name);
      const r = await withTimeout(cli.done, 5000, `${name}: client exit`);
      assert.equal(r.code, 1, `${name}: no close handshake, so a failure exit:\n${r.out}`);
      assert.match(r.out, /closed\n$/);
    }
  } finally {
    close();
  }
});

test('client: a server that is not WebSocket gives an error', async () => {
  const server = await nodeServer((req, res) => res.end('plain'));
  try {
    const cli = runClient([`${WS}://127.0.0.1:${server.address().port}/`]);
    const r = await withTimeout(cli.done, 5000, 'client exit');
    assert.equal(r.code, 1);
    assert.match(r.out, /error WebSocket handshake refused: HTTP 200 OK/);
  } finally {
    server.close();
  }
});
