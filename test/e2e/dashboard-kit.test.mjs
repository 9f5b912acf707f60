// The kit's controls and the State page in Chromium against the firmware: a
// Toggle shows its label, a ConfirmButton asks before it acts (in the page, no
// window.confirm), controls bound to a field write it and are values for a user
// who may not write it, a toggle on State applies at once, and a viewer sees
// values with their units and no enabled control. Screenshots: build/e2e/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { OUT, api, contextWithSession, launchBrowser, pagesBundle, problemLog, servePagesBundle, session, startFirmware } from './dashboard-lib.mjs';

const VIEWER = ['vera', 'viewer-pass-1'];
const desktop = { viewport: { width: 1280, height: 800 } };
const phone = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
let firmware, browser, admin, viewer;
const log = problemLog();

// A maker's page built from the kit alone; each test that uses it registers it.
const kitPage = (source) => pagesBundle({ 'Kit.jsx': source },
  "import { Kit } from './Kit.jsx';\npages.push({ path: 'kit', title: 'Kit', component: Kit, icon: icons.info });");

async function open(cookie, hash, { options = desktop, js } = {}) {
  const context = await contextWithSession(browser, firmware.url, cookie, options);
  const page = log.watch(await context.newPage());
  page.on('dialog', (d) => {
    log.problems.push(`a native ${d.type()} dialog: ${d.message()}`);
    d.dismiss();
  });
  if (js) await servePagesBundle(page, js);
  await page.goto(new URL(hash, firmware.url).href);
  await page.locator('[data-testid="conn"][data-state="online"]').waitFor();
  return page;
}

const get = async (set) => (await api(firmware.url, 'GET', `api/sets/${set}`, undefined, admin)).body;

// Polls the device until check(values of set) holds (a write travels over the WebSocket)
async function deviceHas(set, check, what) {
  for (let i = 0; i < 50; i++) {
    if (check(await get(set))) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`the device never had ${what}: ${JSON.stringify(await get(set))}`);
}

// Every set's card on the State page, loaded
async function stateLoaded(page) {
  const sets = (await api(firmware.url, 'GET', 'api/sets', undefined, admin)).body.sets;
  const state = page.getByTestId('state');
  for (const s of sets) await state.locator(`[data-set="${s.name}"] :is([data-field], input, select)`).first().waitFor();
  return state;
}

before(async () => {
  firmware = await startFirmware();
  browser = await launchBrowser();
  admin = await session(firmware.url);
  const r = await api(firmware.url, 'POST', 'api/users', { user: VIEWER[0], password: VIEWER[1], level: 'viewer' }, admin);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  viewer = await session(firmware.url, ...VIEWER);
});

after(async () => {
  await browser?.close();
  await firmware?.stop();
});

test('a Toggle shows its label as text, and the text switches it too', async () => {
  const js = await kitPage(`import { useState } from 'preact/hooks';
import { Page, Toggle } from '../kit';
export function Kit() {
  const [on, setOn] = useState(false);
  return <Page title="Kit"><Toggle label="Pump" checked={on} onChange={setOn} /></Page>;
}`);
  const page = await open(admin, '#/kit', { js });
  const sw = page.getByRole('switch', { name: 'Pump' });
  await sw.waitFor();
  const text = page.getByText('Pump', { exact: true });
  await text.waitFor({ timeout: 3000 });
  assert.ok(await text.isVisible(), 'the label is visible text');
  await text.click();
  assert.equal(await sw.getAttribute('aria-checked'), 'true', 'a click on the label switches it');
  await page.context().close();
});

test('a ConfirmButton asks in the page before it acts; Cancel and Escape act on nothing', async () => {
  const js = await kitPage(`import { useState } from 'preact/hooks';
import { ConfirmButton, Page } from '../kit';
export function Kit() {
  const [done, setDone] = useState(0);
  return (
    <Page title="Kit">
      <ConfirmButton confirm="Restart the pump now?" onConfirm={() => setDone((n) => n + 1)}>Restart</ConfirmButton>
      <p data-testid="done">{done}</p>
    </Page>
  );
}`);
  const page = await open(admin, '#/kit', { js });
  const done = page.getByTestId('done');
  const restart = page.getByRole('button', { name: 'Restart' });
  await restart.click();
  await page.getByText('Restart the pump now?').waitFor();
  assert.equal(await done.textContent(), '0', 'nothing happened on the first click');
  await page.getByRole('button', { name: 'Cancel' }).click();
  assert.equal(await page.getByText('Restart the pump now?').count(), 0, 'Cancel closes the question');
  await restart.click();
  await page.getByText('Restart the pump now?').waitFor();
  await page.keyboard.press('Escape');
  assert.equal(await page.getByText('Restart the pump now?').count(), 0, 'Escape closes the question');
  assert.equal(await done.textContent(), '0');

  await restart.click();
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.getByTestId('done').getByText('1', { exact: true }).waitFor();
  assert.equal(await page.getByText('Restart the pump now?').count(), 0);
  await page.context().close();
});

const boundPage = `import { Card, NumberInput, Page, Select, Slider, TextInput, Toggle } from '../kit';
export function Kit() {
  return (
    <Page title="Kit">
      <Card title="Bound to the device" data-testid="bound">
        <div class="grid gap-4 sm:grid-cols-2">
          <Slider set="settings" field="interval" />
          <NumberInput set="settings" field="interval" />
          <Select set="settings" field="unit" />
          <TextInput set="settings" field="name" />
          <Toggle set="leds" field="led3" />
        </div>
      </Card>
    </Page>
  );
}`;

