// The firmware's field sets (core/dash/API.md) against real clients: fetch for REST,
// node's `ws` for /api/ws. Schema and values, 400 with per-field reasons and nothing
// changed, persistence across a restart, a corrupt settings file set aside, fields
// unknown to this build kept, snapshots and pushes, two clients seeing each other's
// writes, the sensors ticking.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { startServer, tmpdir, waitForLog } from './lib.mjs';

const FIRMWARE = process.env.BIN ? path.join(process.env.BIN, '..', 'firmware', 'firmware') : 'build/firmware/firmware';
const PASSWORD = 'dash-test-password';
let fw, base, data, cookie = '';

// Start the firmware on dir and log in; returns its own cookie (each firmware has its sessions)
async function start(dir) {
  let cookie = '';
  const srv = await startServer(FIRMWARE, ['-l', 'http://127.0.0.1:0', '-d', dir]);
  const url = `http://127.0.0.1:${srv.port}`;
  const auth = await fetch(`${url}/api/auth`);
  if (auth.status === 200) {
    const { setup } = await auth.json();
    const body = JSON.stringify(setup ? { password: PASSWORD } : { user: 'admin', password: PASSWORD });
    const res = await fetch(`${url}/api/auth/${setup ? 'setup' : 'login'}`,
      { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
    assert.equal(res.status, 200, await res.text());
    cookie = res.headers.get('set-cookie').split(';')[0];
  }
  return { srv, url, cookie };
}

const api = (p, opts = {}) => fetch(`${base}/api/${p}`, { ...opts, headers: { Cookie: cookie, ...(opts.headers || {}) } });
const post = (p, body) => api(p, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
const values = async (set) => (await api(`sets/${set}`)).json();

// A WebSocket client that keeps every message; next(pred) waits for one that matches
function connect(url = base) {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/api/ws`, { headers: { Cookie: cookie } });
  const msgs = [];
  let waiters = [];
  ws.on('message', (d) => {
    const m = JSON.parse(d.toString());
    msgs.push(m);
    waiters = waiters.filter((w) => !(w.pred(m) && (w.resolve(m), true)));
  });
  const next = (pred, ms = 3000) => new Promise((resolve, reject) => {
    const found = msgs.find(pred);
    if (found) return resolve(found);
    const t = setTimeout(() => reject(new Error(`no such message in ${JSON.stringify(msgs).slice(-600)}`)), ms);
    waiters.push({ pred, resolve: (m) => { clearTimeout(t); resolve(m); } });
  });
  const opened = new Promise((resolve, reject) => { ws.on('open', resolve); ws.on('error', reject); });
  return { ws, msgs, next, opened, clear: () => msgs.splice(0) };
}

before(async () => {
  data = tmpdir('dash');
  ({ srv: fw, url: base, cookie } = await start(path.join(data, 'd')));
});

after(async () => {
  await fw?.stop();
  fs.rmSync(data, { recursive: true, force: true });
});

test('GET /api/sets: the five sets with types, limits and access', async () => {
  const res = await api('sets');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /application\/json/);
  const { sets } = await res.json();
  assert.deepEqual(sets.map((s) => s.name), ['device', 'leds', 'sensors', 'settings', 'ota']);
  const ota = sets.find((s) => s.name === 'ota');
  assert.deepEqual(ota.fields.map((x) => [x.name, x.type, x.writable]),
    [['state', 'enum', false], ['bytes', 'int', false], ['total', 'int', false], ['version', 'string', false], ['error', 'string', false]]);
  const settings = sets.find((s) => s.name === 'settings');
  assert.equal(settings.persist, true);
  const f = Object.fromEntries(settings.fields.map((x) => [x.name, x]));
  assert.deepEqual([f.interval.type, f.interval.min, f.interval.max, f.interval.writable], ['int', 1, 3600, true]);
  assert.deepEqual([f.name.type, f.name.max_len], ['string', 32]);
  assert.deepEqual(f.unit.values, ['celsius', 'fahrenheit']);
  assert.equal(f.unit.write, 'admin');
  const device = sets.find((s) => s.name === 'device');
  assert.deepEqual(device.fields.map((x) => x.name), ['name', 'version', 'uptime', 'free_memory', 'connections', 'memory_peak']);
  assert.ok(device.fields.every((x) => x.writable === false));
  const free = device.fields.find((x) => x.name === 'free_memory');
  assert.deepEqual([free.type, free.bits, free.unit], ['int', 64, 'B'], 'a host has more than 2^31 bytes');
  assert.ok(sets.find((s) => s.name === 'leds').fields.every((x) => x.type === 'bool' && x.writable));
});

test('GET /api/sets/NAME: values; the device set is refreshed on read; 404 for no such set', async () => {
  const dev = await values('device');
  assert.equal(typeof dev.name, 'string');
  assert.match(dev.version, /^\d+\.\d+\.\d+/);
  assert.ok(Number.isInteger(dev.uptime) && Number.isInteger(dev.free_memory) && dev.connections >= 1);
  assert.ok(dev.memory_peak > 0, `memory_peak ${dev.memory_peak}: the process's peak resident set`);
  // Not clamped to 2^31 - 1 (test/unit/test_dash.c pins the field; this only looks when
  // the host has plenty free, so a small host passes too)
  const memFree = Number(/^MemFree:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0) * 1024;
  if (memFree > 2 ** 33) assert.ok(dev.free_memory > 2 ** 32, `free_memory ${dev.free_memory}, MemFree ${memFree}`);
  assert.deepEqual(Object.keys(await values('leds')), ['led1', 'led2', 'led3']);
  const s = await values('sensors');
  assert.equal(typeof s.temperature, 'number');
  assert.ok(s.humidity >= 0 && s.humidity <= 100);
  const res = await api('sets/nope');
  assert.equal(res.status, 404);
  assert.deepEqual(await res.json(), { error: 'no such set' });
});

test('POST: a partial write lands and answers the whole set', async () => {
  const res = await post('sets/leds', { led2: true });
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { led1: false, led2: true, led3: false });
  assert.deepEqual(await values('leds'), { led1: false, led2: true, led3: false });
  await post('sets/leds', { led2: false });
});

test('POST: any bad field gives 400 with a reason per field and changes nothing', async () => {
  const before = await values('settings');
  const res = await post('sets/settings', { name: 'ok', interval: 0, unit: 'kelvin', x: 1 });
  assert.equal(res.status, 400);
  const body = await res.json();
  assert.equal(body.error, 'invalid fields');
  assert.equal(body.fields.interval, 'must be between 1 and 3600');
  assert.match(body.fields.unit, /celsius, fahrenheit/);
  assert.equal(body.fields.x, 'unknown field');
  assert.equal(body.fields.name, undefined);
  assert.deepEqual(await values('settings'), before, 'the good field did not land either');
  for (const [b, field, reason] of [
    [{ interval: 1.5 }, 'interval', 'must be an integer'],
    [{ interval: '5' }, 'interval', 'must be an integer'],
    [{ name: 'x'.repeat(33) }, 'name', 'must be at most 32 bytes of UTF-8 (this is 33)'],
    [{ name: '\u20ac'.repeat(11) }, 'name', 'must be at most 32 bytes of UTF-8 (this is 33)'],  // 11 characters
    [{ name: '' }, 'name', 'must be 1 to 32 bytes of UTF-8'],
    [{ name: 'a\u0000b' }, 'name', 'must not contain NUL (\\u0000)'],
  ]) {
    const r = await post('sets/settings', b);
    assert.equal(r.status, 400, JSON.stringify(b));
    assert.equal((await r.json()).fields[field], reason);
  }
  let r = await post('sets/leds', { led1: 1 });
  assert.equal((await r.json()).fields.led1, 'must be true or false');
  r = await post('sets/device', { uptime: 5 });
  assert.equal(r.status, 400);
  assert.equal((await r.json()).fields.uptime, 'read-only');
  r = await post('sets/leds', '{"led1":tr');
  assert.equal(r.status, 400);
  assert.equal((await r.json()).error, 'bad JSON: expected a value at byte 8 in member "led1"');
  r = await post('sets/settings', '{"name":"x\\ud800"}');  // A lone surrogate: no character, no UTF-8
  assert.equal(r.status, 400);
  assert.equal((await r.json()).error, 'bad JSON: a lone surrogate \\ud800 (not a character) at byte 10 in member "name"');
  assert.deepEqual(await values('settings'), before);
  r = await post('sets/settings', { name: '\u20ac'.repeat(10) });  // 30 bytes fit
  assert.equal(r.status, 200, await r.text());
  assert.equal((await values('settings')).name, '\u20ac'.repeat(10));
  assert.equal((await post('sets/settings', { name: before.name })).status, 200);
});

test('settings persist across a restart; the device name follows settings.name', async () => {
  const res = await post('sets/settings', { name: 'greenhouse', interval: 60, unit: 'fahrenheit' });
  assert.equal(res.status, 200);
  assert.equal((await values('device')).name, 'greenhouse');
  const saved = JSON.parse(fs.readFileSync(path.join(data, 'd', 'settings.json'), 'utf8'));
  assert.deepEqual(saved, { name: 'greenhouse', interval: 60, unit: 'fahrenheit' });
  await fw.stop();
  ({ srv: fw, url: base, cookie } = await start(path.join(data, 'd')));
  assert.deepEqual(await values('settings'), { name: 'greenhouse', interval: 60, unit: 'fahrenheit' });
  assert.equal((await values('device')).name, 'greenhouse');
});

test('a corrupt settings file is kept as settings.json.bad, defaults are used, and the schema flags it', async () => {
  const dir = path.join(data, 'corrupt');
  fs.mkdirSync(dir);
  const corrupt = '{"name":"half a fi';
  fs.writeFileSync(path.join(dir, 'settings.json'), corrupt);
  const { srv, url, cookie: own } = await start(dir);
  const get = async (p) => (await fetch(`${url}/api/${p}`, { headers: { Cookie: own } })).json();
  try {
    await waitForLog(srv, /settings file .*settings\.json is corrupt \(an unterminated string at byte 8 in member "name"\): using defaults; the file is kept as .*settings\.json\.bad/);
    const s = await get('sets/settings');
    assert.equal(s.interval, 10);
    assert.equal(s.unit, 'celsius');
    assert.match(s.name, /^meerkat-/);
    assert.equal(fs.readFileSync(path.join(dir, 'settings.json.bad'), 'utf8'), corrupt, 'the corrupt file is kept byte for byte');
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'settings.json'), 'utf8')), s, 'the file holds the defaults now');
    const { sets } = await get('sets');
    assert.deepEqual(sets.find((x) => x.name === 'settings').corrupt, { reason: 'not JSON', kept: 'settings.json.bad' });
    assert.equal(sets.find((x) => x.name === 'leds').corrupt, undefined, 'only the set whose file was corrupt');
  } finally {
    await srv.stop();
  }
  fs.writeFileSync(path.join(dir, 'settings.json'), '{"name":"kept","interval":99999}');
  const again = await start(dir);
  try {
    const s = await (await fetch(`${again.url}/api/sets/settings`, { headers: { Cookie: again.cookie } })).json();
    assert.deepEqual([s.name, s.interval], ['kept', 10], 'an out-of-range value falls back to its default');
    const { sets } = await (await fetch(`${again.url}/api/sets`, { headers: { Cookie: again.cookie } })).json();
    assert.equal(sets.find((x) => x.name === 'settings').corrupt, undefined, 'a file that parses is no corrupt one');
  } finally {
    await again.srv.stop();
  }
});

