// The dashboard in Chromium, served by the firmware: the header names the device
// from api/info, navigation moves the hash, the heading and aria-current, a
// phone still has its navigation, relative URLs work under a path prefix, and
// nothing logs an error or fails to load. Screenshots land in build/e2e/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../integration/lib.mjs';

const FIRMWARE = process.env.FIRMWARE || 'build/firmware/firmware';
const OUT = fileURLToPath(new URL('../../build/e2e', import.meta.url));

// The firmware on an ephemeral port with a fresh data directory. stop() fails on
// a non-zero exit or a sanitizer report (these tests also run the ASan+UBSan build).
async function startFirmware() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'meerkat-e2e-'));
  const removeData = () => fs.rmSync(dataDir, { recursive: true, force: true });
  let fw;
  try {
    fw = await startServer(FIRMWARE, ['-l', 'http://127.0.0.1:0', '-d', dataDir]);
  } catch (err) {
    removeData();
    throw err;
  }
  return {
    url: `http://127.0.0.1:${fw.port}/`,
    log: fw.log,
    async stop() {
      try {
        await fw.stop();
      } finally {
        removeData();
      }
    },
  };
}

// A reverse proxy that serves the device under /device/, as a user's gateway might.
function startPrefixProxy(target, prefix) {
  const server = http.createServer((req, res) => {
    if (!req.url.startsWith(prefix)) return res.writeHead(404).end('outside the prefix');
    const upstream = http.request(new URL(req.url.slice(prefix.length - 1), target), { method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end('device not reachable'));
    req.pipe(upstream);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${server.address().port}${prefix}`,
    close: () => new Promise((r) => server.close(r)),
  })));
}

let firmware, browser, info, session;
const problems = [];  // console errors, failed requests, error responses, page errors

// A page that records every problem it meets.
async function openPage(options = {}) {
  const context = await browser.newContext(options);
  // Logged in as the admin set up in before() (the login page is the dashboard's to test)
  await context.addCookies([{ name: 'mk_session', value: session, url: firmware.url }]);
  const page = await context.newPage();
  page.on('console', (msg) => msg.type() === 'error' && problems.push(`console: ${msg.text()}`));
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()} ${req.failure()?.errorText}`));
  page.on('response', (res) => res.status() >= 400 && problems.push(`HTTP ${res.status()}: ${res.url()}`));
  return page;
}

async function expectRoute(page, name, title) {
  await page.getByRole('heading', { level: 1, name: title }).waitFor();
  assert.equal(new URL(page.url()).hash, `#/${name}`);
  const nav = page.getByRole('navigation', { name: 'Main' });
  const current = nav.locator('a[aria-current="page"]');
  assert.equal(await current.count(), 1, 'exactly one link is current');
  assert.equal((await current.textContent()).trim(), title);
  assert.equal(await current.getAttribute('href'), `#/${name}`);
}

before(async () => {
  fs.mkdirSync(OUT, { recursive: true });
  for (const d of ['xdg-config', 'xdg-cache', 'tmp']) fs.mkdirSync(path.join(OUT, d), { recursive: true });
  firmware = await startFirmware();
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost'],
    env: {
      ...process.env,
      XDG_CONFIG_HOME: path.join(OUT, 'xdg-config'),
      XDG_CACHE_HOME: path.join(OUT, 'xdg-cache'),
      TMPDIR: path.join(OUT, 'tmp'),
    },
  });
  // /api/ needs a session: set up the admin and keep its cookie for every page
  const setup = await fetch(new URL('api/auth/setup', firmware.url), {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ password: 'dashboard-test' }),
  });
  assert.equal(setup.status, 200, 'setup');
  session = setup.headers.get('set-cookie').split(';')[0].slice('mk_session='.length);
  const res = await fetch(new URL('api/info', firmware.url), { headers: { Cookie: `mk_session=${session}` } });
  assert.equal(res.status, 200, 'api/info answers');
  info = await res.json();
});

after(async () => {
  await browser?.close();
  const fw = firmware;  // null when the last test already stopped it
  firmware = null;
  await fw?.stop();
});

