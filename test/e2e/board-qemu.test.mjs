// The board firmware (build/arm/firmware.elf: the dashboard on the built-in stack over the
// LAN9118) in QEMU's mps2-an385, port 80 forwarded to an ephemeral host port through the
// restricted user network: curl on the dashboard and REST, `ws` for live pushes, Chromium
// setting the admin password, logging in and toggling an LED, QEMU idle while nothing
// happens, and the heap's high-water mark under 8 browser connections and 4 WebSocket
// clients. QEMU is stopped afterwards.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import WebSocket from 'ws';
import { PASSWORD, api, launchBrowser, problemLog, session } from './dashboard-lib.mjs';
import { dashboardClients } from '../bench/board-load.mjs';
import { QEMU, READY, freePort, hasQemu, spawnBoard, stopBoard, waitForLog } from './qemu-board.mjs';

const ELF = process.env.BOARD_FIRMWARE || 'build/arm/firmware.elf';
const skip = !hasQemu() ? `no ${QEMU} (Debian: qemu-system-arm)`
  : !fs.existsSync(ELF) ? `${ELF} not built (make arm)` : false;
if (skip) console.log(`# board-qemu skipped: ${skip}`);

let qemu, url, port, output = '';

function cpuTicks(pid) {  // utime + stime of the process, in clock ticks
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]);
}

function curl(path, ...args) {
  const r = spawnSync('curl', ['-sS', '--max-time', '10', ...args, `${url}${path}`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

before(async () => {
  if (skip) return;
  port = await freePort();
  url = `http://127.0.0.1:${port}/`;
  qemu = spawnBoard(ELF, port, (d) => { output += d; });
  await waitForLog(qemu, () => output, READY, 20000);
});

after(() => stopBoard(qemu));

test('the board boots on QEMU user networking with DHCP and says where its dashboard is', { skip }, () => {
  assert.match(output, /LAN9118 at 0x40200000, ID_REV 0x1180001/);
  assert.match(output, /DHCP: 10\.0\.2\.15 for \d+ s from 10\.0\.2\.2/);
  assert.match(output, /meerkat-mps2 firmware .* on mps2-an385, 3000 PBKDF2 iterations/);
});

test('curl: the packed dashboard and the REST API through the forwarded port', { skip }, () => {
  const page = curl('', '--compressed', '-w', '\n%{http_code} %{content_type}');
  assert.match(page, /<!doctype html>/i);
  assert.match(page, /\n200 text\/html/);
  const asset = /\/assets\/[^"]+\.js/.exec(page)?.[0];
  assert.ok(asset, 'the page names its script');
  assert.match(curl(asset.slice(1), '--compressed', '-o', '/dev/null', '-w', '%{http_code} %{size_download}'), /^200 [1-9]\d{3,}$/);
  assert.deepEqual(JSON.parse(curl('api/auth')), { setup: true, user: null, level: null });
  assert.match(curl('api/sets', '-w', ' %{http_code}'), / 401$/, 'field sets need a session');
});

test('Chromium: set the admin password, log in, toggle an LED and see the live value', { skip }, async () => {
  const browser = await launchBrowser();
  const log = problemLog();
  try {
    const page = log.watch(await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage());
    await page.goto(url);
    await page.getByRole('heading', { level: 1, name: 'Welcome' }).waitFor();
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Password again').fill(PASSWORD);
    await page.getByRole('button', { name: /Set password/ }).click();
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    await page.locator('[data-testid="conn"][data-state="online"]').waitFor();
    await page.getByTestId('memory-peak').getByText(/\d+(\.\d+)? KiB/).waitFor();

    const other = log.watch(await (await browser.newContext()).newPage());  // A second browser logs in
    await other.goto(url);
    await other.getByRole('heading', { level: 1, name: 'Log in' }).waitFor();
    await other.getByLabel('User name').fill('admin');
    await other.getByLabel('Password').fill(PASSWORD);
    await other.getByRole('button', { name: 'Log in' }).click();
    await other.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    await other.locator('[data-testid="conn"][data-state="online"]').waitFor();

    const led = (p, value) => p.locator(`[data-testid="leds"] [role="switch"][data-field="led1"][aria-checked="${value}"]`);
    await led(page, 'false').click();
    await led(other, 'true').waitFor({ timeout: 10000 });  // Pushed over /api/ws to the other one
    await led(page, 'true').waitFor({ timeout: 10000 });
    assert.match(output, /LEDs: 1 0 0/);
    assert.deepEqual(log.problems, []);
  } finally {
    await browser.close();
  }
});

test('ws: /api/ws sends every set first, then pushes a change made over REST', { skip }, async () => {
  const cookie = await session(url);
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api/ws`, { headers: { Cookie: cookie } });
  const messages = [];
  const waitFor = (pred, what) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${what}: ${JSON.stringify(messages)}`)), 10000);
    const look = () => {
      const m = messages.find(pred);
      if (m) {
        clearTimeout(timer);
        ws.off('message', look);
        resolve(m);
      }
    };
    ws.on('message', look);
    look();
  });
  ws.on('message', (d) => messages.push(JSON.parse(d)));
  try {
    const device = await waitFor((m) => m.set === 'device', 'device set');
    assert.ok(device.values.memory_peak > 0 && device.values.memory_peak <= 512 * 1024, `heap peak ${device.values.memory_peak}`);
    await waitFor((m) => m.set === 'leds', 'leds set');
    const r = await api(url, 'POST', 'api/sets/leds', { led3: true }, cookie);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await waitFor((m) => m.set === 'leds' && m.values.led3 === true, 'the push of led3');
    await waitFor((m) => m.set === 'sensors' && messages.indexOf(m) > messages.findIndex((x) => x.set === 'sensors'), 'a sensor push');
  } finally {
    const closed = new Promise((resolve) => ws.on('close', resolve));
    ws.close();
    await closed;
  }
});

// Idle, the core sleeps in WFI until the LAN9118 or a timer wakes it: QEMU then takes a few
// percent of a host core at most (a busy loop takes all of it: 100 ticks a second)
test('an idle board leaves the host core idle too', { skip }, async () => {
  const seconds = 3, hz = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;
  const t0 = cpuTicks(qemu.pid);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const used = (cpuTicks(qemu.pid) - t0) / hz / seconds;
  assert.ok(used < 0.2, `QEMU used ${(used * 100).toFixed(1)}% of a core while the board was idle`);
});

// The budget's load (`make bench` prints its figure): 8 keep-alive connections loading the
// dashboard and 4 /api/ws clients seeing a push, all open at once. Each TCP connection takes
// its 16 KiB of rings, a TCB and a struct mg_connection, with 2 KiB iobufs while it reads or
// answers: 13 of them (one more reads the device set) and the firmware's own state (the
// sensors' history among it) come to 265-320 KiB from run to run, as the clients' requests
// interleave; the bound keeps a quarter of the 512 KiB arena spare. memory_peak is the
// mark since boot, so the browsers above count too.
const HEAP_BOUND = 384 * 1024;
test('8 browser connections and 4 WebSocket clients keep the heap mark under 384 KiB', { skip }, async () => {
  const r = await dashboardClients(url, await session(url), { browsers: 8, ws: 4 });
  assert.deepEqual([r.sockets, r.ws, r.pushes], [8, 4, 4], 'connections used and pushes seen');
  assert.ok(r.memoryPeak > 0 && r.memoryPeak <= HEAP_BOUND, `heap high-water mark ${r.memoryPeak} bytes, bound ${HEAP_BOUND}`);
});
