// The dashboard in Chromium, served by the firmware, with a session: the header
// names the device, navigation moves the hash, the heading and aria-current, a
// phone reaches every page (also with two more registered, seven in all), relative URLs (REST and
// the WebSocket) work under a path prefix, dark mode, and nothing logs an error
// or fails to load; a settings file found corrupt at start shows a notice.
// Screenshots land in build/e2e/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { OUT, api, contextWithSession, launchBrowser, pagesBundle, problemLog, servePagesBundle, session, startFirmware } from './dashboard-lib.mjs';

// A reverse proxy that serves the device under /device/, as a user's gateway
// might, WebSocket upgrades included.
function startPrefixProxy(target, prefix) {
  const t = new URL(target);
  const server = http.createServer((req, res) => {
    if (!req.url.startsWith(prefix)) return res.writeHead(404).end('outside the prefix');
    const upstream = http.request(new URL(req.url.slice(prefix.length - 1), target), { method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end('device not reachable'));
    req.pipe(upstream);
  });
  server.on('upgrade', (req, socket, head) => {
    if (!req.url.startsWith(prefix)) return socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
    const device = net.connect(Number(t.port), t.hostname, () => {
      let lines = `${req.method} ${req.url.slice(prefix.length - 1)} HTTP/1.1\r\n`;
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
      device.write(`${lines}\r\n`);
      if (head.length) device.write(head);
      device.pipe(socket).pipe(device);
    });
    device.on('error', () => socket.destroy());
    socket.on('error', () => device.destroy());
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${server.address().port}${prefix}`,
    close: () => new Promise((r) => {
      server.closeAllConnections?.();
      server.close(r);
    }),
  })));
}

let firmware, browser, cookie, device;
const log = problemLog();

async function openPage(options = { viewport: { width: 1280, height: 800 } }) {
  const context = await contextWithSession(browser, firmware.url, cookie, options);
  return log.watch(await context.newPage());
}

async function expectRoute(page, name, title) {
  await page.getByRole('heading', { level: 1, name: title }).waitFor().catch(async (e) => {
    // Once seen under load and not again: say what the page showed instead
    const shown = await page.evaluate(() => ({ hash: location.hash, h1: [...document.querySelectorAll('h1')].map((h) => h.textContent),
      text: document.body.innerText.slice(0, 300) })).catch((why) => `page gone: ${why.message}`);
    throw new Error(`no "${title}" heading for #/${name}: the page shows ${JSON.stringify(shown)}\n${e.message}`);
  });
  // An unknown hash is renamed after the first page has rendered (an effect): wait for it
  await page.waitForFunction((hash) => location.hash === hash, `#/${name}`, { timeout: 2000 }).catch(() => {});
  assert.equal(new URL(page.url()).hash, `#/${name}`);
  const nav = page.getByRole('navigation', { name: 'Main' });
  const current = nav.locator('a[aria-current="page"]');
  assert.equal(await current.count(), 1, 'exactly one link is current');
  assert.equal((await current.textContent()).trim(), title);
  assert.equal(await current.getAttribute('href'), `#/${name}`);
}

// Two more pages registered in pages/index.js (seven in all)
const morePagesBundle = () => pagesBundle({
  'Extra.jsx': `import { Page } from '../kit';
export const Diagnostics = () => <Page title="Diagnostics">Diagnostics page</Page>;
export const Network = () => <Page title="Network">Network page</Page>;
`,
}, `import { Diagnostics, Network } from './Extra.jsx';
pages.push({ path: 'diagnostics', title: 'Diagnostics', component: Diagnostics, icon: icons.chart },
  { path: 'network', title: 'Network', component: Network, icon: icons.bolt });`);

before(async () => {
  firmware = await startFirmware();
  browser = await launchBrowser();
  cookie = await session(firmware.url);
  const r = await api(firmware.url, 'GET', 'api/sets/device', undefined, cookie);
  assert.equal(r.status, 200, 'api/sets/device answers with a session');
  device = r.body;
});

after(async () => {
  await browser?.close();
  const fw = firmware;  // null when the last test already stopped it
  firmware = null;
  await fw?.stop();
});

test('the header shows the device name and firmware version, and the dot says online', async () => {
  assert.equal(typeof device.name, 'string');
  assert.equal(typeof device.version, 'string');
  const info = await api(firmware.url, 'GET', 'api/info', undefined, cookie);
  assert.equal(info.body.version, device.version, 'api/info and the device set agree');
  const page = await openPage();
  await page.goto(firmware.url);
  const header = page.getByRole('banner');
  await header.getByText(device.name, { exact: true }).waitFor();
  assert.equal((await header.getByTestId('device-version').textContent()).trim(), `v${device.version}`);
  await header.locator('[data-testid="conn"][data-state="online"]').waitFor();
  await expectRoute(page, 'overview', 'Overview');
  const overview = page.getByTestId('overview');
  await overview.getByText(device.version, { exact: true }).waitFor();
  assert.match(await page.getByTestId('uptime').textContent(), /Uptime\s*\d+ (s|min|h|d)\b/);
  await page.screenshot({ path: path.join(OUT, 'dashboard-desktop.png'), fullPage: true });
  await page.context().close();
});

test('navigation moves between the pages, and back', async () => {
  const page = await openPage();
  await page.goto(firmware.url);
  await expectRoute(page, 'overview', 'Overview');
  const nav = page.getByRole('navigation', { name: 'Main' });

  await nav.getByRole('link', { name: 'Settings' }).click();
  await expectRoute(page, 'settings', 'Settings');
  await page.locator('form[data-set="settings"] input[name="interval"]').waitFor();

  await nav.getByRole('link', { name: 'Users' }).click();
  await expectRoute(page, 'users', 'Users');
  await page.getByTestId('users').getByText('admin', { exact: true }).waitFor();

  await nav.getByRole('link', { name: 'Firmware' }).click();
  await expectRoute(page, 'firmware', 'Firmware');
  await page.getByTestId('version').getByText(device.version, { exact: true }).waitFor();  // what runs, from api/ota

  await page.goBack();
  await expectRoute(page, 'users', 'Users');
  await nav.getByRole('link', { name: 'Overview' }).click();
  await expectRoute(page, 'overview', 'Overview');

  await page.goto(new URL('#/firmware', firmware.url).href);  // a deep link opens its page
  await expectRoute(page, 'firmware', 'Firmware');
  await page.goto(new URL('#/no-such-page', firmware.url).href);  // an unknown one, the first
  await expectRoute(page, 'overview', 'Overview');
  await page.context().close();
});

for (const more of [false, true]) {
  test(`on a phone-sized screen every page of the navigation is on screen and usable${more ? ', with seven pages registered' : ''}`, async () => {
    const page = await openPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    if (more) {
      const js = await morePagesBundle();
      await servePagesBundle(page, js);
    }
    await page.goto(firmware.url);
    await page.getByRole('banner').getByText(device.name, { exact: true }).waitFor();
    const nav = page.getByRole('navigation', { name: 'Main' });
    const pages = [['overview', 'Overview'], ['settings', 'Settings'], ['state', 'State'], ['users', 'Users'], ['firmware', 'Firmware'],
      ...(more ? [['diagnostics', 'Diagnostics'], ['network', 'Network']] : [])];
    assert.equal(await nav.getByRole('link').count(), pages.length);
    for (const [, title] of pages) {
      const box = await nav.getByRole('link', { name: title }).boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= 390 && box.y >= 0 && box.y + box.height <= 844, `${title} link is on screen: ${JSON.stringify(box)}`);
    }
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth), 'no horizontal scrolling');
    await page.screenshot({ path: path.join(OUT, `dashboard-phone${more ? '-seven-pages' : ''}.png`), fullPage: true });
    for (const [name, title] of [...pages.slice(1), pages[0]]) {
      await nav.getByRole('link', { name: title }).tap();
      await expectRoute(page, name, title);
    }
    await page.context().close();
  });
}

