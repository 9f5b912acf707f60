// The soak's crowd and hostile load, in a worker thread of soak.mjs so that its work
// never delays the clients whose latency soak.mjs measures: WebSocket clients that
// come and go, slow readers, uploads, garbage connections and the pipelining attack.
// Counts what happened (by kind and outcome) and posts the counts to soak.mjs.
import { parentPort, workerData } from 'node:worker_threads';
import crypto from 'node:crypto';
import net from 'node:net';
import WebSocket from 'ws';
import { sleep, request, login, loopDelay } from './lib.mjs';

const { port, cookie, asset, style, warmupMs, crowdSize, slowWsCount, attackPeriodMs, attackHoldMs } = workerData;
const base = `http://127.0.0.1:${port}`;
const origin = base;  // What a browser on the dashboard sends; the firmware checks it against Host
const counts = {};
const bump = (what, n = 1) => (counts[what] = (counts[what] || 0) + n);
const lag = loopDelay();
const started = performance.now();
let running = true;

// Sleeps that end early once soak.mjs says stop
async function pause(ms) {
  const end = performance.now() + ms;
  while (running && performance.now() < end) await sleep(Math.min(200, end - performance.now()));
}
// fn, then a pause of ms, for as long as the run lasts
async function every(ms, fn) {
  while (running) {
    await fn();
    await pause(ms);
  }
}
const pick = (set) => [...set][Math.floor(Math.random() * set.size)];

// Every raw socket and WebSocket still open, closed when the run ends
const liveSockets = new Set();
const liveWs = new Set();
function tcp() {
  const s = net.connect(port, '127.0.0.1');
  liveSockets.add(s);
  s.on('close', () => liveSockets.delete(s));
  s.on('error', () => {});
  return s;
}

// Reads at most bytesPerSec: pause after each chunk for as long as it "took"
function readSlowly(sock, bytesPerSec, onData = () => {}) {
  sock.on('data', (d) => {
    onData(d);
    sock.pause();
    setTimeout(() => sock.resume(), (d.length * 1000) / bytesPerSec);
  });
}

