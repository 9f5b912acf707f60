// A stand-in for a device's OTA side (GET/POST api/ota, POST api/ota/rollback and the
// `ota` field set), in front of a real firmware that serves everything else: the
// Firmware page's states without flashing anything. Uploads trickle at `rate` bytes/s,
// a verified image "restarts" the device (every connection dropped, the port closed
// for `downMs`). Dev use: node test/e2e/ota-mock.mjs http://127.0.0.1:8000 [PORT]
import crypto from 'node:crypto';
import http from 'node:http';
import { WebSocket, WebSocketServer } from 'ws';

const HEADER = 128, SIG = 64;

// An image as core/ota/ota_image.h lays it out (signature not checked: all zero means unsigned)
export function makeImage(version, payloadSize = 256 * 1024, { signed = true } = {}) {
  const payload = crypto.randomBytes(payloadSize);
  const header = Buffer.alloc(HEADER);
  header.write('MKOT', 0, 'latin1');
  header.writeUInt16LE(1, 4);
  header.writeUInt16LE(HEADER, 6);
  version.split('.').forEach((n, i) => header.writeUInt16LE(Number(n), 8 + 2 * i));
  header.writeBigUInt64LE(BigInt(payloadSize), 24);
  crypto.createHash('sha256').update(payload).digest().copy(header, 32);
  header.write('host', 64, 'latin1');
  return Buffer.concat([header, payload, signed ? crypto.randomBytes(SIG) : Buffer.alloc(SIG)]);
}

const older = (a, b) => {
  const [x, y] = [a, b].map((v) => v.split(/[.+]/).slice(0, 3).map(Number));
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] < y[i];
  return false;
};