test('fields this build does not know are kept in the file through a write and a restart', async () => {
  const dir = path.join(data, 'unknown');
  fs.mkdirSync(dir);
  const file = path.join(dir, 'settings.json');
  fs.writeFileSync(file, JSON.stringify({ name: 'newer', colour: { r: 1, g: [2, 3] }, interval: 20, unit: 'celsius', note: 'caf\u00e9' }));
  for (const interval of [30, 40]) {  // A write, then a restart and another write
    const { srv, url, cookie: own } = await start(dir);
    try {
      await waitForLog(srv, /settings\.json: field "colour" is unknown to this build: kept for the next save/);
      const res = await fetch(`${url}/api/sets/settings`,
        { method: 'POST', headers: { Cookie: own, 'Content-Type': 'application/json' }, body: JSON.stringify({ interval }) });
      const text = await res.text();
      assert.equal(res.status, 200, text);
      assert.deepEqual(JSON.parse(text), { name: 'newer', interval, unit: 'celsius' }, 'the API shows the known fields only');
    } finally {
      await srv.stop();
    }
    assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')),
      { name: 'newer', interval, unit: 'celsius', colour: { r: 1, g: [2, 3] }, note: 'caf\u00e9' });
  }
  assert.equal(fs.existsSync(`${file}.bad`), false);
});