test('controls bound to a field write it at once, with its limits and unit from the schema', async () => {
  const js = await kitPage(boundPage);
  const page = await open(admin, '#/kit', { js });
  const bound = page.getByTestId('bound');
  const slider = bound.getByRole('slider', { name: 'Interval' });
  await slider.waitFor();
  assert.equal(await slider.getAttribute('min'), '1');
  assert.equal(await slider.getAttribute('max'), '3600');
  const before = (await get('settings')).interval;
  await slider.focus();
  await page.keyboard.press('ArrowRight');
  await deviceHas('settings', (s) => s.interval === before + 1, `interval ${before + 1}`);

  const number = bound.getByRole('spinbutton', { name: 'Interval' });
  await bound.locator('[data-unit-for="interval"]').getByText('s', { exact: true }).waitFor();
  await number.fill('30');
  await number.press('Enter');
  await deviceHas('settings', (s) => s.interval === 30, 'interval 30');
  await bound.getByRole('combobox', { name: 'Temperature unit' }).selectOption('fahrenheit');
  await deviceHas('settings', (s) => s.unit === 'fahrenheit', 'unit fahrenheit');
  const name = bound.getByRole('textbox', { name: 'Device name' });
  await name.fill('kit-device');
  await name.press('Enter');
  await deviceHas('settings', (s) => s.name === 'kit-device', 'name kit-device');
  const led3 = (await get('leds')).led3;
  await bound.getByRole('switch', { name: 'LED 3' }).click();
  await deviceHas('leds', (l) => l.led3 === !led3, `led3 ${!led3}`);

  await number.fill('0');  // the device's reason, next to the input
  await number.press('Enter');
  await bound.getByText('must be between 1 and 3600').waitFor();
  assert.equal((await get('settings')).interval, 30);
  await page.screenshot({ path: path.join(OUT, 'kit-bound.png'), fullPage: true });
  await page.context().close();
});

test('a viewer sees the same bound controls as values, none of them enabled', async () => {
  const js = await kitPage(boundPage);
  const page = await open(viewer, '#/kit', { js });
  const bound = page.getByTestId('bound');
  await bound.locator('[data-field="interval"]').first().waitFor();
  await bound.getByRole('switch', { name: 'LED 3' }).waitFor();
  assert.equal(await bound.locator('input, select, textarea').count(), 0, 'values, not inputs');
  assert.equal(await bound.locator('button:enabled').count(), 0, 'no enabled control');
  const interval = (await get('settings')).interval;
  assert.match(await bound.locator('[data-field="interval"]').first().textContent(), new RegExp(`Interval\\s*${interval}\\s*s$`));
  await page.context().close();
});

test('a toggle on the State page applies at once, with no Save; Save is for a form of several fields', async () => {
  const page = await open(admin, '#/state');
  const state = await stateLoaded(page);
  const leds = state.locator('[data-set="leds"]');
  assert.equal(await leds.getByRole('button', { name: 'Save' }).count(), 0, 'no Save for toggles');
  await leds.getByText('LED 2', { exact: true }).waitFor();
  const was = (await get('leds')).led2;
  await leds.getByRole('switch', { name: 'LED 2' }).click();
  await deviceHas('leds', (l) => l.led2 === !was, `led2 ${!was}`);
  await leds.locator(`[role="switch"][data-field="led2"][aria-checked="${!was}"]`).waitFor();
  assert.equal(await state.locator('[data-set="settings"]').getByRole('button', { name: 'Save' }).count(), 1, 'settings: three fields, one Save');
  await page.screenshot({ path: path.join(OUT, 'state-desktop.png'), fullPage: true });
  await page.context().close();
});

for (const [screen, options] of [['a wide screen', desktop], ['a 390 px phone', phone]]) {
  test(`a viewer on State, on ${screen}, sees values with their units and no enabled control`, async () => {
    const page = await open(viewer, '#/state', { options });
    const state = await stateLoaded(page);
    assert.equal(await state.locator('input, select, textarea').count(), 0, 'values a viewer only reads are not inputs');
    assert.equal(await state.locator('button:enabled').count(), 0, 'no enabled control');
    assert.equal(await state.getByText(/Up to \d+/).count(), 0, 'no input hints on values');
    assert.match(await state.locator('[data-set="sensors"] [data-field="humidity"]').textContent(), /^Humidity\s*\d+(\.\d+)?\s*%$/);
    const uptime = state.locator('[data-set="device"] [data-field="uptime"]');
    const first = await uptime.textContent();
    assert.match(first, /^Uptime\s*\d+/);
    await page.waitForFunction((v) => document.querySelector('[data-set="device"] [data-field="uptime"]').textContent !== v, first, { timeout: 5000 });
    for (const led of ['led1', 'led2', 'led3']) {
      assert.ok(await state.locator(`[role="switch"][data-field="${led}"]`).isDisabled(), `${led} is shown, not switchable`);
    }
    await state.locator('[data-set="settings"]').getByText(/Read only/).waitFor();
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= innerWidth), 'no horizontal scrolling');
    await page.screenshot({ path: path.join(OUT, `state-viewer-${options === phone ? 'phone' : 'desktop'}.png`), fullPage: true });
    await page.context().close();
  });
}

test('no console errors, native dialogs, failed requests or unexpected error responses', () => {
  assert.deepEqual(log.problems, []);
});

test('the firmware exits cleanly on SIGTERM, with no sanitizer report', async () => {
  await browser.close();
  browser = null;
  const fw = firmware;
  firmware = null;
  await fw.stop();
});