test('dark mode follows the system colour scheme', async () => {
  const page = await openPage({ viewport: { width: 1280, height: 800 }, colorScheme: 'dark' });
  await page.goto(firmware.url);
  await page.getByRole('banner').getByText(device.name, { exact: true }).waitFor();
  const light = 'rgb(248, 250, 252)';  // the light background; dark mode must not keep it
  const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.notEqual(bg, light, `body background in dark mode: ${bg}`);
  await page.screenshot({ path: path.join(OUT, 'dashboard-desktop-dark.png'), fullPage: true });
  await page.context().close();
});

test('every URL is relative: the dashboard, its REST calls and its WebSocket work under a path prefix', async () => {
  const proxy = await startPrefixProxy(firmware.url, '/device/');
  try {
    const page = await openPage();
    const requests = [], sockets = [];
    page.on('request', (req) => requests.push(req.url()));
    page.on('websocket', (ws) => sockets.push(ws.url()));
    await page.goto(proxy.url);
    await page.getByRole('banner').getByText(device.name, { exact: true }).waitFor();  // from the WebSocket
    await page.locator('[data-testid="conn"][data-state="online"]').waitFor();
    const origin = new URL(proxy.url).origin;
    const outside = requests.filter((u) => u.startsWith(origin) && !u.startsWith(proxy.url));
    assert.deepEqual(outside, [], 'no request leaves the prefix');
    for (const p of ['api/auth', 'api/sets']) assert.ok(requests.includes(`${proxy.url}${p}`), `${p} fetched under the prefix: ${requests.join(' ')}`);
    assert.deepEqual(sockets, [`${proxy.url.replace('http:', 'ws:')}api/ws`]);
    await page.context().close();
  } finally {
    await proxy.close();
  }
});