test('WebSocket: one snapshot message per set right after the upgrade', async () => {
  const c = connect();
  await c.opened;
  for (const set of ['device', 'leds', 'sensors', 'settings']) {
    const m = await c.next((x) => x.set === set);
    assert.equal(typeof m.values, 'object');
    if (set !== 'sensors') assert.equal(m.history, undefined, `${set} keeps no history`);
  }
  assert.deepEqual((await c.next((x) => x.set === 'leds')).values, await values('leds'));
  c.ws.close();
});

test('WebSocket: the first message of the sensors carries their history, oldest first', async () => {
  const { sets } = await (await api('sets')).json();
  const charted = sets.flatMap((s) => s.fields.filter((f) => f.history).map((f) => `${s.name}.${f.name}`));
  assert.deepEqual(charted, ['sensors.temperature', 'sensors.humidity'], 'the schema names the fields with history');
  const c = connect();
  await c.opened;
  const { history } = await c.next((x) => x.set === 'sensors');
  c.ws.close();
  const ages = history.age_ms;
  assert.ok(ages.length >= 1 && ages.length <= 300, `${ages.length} samples`);
  assert.deepEqual(Object.keys(history.values), ['temperature', 'humidity']);
  for (const col of Object.values(history.values)) {
    assert.equal(col.length, ages.length);
    assert.ok(col.every((v) => typeof v === 'number'));
  }
  assert.ok(ages.every((age, i) => i === 0 || age < ages[i - 1]), `oldest first: ${ages}`);
});