// ---- WebSocket clients
// A dashboard tab: counts its pushes; a close it did not ask for is counted under `kind`
function wsClient(kind, cookieHeader = cookie, useOrigin = true) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api/ws`, {
    headers: { Cookie: cookieHeader }, origin: useOrigin ? origin : undefined, perMessageDeflate: false,
  });
  ws.closedByUs = false;
  liveWs.add(ws);
  ws.opened = new Promise((resolve) => {
    ws.once('open', () => resolve(true));
    ws.once('close', () => resolve(false));
  });
  ws.on('message', () => bump(`${kind}: messages received`));
  ws.on('error', () => {});
  ws.on('close', (code) => {
    liveWs.delete(ws);
    if (!ws.closedByUs && running) bump(`${kind}: closed by the server (${code})`);
  });
  return ws;
}

// The crowd: most tabs only read; one in ten writes a LED every 20 s. Each second one tab
// closes properly and one just drops its connection; every 10 s one resets (RST) right
// after a write, with the reply pending. Each leaver is replaced.
const crowd = new Set();
function crowdMember() {
  const ws = wsClient('crowd', cookie, crowd.size % 2 === 0);  // Half without Origin, as non-browser clients
  crowd.add(ws);
  ws.on('close', () => {
    crowd.delete(ws);
    if (!ws.closedByUs && running) setTimeout(() => running && crowdMember(), 1000);
  });
  return ws.opened;
}
function crowdLeaves(how) {
  const ws = pick(crowd);
  if (!ws || ws.readyState !== WebSocket.OPEN) return;
  ws.closedByUs = true;
  crowd.delete(ws);
  if (how === 'close') ws.close(1000);
  else if (how === 'drop') ws.terminate();
  else {
    ws.send(JSON.stringify({ id: 1, set: 'leds', values: { led3: Math.random() < 0.5 } }));
    ws._socket.resetAndDestroy();  // eslint-disable-line no-underscore-dangle
  }
  bump(`crowd: left by ${how}`);
  crowdMember();
}
async function runCrowd() {
  for (let i = 0; i < crowdSize && running; i += 50) {
    const batch = [];
    for (let j = i; j < Math.min(crowdSize, i + 50); j++) batch.push(crowdMember());
    await Promise.all(batch);
  }
  parentPort.postMessage({ type: 'crowd-ready', open: crowd.size });
  let tick = 0;
  await every(1000, () => {
    crowdLeaves('close');
    crowdLeaves('drop');
    if (++tick % 10 === 0) crowdLeaves('reset with a reply pending');
    // About one in ten writes every 20 s: crowdSize / 200 writes a second
    for (let k = 0; k < Math.max(1, Math.round(crowdSize / 200)); k++) {
      const ws = pick(crowd);
      if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ set: 'leds', values: { led3: Math.random() < 0.5 } }));
    }
  });
}

// WebSocket tabs that stop reading for 20 s at a time (a laptop lid closed, a stuck tab)
async function runSlowWs(n) {
  const tabs = Array.from({ length: n }, () => wsClient('slow WebSocket reader'));
  await Promise.all(tabs.map((ws) => ws.opened));
  while (running) {
    tabs.forEach((ws) => ws.pause());
    await pause(20000);
    tabs.forEach((ws) => ws.resume());
    await pause(2000);
  }
}

// A session's life: log in, open tabs with it, log out; its tabs must close with 1008
async function runSessions(n) {
  await every(30000, async () => {
    let own;
    try {
      own = await login(base);
    } catch (e) {
      bump(`session: login failed (${e.message.slice(0, 40)})`);
      return;
    }
    const tabs = Array.from({ length: n }, () => wsClient('session tab', own));
    const closes = tabs.map((ws) => new Promise((resolve) => ws.on('close', (code) => resolve(code))));
    await Promise.all(tabs.map((ws) => ws.opened));
    await pause(5000);
    tabs.forEach((ws) => (ws.closedByUs = true));  // From here the server is to close them
    const out = await request({ port, path: '/api/auth/logout', method: 'POST', body: '{}',
      headers: { Cookie: own, 'Content-Type': 'application/json' } }).catch((e) => ({ status: e.message }));
    const codes = await Promise.race([Promise.all(closes), sleep(3000).then(() => null)]);
    if (!running) return;  // The run stopped meanwhile and closed the tabs itself (1001): no outcome
    bump(`session: logout ${out.status}, tabs ${codes ? `closed ${[...new Set(codes)].join('/')}` : 'not all closed in 3 s'}`);
    tabs.forEach((ws) => ws.terminate());
  });
}

// ---- HTTP
// A browser on a slow link: the page's two assets pipelined, read at 8 KiB/s, connection closed
async function runSlowHttp(n) {
  await Promise.all(Array.from({ length: n }, async () => {
    while (running) {
      const s = tcp();
      let got = 0;
      readSlowly(s, 8192, (d) => (got += d.length));
      s.write(`GET ${asset} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET ${style} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
      const closed = new Promise((resolve) => s.on('close', resolve));
      await Promise.race([closed, pause(60000)]);
      bump(got > 60000 ? 'slow reader: both assets read' : 'slow reader: short read');
      s.destroy();
    }
  }));
}

// Uploads: the only bodies the firmware takes today are JSON ones to /api/sets/NAME
// (4 KiB at most; anything larger is read whole up to max_body_size, 64 KiB, and gets
// 413; over that, 413 at the head). One a second, of each kind in turn.
const UPLOADS = [
  ['valid settings write', () => JSON.stringify({ interval: 10 + Math.floor(Math.random() * 2) })],
  ['60 KiB JSON', () => JSON.stringify({ name: 'x'.repeat(60 * 1024) })],
  ['4000-byte invalid field', () => JSON.stringify({ name: 'y'.repeat(4000) })],
  ['1 MiB announced', () => Buffer.alloc(1 << 20, 0x20)],
  ['200 KiB chunked', () => null, Array.from({ length: 50 }, () => Buffer.alloc(4096, 0x20))],
];
async function upload(body, chunks) {
  const headers = { Cookie: cookie, 'Content-Type': 'application/json' };
  try {
    return (await request({ port, path: '/api/sets/settings', method: 'POST', headers, body, chunks, timeoutMs: 10000 })).status;
  } catch (e) {
    return e.code || e.message;
  }
}
async function runUploads() {
  let i = 0;
  await every(1000, async () => {
    const [name, body, chunks] = UPLOADS[i++ % UPLOADS.length];
    bump(`upload ${name}: ${await upload(body(), chunks)}`);
  });
}
// A body that trickles in: 30 KiB at 6 KiB/s (the firmware reads it whole, then 413)
async function runSlowUpload() {
  while (running) {
    const s = tcp();
    let first = '';
    s.on('data', (d) => (first ||= d.toString('latin1', 0, 12)));
    s.write(`POST /api/sets/settings HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ${cookie}\r\n` +
            `Content-Type: application/json\r\nContent-Length: ${30 * 1024}\r\n\r\n`);
    for (let k = 0; k < 30 && running && !s.destroyed; k++) {
      s.write(Buffer.alloc(1024, 0x20));
      await sleep(1000 / 6);
    }
    await Promise.race([new Promise((r) => s.once('data', r)), pause(10000)]);
    if (running) bump(`upload 30 KiB trickled: ${first.slice(9, 12) || 'no reply'}`);
    s.destroy();
    await pause(1000);
  }
}

