// examples/dashboard-device in Chromium: an operator switches the pump, sets its speed
// and boosts it from the pump's page (the boost ends by itself), a viewer sees values
// and no enabled control, the speed survives a clean restart (a boost's does not), and
// the README's recipes are the example's code. Screenshots: build/e2e/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { FIRMWARE, OUT, api, contextWithSession, launchBrowser, problemLog, session, startFirmware } from './dashboard-lib.mjs';

// Built beside the firmware of the same flavour: build/examples/..., build/asan/examples/...
const DEVICE = process.env.DEVICE || path.join(path.dirname(path.dirname(FIRMWARE)), 'examples/dashboard-device');
const OPERATOR = ['otto', 'operator-pass-1'], VIEWER = ['vera', 'viewer-pass-1'];
let device, browser, admin, operator, viewer;
const log = problemLog();

async function open(cookie, hash) {
  const context = await contextWithSession(browser, device.url, cookie, { viewport: { width: 1280, height: 800 } });
  const page = log.watch(await context.newPage());
  await page.goto(new URL(hash, device.url).href);
  await page.locator('[data-testid="conn"][data-state="online"]').waitFor();
  return page;
}

const pump = async () => (await api(device.url, 'GET', 'api/sets/pump', undefined, admin)).body;

// Polls the device until check(pump) holds; tries is in tenths of a second
async function pumpHas(check, what, tries = 50) {
  for (let i = 0; i < tries; i++) {
    if (check(await pump())) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`the pump never had ${what}: ${JSON.stringify(await pump())}`);
}

async function addUser([user, password], level) {
  const r = await api(device.url, 'POST', 'api/users', { user, password, level }, admin);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return session(device.url, user, password);
}

before(async () => {
  device = await startFirmware(DEVICE);
  browser = await launchBrowser();
  admin = await session(device.url);
  operator = await addUser(OPERATOR, 'operator');
  viewer = await addUser(VIEWER, 'viewer');
});

after(async () => {
  await browser?.close();
  await device?.stop();
});

test('an operator switches the pump on, sets its speed and boosts it; the boost ends by itself', async () => {
  const page = await open(operator, '#/pump');
  const card = page.getByTestId('pump');
  assert.deepEqual(await pump(), { on: false, speed: 50 }, 'the defaults of pump.c');
  await card.getByRole('switch', { name: 'Pump' }).click();
  await pumpHas((p) => p.on === true, 'on');

  const speed = card.getByRole('slider', { name: 'Speed' });
  await speed.fill('0');  // on_write refuses it, and its reason shows under the slider
  await card.getByText('a running pump needs a speed above 0').waitFor();
  assert.equal((await pump()).speed, 50);
  await speed.fill('70');
  await pumpHas((p) => p.speed === 70, 'speed 70');

  await card.getByRole('button', { name: 'Boost' }).click();
  await page.getByText('Run at full speed for 10 s?').waitFor();
  await page.getByRole('button', { name: 'Confirm' }).click();
  await pumpHas((p) => p.speed === 100, 'speed 100');
  await card.locator('output', { hasText: /^100\s*%$/ }).waitFor();
  await page.screenshot({ path: path.join(OUT, 'device-pump-boost.png'), fullPage: true });
  // The one-shot timer puts the speed back after 10 s, and the page follows the push
  await pumpHas((p) => p.speed === 70, 'speed 70 again after the boost', 200);
  await card.locator('output', { hasText: /^70\s*%$/ }).waitFor();
  await page.context().close();
});

test('a viewer sees the pump as values, with no enabled control, and may not boost it', async () => {
  const page = await open(viewer, '#/pump');
  const card = page.getByTestId('pump');
  await card.locator('[data-field="speed"]').waitFor();
  assert.match(await card.locator('[data-field="speed"]').textContent(), /^Speed\s*70\s*%$/);
  assert.ok(await card.getByRole('switch', { name: 'Pump' }).isDisabled(), 'the switch is shown, not switchable');
  assert.equal(await card.locator('input').count(), 0, 'no slider');
  assert.equal(await card.locator('button:enabled').count(), 0, 'no enabled control (Boost is an operator\'s)');
  const r = await api(device.url, 'POST', 'api/pump/boost', {}, viewer);
  assert.equal(r.status, 403, JSON.stringify(r.body));
  await page.context().close();
});

test('the speed set before a clean stop is there after a start; a boost running at the stop is not', async () => {
  let r = await api(device.url, 'POST', 'api/sets/pump', { speed: 37 }, operator);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await device.halt();  // SIGTERM: exit 0, no sanitizer report
  await device.restart();
  admin = await session(device.url);  // Sessions live in RAM
  assert.deepEqual(await pump(), { on: true, speed: 37 });

  r = await api(device.url, 'POST', 'api/pump/boost', {}, admin);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal((await pump()).speed, 100);
  await device.halt();
  await device.restart();
  admin = await session(device.url);
  assert.deepEqual(await pump(), { on: true, speed: 37 }, 'the stop ended the boost: pump_free');
});

test("the README's maker recipes are the example's code", () => {
  const readme = fs.readFileSync('README.md', 'utf8');
  const recipes = [...readme.matchAll(/<!-- from (examples\/dashboard-device\/\S+) -->\n```\w*\n([\s\S]*?)```/g)];
  assert.ok(recipes.length >= 5, `README.md quotes ${recipes.length} recipes of the example`);
  for (const [, file, code] of recipes) {
    const source = fs.readFileSync(file, 'utf8');
    assert.ok(source.includes(code), `README.md's recipe from ${file} is not in it as written:\n${code}`);
  }
});

test('no console errors, failed requests or unexpected error responses', () => {
  assert.deepEqual(log.problems, []);
});