test('WebSocket: two clients see each other\'s writes; errors come back with the id', async () => {
  const a = connect(), b = connect();
  await Promise.all([a.opened, b.opened]);
  await a.next((x) => x.set === 'leds');
  await b.next((x) => x.set === 'leds');
  a.clear(), b.clear();
  a.ws.send(JSON.stringify({ id: 7, set: 'leds', values: { led3: true } }));
  assert.deepEqual(await a.next((x) => x.id === 7), { id: 7, ok: true });
  const pushed = await b.next((x) => x.set === 'leds' && x.values.led3 === true);
  assert.deepEqual(pushed.values, { led1: false, led2: false, led3: true });
  await a.next((x) => x.set === 'leds' && x.values.led3 === true);  // the writer too
  b.ws.send(JSON.stringify({ set: 'leds', values: { led3: false } }));  // REST and WS are one state
  await a.next((x) => x.set === 'leds' && x.values.led3 === false);
  b.ws.send(JSON.stringify({ id: 'w', set: 'settings', values: { interval: 0 } }));
  const err = await b.next((x) => x.id === 'w');
  assert.equal(err.error, 'invalid fields');
  assert.equal(err.fields.interval, 'must be between 1 and 3600');
  b.ws.send('{"set":');
  const bad = await b.next((x) => x.error?.startsWith('bad JSON'));
  assert.deepEqual(bad, { error: 'bad JSON: the text ends early at byte 7 in member "set"' });
  assert.equal(b.ws.readyState, WebSocket.OPEN, 'the socket stays open');
  await post('sets/leds', { led1: true });  // a REST write is pushed as well
  await b.next((x) => x.set === 'leds' && x.values.led1 === true);
  await post('sets/leds', { led1: false });
  a.ws.close(), b.ws.close();
});