// ---- garbage: one connection of a random kind every 200 ms
const JUNK = 'junk\x00\x01\x02 not HTTP\r\n\r\n';
const wsHandshake = (extra = '') => `GET /api/ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
  `Connection: Upgrade\r\nSec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\n` +
  `Sec-WebSocket-Version: 13\r\n${extra}\r\n`;
// A client frame: masked unless told otherwise
function frame(opcode, payload, { masked = true, fin = true } = {}) {
  const body = Buffer.from(payload);
  const len = body.length < 126 ? [body.length] : [126, body.length >> 8, body.length & 255];
  const mask = crypto.randomBytes(4);
  const head = Buffer.from([(fin ? 0x80 : 0) | opcode, (masked ? 0x80 : 0) | len[0], ...len.slice(1)]);
  if (!masked) return Buffer.concat([head, body]);
  return Buffer.concat([head, mask, body.map((b, i) => b ^ mask[i % 4])]);
}
const BAD_FRAMES = [
  frame(1, 'unmasked text', { masked: false }),
  frame(3, 'reserved opcode'),
  frame(9, 'x'.repeat(200)),  // A ping longer than 125 bytes
  frame(1, Buffer.from([0xc3, 0x28])),  // Invalid UTF-8
  Buffer.from([0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4]),  // 2^63 - 1 bytes announced
  frame(0, 'continuation with nothing to continue'),
];
const GARBAGE = {
  'random bytes': (s) => s.write(crypto.randomBytes(512)),
  'connect, close': (s) => s.end(),
  'connect, reset': (s, done) => { s.resetAndDestroy(); done('we reset'); },
  'GET the asset, reset at once': (s, done) => { s.write(`GET ${asset} HTTP/1.1\r\nHost: x\r\n\r\n`); s.resetAndDestroy(); done('we reset'); },
  'GET the asset, reset mid-reply': (s, done) => {
    s.write(`GET ${asset} HTTP/1.1\r\nHost: x\r\n\r\n`);
    s.once('data', () => { s.resetAndDestroy(); done('we reset'); });
  },
  'TLS hello': (s) => s.write(Buffer.concat([Buffer.from([0x16, 3, 1, 0, 0xa5, 1, 0, 0, 0xa1, 3, 3]), crypto.randomBytes(160)])),
  '16 KiB header': (s) => s.write(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(16384)}\r\n\r\n`),
  'CL and TE': (s) => s.write('POST /api/sets/leds HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'),
  'request, half-close': (s) => { s.write(`GET /api/sets/device HTTP/1.1\r\nHost: x\r\nCookie: ${cookie}\r\n\r\n`); s.end(); },
  'HTTP/1.0': (s) => s.write('GET /index.html HTTP/1.0\r\n\r\n'),
  'WebSocket without cookie': (s) => s.write(wsHandshake()),
  'WebSocket from another origin': (s) => s.write(wsHandshake(`Cookie: ${cookie}\r\nOrigin: http://evil.example\r\n`)),
  'WebSocket bad frame': (s) => {
    s.write(wsHandshake(`Cookie: ${cookie}\r\n`));
    s.once('data', () => s.write(BAD_FRAMES[Math.floor(Math.random() * BAD_FRAMES.length)]));
  },
  'WebSocket write, reset at once': (s, done) => {
    s.write(wsHandshake(`Cookie: ${cookie}\r\n`));
    s.once('data', () => {
      s.write(frame(1, JSON.stringify({ id: 9, set: 'leds', values: { led3: true } })));
      s.resetAndDestroy();
      done('we reset');
    });
  },
  'slow head': (s) => {  // A head a line every 5 s: 408 after the head timeout (30 s)
    s.write('GET /index.html HTTP/1.1\r\nHost: x\r\n');
    const t = setInterval(() => (s.destroyed ? clearInterval(t) : s.write('X-Slow: 1\r\n')), 5000);
  },
};
// Opens one; resolves with what came back and how it ended
function garbage(kind) {
  return new Promise((resolve) => {
    const s = tcp();
    let head = '', settled = false;
    const done = (how) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      s.destroy();
      const status = head.match(/^HTTP\/1\.[01] (\d{3})/);
      resolve(`${status ? status[1] : head ? 'bytes' : 'nothing'}, ${how}`);
    };
    let timer = setTimeout(() => done('still open after 40 s'), 40000);
    s.on('data', (d) => {
      if (head) return;
      head = d.toString('latin1', 0, 16);
      clearTimeout(timer);  // Answered: a keep-alive connection may stay open, a refused one should not
      timer = setTimeout(() => done('answered, left open'), 2000);
    });
    s.on('end', () => done('closed by the server'));
    s.on('error', (e) => done(e.code === 'ECONNRESET' ? 'reset by the server' : e.code));
    s.on('connect', () => GARBAGE[kind](s, done));
  });
}
async function runGarbage() {
  const kinds = Object.keys(GARBAGE);
  let open = 0, slowHeads = 0;
  await every(200, () => {
    let kind = kinds[Math.floor(Math.random() * kinds.length)];
    if (kind === 'slow head' && slowHeads >= 10) kind = 'random bytes';  // At most 10 at once
    if (open >= 60) return;
    open++;
    if (kind === 'slow head') slowHeads++;
    garbage(kind).then((outcome) => {
      open--;
      if (kind === 'slow head') slowHeads--;
      bump(`garbage ${kind}: ${outcome}`);
    });
  });
}