test('the header shows the device name and firmware version from api/info', async () => {
  assert.equal(typeof info.name, 'string');
  assert.equal(typeof info.version, 'string');
  const page = await openPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(firmware.url);
  const header = page.getByRole('banner');
  await header.getByText(info.name, { exact: true }).waitFor();
  assert.equal((await header.getByTestId('device-version').textContent()).trim(), `v${info.version}`);
  await expectRoute(page, 'overview', 'Overview');
  const overview = page.getByTestId('overview');
  await overview.getByText(info.version, { exact: true }).waitFor();
  assert.match(await overview.textContent(), /Uptime\s*\d+ (s|min|h|d)\b/);
  await page.screenshot({ path: path.join(OUT, 'dashboard-desktop.png'), fullPage: true });
  await page.context().close();
});

test('navigation moves between Overview, Settings and Firmware, and back', async () => {
  const page = await openPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(firmware.url);
  await expectRoute(page, 'overview', 'Overview');
  const nav = page.getByRole('navigation', { name: 'Main' });

  await nav.getByRole('link', { name: 'Settings' }).click();
  await expectRoute(page, 'settings', 'Settings');
  await page.getByText('Device settings will appear here').waitFor();

  await nav.getByRole('link', { name: 'Firmware' }).click();
  await expectRoute(page, 'firmware', 'Firmware');
  await page.getByText('Firmware update (OTA) will appear here').waitFor();

  await page.goBack();
  await expectRoute(page, 'settings', 'Settings');
  await nav.getByRole('link', { name: 'Overview' }).click();
  await expectRoute(page, 'overview', 'Overview');

  await page.goto(new URL('#/firmware', firmware.url).href);  // a deep link opens its page
  await expectRoute(page, 'firmware', 'Firmware');
  await page.context().close();
});

test('on a phone-sized screen the navigation stays visible and usable', async () => {
  const page = await openPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  await page.goto(firmware.url);
  await page.getByRole('banner').getByText(info.name, { exact: true }).waitFor();
  const nav = page.getByRole('navigation', { name: 'Main' });
  for (const title of ['Overview', 'Settings', 'Firmware']) {
    const box = await nav.getByRole('link', { name: title }).boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= 390 && box.y + box.height <= 844, `${title} link is on screen: ${JSON.stringify(box)}`);
  }
  assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth), 'no horizontal scrolling');
  await page.screenshot({ path: path.join(OUT, 'dashboard-phone.png'), fullPage: true });
  await nav.getByRole('link', { name: 'Settings' }).tap();
  await expectRoute(page, 'settings', 'Settings');
  await page.context().close();
});

test('dark mode follows the system colour scheme', async () => {
  const page = await openPage({ viewport: { width: 1280, height: 800 }, colorScheme: 'dark' });
  await page.goto(firmware.url);
  await page.getByRole('banner').getByText(info.name, { exact: true }).waitFor();
  const light = 'rgb(248, 250, 252)';  // the light background; dark mode must not keep it
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.notEqual(bg, light, `body background in dark mode: ${bg}`);
  await page.screenshot({ path: path.join(OUT, 'dashboard-desktop-dark.png'), fullPage: true });
  await page.context().close();
});

test('every URL is relative: the dashboard works under a path prefix', async () => {
  const proxy = await startPrefixProxy(firmware.url, '/device/');
  try {
    const page = await openPage({ viewport: { width: 1280, height: 800 } });
    const requests = [];
    page.on('request', (req) => requests.push(req.url()));
    await page.goto(proxy.url);
    await page.getByRole('banner').getByText(info.name, { exact: true }).waitFor();
    const origin = new URL(proxy.url).origin;
    const outside = requests.filter((u) => u.startsWith(origin) && !u.startsWith(proxy.url));
    assert.deepEqual(outside, [], 'no request leaves the prefix');
    assert.ok(requests.includes(`${proxy.url}api/info`), `api/info fetched under the prefix: ${requests.join(' ')}`);
    await page.context().close();
  } finally {
    await proxy.close();
  }
});

test('no console errors, failed requests or error responses on any page', () => {
  assert.deepEqual(problems, []);
});

test('the firmware exits cleanly on SIGTERM, with no sanitizer report', async () => {
  await browser.close();
  browser = null;
  const fw = firmware;
  firmware = null;
  await fw.stop();
});