test('the firmware serves the dashboard at / only: a nested path is a 404, not a blank page', async () => {
  const root = await fetch(firmware.url);
  assert.equal(root.status, 200);
  assert.match(await root.text(), /<div id="app">/);
  const nested = await fetch(new URL('foo/bar', firmware.url));
  assert.equal(nested.status, 404);
});

test('a settings file that was corrupt at start: the settings page says so, and where the old file is', async () => {
  await firmware.halt();
  fs.writeFileSync(path.join(firmware.dataDir, 'settings.json'), '{"interval": 60, "unit": "kel');
  await firmware.restart();
  cookie = await session(firmware.url);  // The sessions went with the restart
  const page = await openPage();
  await page.goto(new URL('#/settings', firmware.url).href);
  const notice = page.getByTestId('corrupt-notice');
  await notice.waitFor();
  assert.equal(await notice.getAttribute('role'), 'alert');
  assert.match(await notice.textContent(), /settings\.json file was corrupt at start \(not JSON\), so the defaults are in use; the old file is kept on the device as settings\.json\.bad\./);
  const interval = page.locator('form[data-set="settings"] input[name="interval"]');
  await interval.waitFor();
  assert.equal(await interval.inputValue(), '10', 'the default');
  await page.screenshot({ path: path.join(OUT, 'dashboard-settings-corrupt.png'), fullPage: true });
  await page.context().close();

  await firmware.halt();  // The defaults were saved: the next start is a normal one
  await firmware.restart();
  cookie = await session(firmware.url);
  const again = await openPage();
  await again.goto(new URL('#/settings', firmware.url).href);
  await again.locator('form[data-set="settings"] input[name="interval"]').waitFor();
  assert.equal(await again.getByTestId('corrupt-notice').count(), 0);
  await again.context().close();
});

test('no console errors, failed requests or error responses on any page', () => {
  assert.deepEqual(log.problems, []);
});

test('the firmware exits cleanly on SIGTERM, with no sanitizer report', async () => {
  await browser.close();
  browser = null;
  const fw = firmware;
  firmware = null;
  await fw.stop();
});