// ---- the pipelining attack (the issue's): every attackPeriodMs after the warm-up, 20
// connections pipeline 400 GETs of the largest asset, then junk, and never read; one more
// pipelines 200 and reads at 16 KiB/s. Held attackHoldMs, then dropped (unread data: RST).
// Waves alternate between identity (the firmware inflates) and gzip (sent as stored).
async function runAttack() {
  await pause(warmupMs - (performance.now() - started));
  for (let wave = 0; running; wave++) {
    const gzip = wave % 2 === 1;
    const get = `GET ${asset} HTTP/1.1\r\nHost: 127.0.0.1\r\n${gzip ? 'Accept-Encoding: gzip\r\n' : ''}\r\n`;
    parentPort.postMessage({ type: 'attack', on: true, wave, gzip });
    const socks = Array.from({ length: 20 }, () => {
      const s = tcp();
      s.pause();  // Never read
      s.on('connect', () => s.write(get.repeat(400) + JUNK));
      return s;
    });
    const slow = tcp();
    let slowBytes = 0;
    readSlowly(slow, 16384, (d) => (slowBytes += d.length));
    slow.on('connect', () => slow.write(get.repeat(200)));
    const waveStart = performance.now();
    await pause(attackHoldMs);
    socks.forEach((s) => s.destroy());
    slow.destroy();
    bump(`attack waves (${gzip ? 'gzip' : 'identity'})`);
    bump('attack: bytes read by the slow pipeliner', slowBytes);
    parentPort.postMessage({ type: 'attack', on: false, wave });
    await pause(attackPeriodMs - (performance.now() - waveStart));
  }
}

function report(type) {
  const out = { type, counts: { ...counts }, lagP99: lag.p99() };
  lag.reset();
  parentPort.postMessage(out);
}

parentPort.on('message', async (m) => {
  if (m !== 'stop') return;
  running = false;
  for (const ws of liveWs) (ws.closedByUs = true), ws.close(1001);
  await sleep(1000);
  for (const ws of liveWs) ws.terminate();
  for (const s of liveSockets) s.destroy();
  report('done');
});
setInterval(() => running && report('counts'), 10000).unref();

for (const job of [runCrowd(), runSlowWs(slowWsCount), runSessions(5), runSlowHttp(5), runUploads(), runSlowUpload(),
  runGarbage(), runAttack()]) {
  job.catch((e) => parentPort.postMessage({ type: 'error', message: `${e.stack}` }));
}
