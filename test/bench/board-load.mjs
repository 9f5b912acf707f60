// Load and probes for the board benchmark (test/bench/board.sh) and the board's e2e test:
// keep-alive HTTP clients, the dashboard's 8 browser connections and 4 WebSocket clients,
// a word of the guest's RAM read through QEMU's monitor, and a userspace TCP proxy.
//   node board-load.mjs http BASE CONNS REQUESTS  -> "requests=N sockets=C"
//   node board-load.mjs dash BASE COOKIE          -> "memory_peak=B sockets=8 ws=4 pushes=4"
//   node board-load.mjs peek MONITOR ADDR...      -> "0xADDR=VALUE ..." (32-bit words)
//   node board-load.mjs stack MONITOR TOP SIZE F  -> "stack_used=B" (F: a scratch file)
//   node board-load.mjs proxy PORT                -> "proxy on P": 127.0.0.1:P to :PORT until killed
// Exits non-zero with a line on stderr when something fails.
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

const TIMEOUT_MS = 15000;

// One request on agent; resolves {status, body, socket}
function get(agent, base, path, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(path, base), { agent, method, headers, timeout: TIMEOUT_MS }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks), socket: req.socket }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in ${TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

async function expectOk(agent, base, path, options) {
  const r = await get(agent, base, path, options);
  if (r.status !== 200) throw new Error(`${options?.method || 'GET'} ${path}: ${r.status} ${r.body.toString().slice(0, 200)}`);
  return r;
}

// REQUESTS GETs of / over CONNS keep-alive connections at once (each its own agent, so
// each request waits for the one before on its connection); returns the sockets used
export async function keepAliveRequests(base, conns, requests) {
  const sockets = new Set();
  const agents = Array.from({ length: conns }, () => new http.Agent({ keepAlive: true, maxSockets: 1 }));
  try {
    await Promise.all(agents.map(async (agent, i) => {
      for (let n = i; n < requests; n += conns) sockets.add((await expectOk(agent, base, '/')).socket);
    }));
  } finally {
    agents.forEach((a) => a.destroy());
  }
  return { requests, sockets: sockets.size };
}

// A browser's worth on one keep-alive connection: the page, every asset it names, the
// session's state and the field sets, gzip-encoded as a browser asks
async function browserVisit(agent, base, cookie, sockets) {
  const headers = { 'Accept-Encoding': 'gzip', Cookie: cookie };
  const page = await expectOk(agent, base, '/', { headers });
  const html = page.headers['content-encoding'] === 'gzip' ? zlib.gunzipSync(page.body) : page.body;
  const assets = [...html.toString().matchAll(/(?:src|href)="\.?\/?(assets\/[^"]+)"/g)].map((m) => `/${m[1]}`);
  if (assets.length === 0) throw new Error('the page names no asset');
  sockets.add(page.socket);
  for (const path of [...assets, '/api/auth', '/api/sets']) sockets.add((await expectOk(agent, base, path, { headers })).socket);
}

// Resolves once a message of ws satisfies pred
function wsWait(ws, pred, what) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`no ${what} in ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
    const look = (d) => {
      const m = JSON.parse(d);
      if (pred(m)) done(null, m);
    };
    const closed = () => done(new Error(`the socket closed before ${what}`));
    function done(err, m) {
      clearTimeout(timer);
      ws.off('message', look);
      ws.off('close', closed);
      if (err) reject(err); else resolve(m);
    }
    ws.on('message', look);
    ws.on('close', closed);
  });
}

async function wsOpen(base, cookie) {
  const ws = new WebSocket(new URL('/api/ws', base).href.replace(/^http/, 'ws'), { headers: { Cookie: cookie } });
  const snapshot = wsWait(ws, (m) => m.set === 'leds', 'the leds set');
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return { ws, leds: (await snapshot).values };
}

// browsers keep-alive connections load the dashboard, ws WebSocket clients of /api/ws see
// an LED change pushed; then, all of them still open, the device set is read on the first
// connection. Returns its memory_peak and what was open; closes everything.
export async function dashboardClients(base, cookie, { browsers = 8, ws = 4 } = {}) {
  const agents = Array.from({ length: browsers }, () => new http.Agent({ keepAlive: true, maxSockets: 1 }));
  const sockets = new Set(), clients = [];
  try {
    await Promise.all(agents.map((agent) => browserVisit(agent, base, cookie, sockets)));
    for (let i = 0; i < ws; i++) clients.push(await wsOpen(base, cookie));
    const led1 = !clients[0]?.leds.led1;
    const pushes = clients.map((c) => wsWait(c.ws, (m) => m.set === 'leds' && m.values.led1 === led1, 'the push of led1'));
    await expectOk(agents[0], base, '/api/sets/leds', {
      method: 'POST', headers: { Cookie: cookie, 'Content-Type': 'application/json' }, body: JSON.stringify({ led1 }),
    });
    await Promise.all(pushes);
    const device = JSON.parse((await expectOk(agents[0], base, '/api/sets/device', { headers: { Cookie: cookie } })).body);
    return { memoryPeak: device.memory_peak, sockets: sockets.size, ws: clients.length, pushes: pushes.length };
  } finally {
    await Promise.all(clients.map(({ ws: c }) => new Promise((resolve) => {
      if (c.readyState === WebSocket.CLOSED) return resolve();
      c.once('close', resolve);
      c.close();
    })));
    agents.forEach((a) => a.destroy());
  }
}

// Commands to QEMU's human monitor on a unix socket, one after the other; resolves with what
// each printed. It reads the guest's memory with no guest code involved, so the program
// measured stays as it is.
export function monitor(path, commands) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(path);
    const outputs = [];
    let out = '', started = false;
    const timer = setTimeout(() => sock.destroy(new Error(`QEMU's monitor ${path} did not answer`)), TIMEOUT_MS);
    sock.setEncoding('latin1');
    sock.on('data', (d) => {
      out += d;
      if (!out.endsWith('(qemu) ')) return;  // The prompt: the banner or the last command is done
      if (started) outputs.push(out.slice(out.indexOf('\n') + 1, -'(qemu) '.length));
      started = true;
      out = '';
      if (outputs.length < commands.length) return sock.write(`${commands[outputs.length]}\n`);
      clearTimeout(timer);
      sock.end();
      resolve(outputs);
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

// 32-bit words of the guest's physical memory at addrs
export async function monitorWords(path, addrs) {
  const outputs = await monitor(path, addrs.map((a) => `xp /1wx ${a}`));
  return outputs.map((o, i) => {
    const m = /^[0-9a-f]+: 0x([0-9a-f]+)/m.exec(o);
    if (!m) throw new Error(`xp ${addrs[i]}: ${o.trim()}`);
    return parseInt(m[1], 16);
  });
}

// Bytes of the size bytes below top that the stack has used: QEMU starts the RAM zeroed, so
// the lowest non-zero word is as deep as it went (a zero pushed there first would go unseen)
export async function stackUsed(path, top, size, file) {
  const out = await monitor(path, [`pmemsave ${Number(top) - size} ${size} "${file}"`]);
  if (!fs.existsSync(file)) throw new Error(`pmemsave: ${out[0].trim()}`);
  const ram = fs.readFileSync(file);
  fs.rmSync(file);
  const first = ram.findIndex((b) => b !== 0);
  return first < 0 ? 0 : size - (first & ~3);
}

// A userspace TCP proxy on 127.0.0.1, as QEMU's user-mode forward is one for the board:
// each connection accepted gets its own to 127.0.0.1:port, bytes copied both ways
export function tcpProxy(port) {
  return new Promise((resolve, reject) => {
    const server = net.createServer((client) => {
      const upstream = net.connect(port, '127.0.0.1');
      client.setNoDelay(true);
      upstream.setNoDelay(true);
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

async function main([cmd, ...args]) {
  if (cmd === 'http' && args.length === 3) {
    const r = await keepAliveRequests(args[0], Number(args[1]), Number(args[2]));
    console.log(`requests=${r.requests} sockets=${r.sockets}`);
  } else if (cmd === 'dash' && args.length === 2) {
    const r = await dashboardClients(args[0], args[1]);
    console.log(`memory_peak=${r.memoryPeak} sockets=${r.sockets} ws=${r.ws} pushes=${r.pushes}`);
  } else if (cmd === 'peek' && args.length >= 2) {
    const words = await monitorWords(args[0], args.slice(1));
    console.log(args.slice(1).map((a, i) => `${a}=${words[i]}`).join(' '));
  } else if (cmd === 'stack' && args.length === 4) {
    console.log(`stack_used=${await stackUsed(args[0], args[1], Number(args[2]), args[3])}`);
  } else if (cmd === 'proxy' && args.length === 1) {
    const server = await tcpProxy(Number(args[0]));
    console.log(`proxy on ${server.address().port}`);
    process.on('SIGTERM', () => process.exit(0));
  } else {
    console.error('usage: node board-load.mjs http BASE CONNS REQUESTS | dash BASE COOKIE | peek MONITOR ADDR... | stack MONITOR TOP SIZE FILE | proxy PORT');
    process.exit(2);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((e) => {
    console.error(`board-load: ${e.message}`);
    process.exit(1);
  });
}