export async function startOtaMock(device, { port = 0, rate = 2 << 20, downMs = 1500, version = '1.0.0', other = '0.9.0', slotSize = 16 << 20 } = {}) {
  const dev = {
    version, board: 'host', slot: 0, trial: false, rolled_back: false,
    other: { slot: 1, valid: !!other, version: other || null }, upload: null, error: '',
  };
  let ota = { state: 'idle', bytes: 0, total: 0, version: '', error: '' };
  let busy = false, restartPending = false, stored = [];  // the bytes of the upload record
  const clients = new Set(), sockets = new Set();
  const push = (patch) => {
    ota = { ...ota, ...patch };
    for (const c of clients) c.send(JSON.stringify({ set: 'ota', values: ota }));
  };

  async function level(req) {
    const r = await fetch(new URL('api/auth', device), { headers: { Cookie: req.headers.cookie || '' } });
    return (await r.json()).level;
  }
  const reply = (res, status, body) => {
    res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', Connection: 'close' });
    res.end(JSON.stringify(body));
  };

  function forward(req, res) {
    const up = http.request(new URL(req.url, device), { method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  }

  function restartInto(slot) {
    const wasRunning = { slot: dev.slot, valid: true, version: dev.version };
    restartPending = true;
    push({ state: 'restarting' });
    setTimeout(async () => {
      dev.version = slot.version;
      dev.slot = slot.slot;
      dev.other = wasRunning;
      dev.trial = true;
      await mock.restart();
      restartPending = false;
      ota = { state: 'idle', bytes: 0, total: 0, version: '', error: '' };
      setTimeout(() => (dev.trial = false), 3000);
    }, 300);
  }

  // The body after the header check, at `rate`; the record grows as bytes arrive
  function receive(req, res, start, total, force) {
    busy = true;
    const began = Date.now();
    let got = 0, checked = start > 0, lastPush = 0;
    const fail = (status, error) => {
      busy = false;
      dev.error = error;
      push({ state: 'failed', error });
      reply(res, status, { error });
      req.destroy();
    };
    req.on('data', (chunk) => {
      if (!busy) return;
      stored.push(chunk);
      got += chunk.length;
      const have = Buffer.concat(stored);
      if (!checked && have.length >= HEADER) {
        checked = true;
        if (have.subarray(0, 4).toString('latin1') !== 'MKOT') return fail(400, 'Not a firmware image: it does not start with MKOT');
        const v = [8, 10, 12].map((o) => have.readUInt16LE(o)).join('.');
        if (!force && older(v, dev.version)) return fail(422, `Version ${v} is older than the running ${dev.version}: confirm a downgrade to install it`);
        if (total > slotSize) return fail(413, `The image is ${total} bytes; a slot holds ${slotSize}`);
        dev.upload = { id: have.subarray(32, 64).toString('hex'), total, received: 0, version: v };
      }
      if (dev.upload) dev.upload.received = start + got;
      if (Date.now() - lastPush > 200) {
        lastPush = Date.now();
        push({ state: 'receiving', bytes: start + got, total, version: dev.upload?.version || '' });
      }
      const ahead = (got / rate) * 1000 - (Date.now() - began);  // ms ahead of the rate
      if (ahead > 0) {
        req.pause();
        setTimeout(() => req.resume(), ahead);
      }
    });
    req.on('close', () => {
      if (!busy) return;
      if (start + got < total) {  // cut off: the record stays for a resume
        busy = false;
        push({ state: 'idle', error: `Upload cut off at ${start + got} of ${total} bytes` });
      }
    });
    req.on('end', async () => {
      if (!busy) return;
      push({ state: 'verifying', bytes: total });
      await new Promise((r) => setTimeout(r, 400));
      const image = Buffer.concat(stored);
      const size = Number(image.readBigUInt64LE(24));
      const sum = crypto.createHash('sha256').update(image.subarray(HEADER, HEADER + size)).digest('hex');
      stored = [];
      const upload = dev.upload;
      dev.upload = null;
      if (image.length !== HEADER + size + SIG) return fail(400, `Truncated image: ${image.length} of ${HEADER + size + SIG} bytes`);
      if (sum !== upload.id) return fail(400, 'The payload does not match its SHA-256: the file is damaged');
      if (image.subarray(HEADER + size).every((b) => b === 0)) return fail(400, 'Bad signature: the image is not signed with this device\'s key');
      busy = false;
      dev.error = '';
      reply(res, 200, { ok: true, version: upload.version, restarting: true });
      restartInto({ slot: dev.other.slot, version: upload.version });
    });
  }

  async function otaPost(req, res, url) {
    if (req.headers['x-requested-with'] !== 'meerkat') return reply(res, 403, { error: 'A state change needs X-Requested-With: meerkat' });
    const lvl = await level(req);
    if (!lvl) return reply(res, 401, { error: 'Log in first' });
    if (lvl !== 'admin') return reply(res, 403, { error: 'Only an admin may update the firmware' });
    if (busy || restartPending) return reply(res, 409, { error: restartPending ? 'An update waits for the restart' : 'Another upload is running' });
    if (url.pathname === '/api/ota/rollback') {
      if (!dev.other.valid) return reply(res, 409, { error: 'The other slot holds no valid firmware' });
      reply(res, 200, { ok: true, restarting: true });
      return restartInto(dev.other);
    }
    const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(req.headers['content-range'] || '');
    const length = Number(req.headers['content-length']);
    if (!range) {
      dev.upload = null;
      stored = [];
      return receive(req, res, 0, length, url.searchParams.get('force') === '1');
    }
    const [start, , total] = range.slice(1).map(Number);
    if (!dev.upload || start !== dev.upload.received || total !== dev.upload.total) {
      return reply(res, 416, { error: `The device holds ${dev.upload?.received ?? 0} bytes of this upload`, received: dev.upload?.received ?? 0 });
    }
    receive(req, res, start, total, true);
  }

  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://mock');
    if (url.pathname === '/api/ota' && req.method === 'GET') {
      if (!(await level(req))) return reply(res, 401, { error: 'Log in first' });
      return reply(res, 200, dev);
    }
    if ((url.pathname === '/api/ota' || url.pathname === '/api/ota/rollback') && req.method === 'POST') return otaPost(req, res, url);
    forward(req, res);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  // The WebSocket goes through to the device, with the `ota` set joined in
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (client) => {
      const up = new WebSocket(new URL(req.url, device.replace(/^http/, 'ws')), { headers: { Cookie: req.headers.cookie || '' } });
      const early = [];
      up.on('open', () => {
        clients.add(client);
        client.send(JSON.stringify({ set: 'ota', values: ota }));
        for (const m of early.splice(0)) up.send(m);
      });
      up.on('message', (m) => client.send(m.toString()));
      up.on('close', () => client.close());
      up.on('error', () => client.terminate());
      client.on('message', (m) => (up.readyState === WebSocket.OPEN ? up.send(m.toString()) : early.push(m.toString())));
      client.on('close', () => {
        clients.delete(client);
        up.close();
      });
    });
  });
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  port = server.address().port;

  const mock = {
    url: `http://127.0.0.1:${port}/`,
    dev,
    get ota() {
      return ota;
    },
    // Drop everything and refuse connections, as a stopped device does
    async down() {
      for (const c of clients) c.terminate();
      clients.clear();
      const closed = new Promise((r) => server.close(r));
      for (const s of sockets) s.destroy();
      await closed;
      busy = false;
    },
    up: () => new Promise((r) => server.listen(port, '127.0.0.1', r)),
    async restart(ms = downMs) {
      await mock.down();
      await new Promise((r) => setTimeout(r, ms));
      await mock.up();
    },
    close() {
      for (const c of clients) c.terminate();
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(r));
    },
  };
  return mock;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const mock = await startOtaMock(process.argv[2] || 'http://127.0.0.1:8000/', { port: Number(process.argv[3] || 0) });
  console.log(`OTA mock on ${mock.url}`);
}