// Each /api/ws socket holds at most MG_DASH_WS_MAX_MESSAGE (64 KiB) of one message, not the
// library's default (MG_MAX_RECV_SIZE, 3 MiB): a message over it closes with 1009 from its
// header; one over MG_DASH_MAX_BODY but under the bound gets an error and the socket stays
test('WebSocket: a message over 64 KiB closes that socket with 1009; a smaller oversized one gets an error', async () => {
  const a = connect(), b = connect();
  await Promise.all([a.opened, b.opened]);
  await a.next((x) => x.set === 'leds');
  a.ws.send(' '.repeat(5000));
  const err = await a.next((x) => x.error?.startsWith('message of 5000 bytes'));
  assert.equal(err.error, 'message of 5000 bytes: at most 4096');
  assert.equal(a.ws.readyState, WebSocket.OPEN);
  const closed = new Promise((resolve) => {
    b.ws.on('close', (code) => resolve(code));
    setTimeout(() => resolve('still open after 3 s'), 3000);
  });
  b.ws.on('error', () => {});
  b.ws.send(' '.repeat(70000));
  assert.equal(await closed, 1009);
  b.ws.close();
  a.ws.send(JSON.stringify({ id: 9, set: 'leds', values: { led2: false } }));
  assert.deepEqual(await a.next((x) => x.id === 9), { id: 9, ok: true }, 'the other socket is served');
  a.ws.close();
});

test('WebSocket: the sensors tick every second and are pushed', async () => {
  const c = connect();
  await c.opened;
  await c.next((x) => x.set === 'sensors');
  c.clear();
  const t0 = Date.now();
  await c.next((x) => x.set === 'sensors', 2500);
  const first = Date.now();
  c.clear();
  await c.next((x) => x.set === 'sensors', 2500);
  const gap = Date.now() - first;
  assert.ok(gap > 700 && gap < 1600, `pushes about a second apart: ${gap} ms (first after ${first - t0} ms)`);
  c.ws.close();
});

test('WebSocket: a burst of changes reaches a client coalesced, ending on the latest values', async () => {
  const c = connect();
  await c.opened;
  await c.next((x) => x.set === 'leds');
  await new Promise((r) => setTimeout(r, 150));
  c.clear();
  for (let i = 0; i < 20; i++) await post('sets/leds', { led1: i % 2 === 0 });  // ends on led1 false
  await new Promise((r) => setTimeout(r, 300));
  const leds = c.msgs.filter((x) => x.set === 'leds');
  assert.equal(leds.at(-1).values.led1, false, 'the last push holds the latest values');
  assert.ok(leds.length < 20, `coalesced: ${leds.length} pushes for 20 writes`);
  c.ws.close();
});

test('WebSocket: logging out closes that session\'s open sockets (1008); another session\'s stay open', async () => {
  const login = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ user: 'admin', password: PASSWORD }) });
  assert.equal(login.status, 200);
  const first = cookie, second = login.headers.get('set-cookie').split(';')[0];
  const mine = connect();
  cookie = second;  // connect() sends the current cookie; the tests after this one keep the live session
  const other = connect();
  await Promise.all([mine.opened, other.opened]);
  const closed = new Promise((resolve) => mine.ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  const before = await values('leds');
  const out = await fetch(`${base}/api/auth/logout`, { method: 'POST', headers: { Cookie: first, 'X-Requested-With': 'meerkat' } });
  assert.equal(out.status, 200);
  const t0 = Date.now();
  // A write right after the logout (if the close has not arrived yet) must not land
  mine.ws.send(JSON.stringify({ id: 9, set: 'leds', values: { led2: !before.led2 } }), () => {});
  const { code, reason } = await Promise.race([closed, new Promise((r) => setTimeout(() => r({ code: 'still open' }), 3000))]);
  assert.equal(code, 1008, 'the socket of the ended session is closed with policy violation');
  assert.match(reason, /session ended/);
  // At once: before, a check once a second closed it up to 1 s later (~1 ms now)
  assert.ok(Date.now() - t0 < 500, `closed ${Date.now() - t0} ms after the logout`);
  assert.equal(mine.msgs.find((x) => x.id === 9), undefined, 'the write got no answer');
  assert.deepEqual(await values('leds'), before, 'and did not land');
  assert.equal(other.ws.readyState, WebSocket.OPEN, 'the other session\'s socket stays open');
  other.ws.send(JSON.stringify({ id: 1, set: 'leds', values: { led2: true } }));
  assert.deepEqual(await other.next((x) => x.id === 1), { id: 1, ok: true });
  other.ws.close();
});
