// The dashboard against the firmware in Chromium, as a user meets it: first
// setup, live values over the WebSocket, an LED toggled in one browser seen in
// another, settings kept across a reload and refused with the device's reason
// next to the field, users and a viewer's read-only view, a wrong password,
// logout, the offline banner while the firmware is stopped (gone when it is
// back on the same port), and the wait after repeated wrong passwords.
// Nothing else may log an error. Screenshots: build/e2e/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { OUT, PASSWORD, api, launchBrowser, problemLog, session, startFirmware } from './dashboard-lib.mjs';

let firmware, browser, admin;  // admin: a session cookie for REST checks
const log = problemLog();
const desktop = { viewport: { width: 1280, height: 800 } };

async function newPage(options = desktop) {
  const context = await browser.newContext(options);
  return log.watch(await context.newPage());
}

// Log in on the login page; the page the hash named opens (heading)
async function logIn(page, user, password, heading = 'Overview') {
  await page.getByRole('heading', { level: 1, name: 'Log in' }).waitFor();
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { level: 1, name: heading }).waitFor();
}

const led = (page, name) => page.getByTestId('leds').locator(`[role="switch"][data-field="${name}"]`);
const online = (page) => page.locator('[data-testid="conn"][data-state="online"]').waitFor();

before(async () => {
  firmware = await startFirmware();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await firmware?.stop();
});

test('first start: the dashboard asks for the admin password twice, then logs in', async () => {
  const auth = await api(firmware.url, 'GET', 'api/auth');
  assert.equal(auth.body.setup, true, 'a fresh data directory has no admin');
  const page = await newPage();
  await page.goto(firmware.url);
  await page.getByRole('heading', { level: 1, name: 'Welcome' }).waitFor();
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByLabel('Password again').fill(`${PASSWORD}!`);
  await page.getByRole('button', { name: /Set password/ }).click();
  await page.getByRole('alert').getByText('The two passwords differ').waitFor();
  assert.equal((await api(firmware.url, 'GET', 'api/auth')).body.setup, true, 'nothing sent for differing passwords');

  await page.getByLabel('Password again').fill(PASSWORD);
  await page.getByRole('button', { name: /Set password/ }).click();
  await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
  await online(page);
  assert.equal((await api(firmware.url, 'GET', 'api/auth')).body.setup, false);
  admin = await session(firmware.url);
  await page.context().close();
});

test('Overview is live: device values, uptime ticking, sensor charts growing', async () => {
  const device = (await api(firmware.url, 'GET', 'api/sets/device', undefined, admin)).body;
  const page = await newPage();
  await page.goto(firmware.url);
  await logIn(page, 'admin', PASSWORD);
  const header = page.getByRole('banner');
  await header.getByTestId('device-name').getByText(device.name, { exact: true }).waitFor();
  assert.equal((await header.getByTestId('device-version').textContent()).trim(), `v${device.version}`);
  const overview = page.getByTestId('overview');
  await overview.getByText(device.version, { exact: true }).waitFor();
  const uptime = async () => (await page.getByTestId('uptime').textContent()).replace(/^Uptime/i, '');
  const first = await uptime();
  await page.waitForTimeout(2100);
  assert.notEqual(await uptime(), first, 'uptime advances');
  for (const field of ['temperature', 'humidity']) {
    await page.waitForFunction((f) => Number(document.querySelector(`[data-testid="chart-${f}"] path[data-points]`)?.dataset.points) >= 2, field);
    assert.match(await page.getByTestId(`value-${field}`).textContent(), /^-?\d+\.\d/);
  }
  await page.screenshot({ path: path.join(OUT, 'dashboard-overview.png'), fullPage: true });
  await page.context().close();
});

test('an LED switched in one browser changes in another at once', async () => {
  const [a, b] = [await newPage(), await newPage()];
  for (const p of [a, b]) {
    await p.goto(firmware.url);
    await logIn(p, 'admin', PASSWORD);
    await online(p);
  }
  const before = (await api(firmware.url, 'GET', 'api/sets/leds', undefined, admin)).body;
  assert.equal(typeof before.led1, 'boolean');
  const want = String(!before.led1);
  await led(b, 'led1').waitFor();
  assert.equal(await led(b, 'led1').getAttribute('aria-checked'), String(before.led1));

  await led(a, 'led1').click();
  await b.locator(`[data-testid="leds"] [data-field="led1"][aria-checked="${want}"]`).waitFor({ timeout: 5000 });
  await a.locator(`[data-testid="leds"] [data-field="led1"][aria-checked="${want}"]`).waitFor({ timeout: 5000 });
  assert.equal((await api(firmware.url, 'GET', 'api/sets/leds', undefined, admin)).body.led1, !before.led1, 'the device has it');

  await led(b, 'led1').click();  // and back, from the other browser
  await a.locator(`[data-testid="leds"] [data-field="led1"][aria-checked="${String(before.led1)}"]`).waitFor({ timeout: 5000 });
  await a.context().close();
  await b.context().close();
});

test('a setting saved from the form is kept across a reload; an invalid one shows the device\'s reason', async () => {
  const page = await newPage();
  await page.goto(new URL('#/settings', firmware.url).href);
  await logIn(page, 'admin', PASSWORD, 'Settings');  // a deep link survives the login
  const form = page.locator('form[data-set="settings"]');
  await form.locator('input[name="interval"]').fill('42');
  await form.locator('input[name="name"]').fill('e2e-device');
  await form.locator('select[name="unit"]').selectOption('fahrenheit');
  await form.getByRole('button', { name: 'Save' }).click();
  await form.getByRole('status').getByText('Saved').waitFor();
  assert.deepEqual((await api(firmware.url, 'GET', 'api/sets/settings', undefined, admin)).body, { name: 'e2e-device', interval: 42, unit: 'fahrenheit' });

  await page.reload();
  await form.locator('input[name="interval"]').waitFor();
  assert.equal(await form.locator('input[name="interval"]').inputValue(), '42');
  assert.equal(await form.locator('input[name="name"]').inputValue(), 'e2e-device');
  assert.equal(await form.locator('select[name="unit"]').inputValue(), 'fahrenheit');

  log.allow(400, '/api/sets/settings');
  await form.locator('input[name="interval"]').fill('0');
  await form.getByRole('button', { name: 'Save' }).click();
  const reason = form.locator('[data-error-for="settings-interval"]');
  await reason.waitFor();
  const device = await api(firmware.url, 'POST', 'api/sets/settings', { interval: 0 }, admin);
  assert.equal(device.status, 400);
  assert.equal((await reason.textContent()).trim(), device.body.fields.interval, 'the device\'s own words, next to the field');
  assert.equal(await form.locator('input[name="interval"]').getAttribute('aria-invalid'), 'true');
  assert.equal((await api(firmware.url, 'GET', 'api/sets/settings', undefined, admin)).body.interval, 42, 'nothing changed');
  await page.screenshot({ path: path.join(OUT, 'dashboard-settings-error.png'), fullPage: true });
  await page.context().close();
});

test('the State page has a form for every field set the device declares, in its order, live', async () => {
  const sets = (await api(firmware.url, 'GET', 'api/sets', undefined, admin)).body.sets;
  const page = await newPage();
  await page.goto(new URL('#/state', firmware.url).href);
  await logIn(page, 'admin', PASSWORD, 'State');
  const forms = page.getByTestId('state').locator('form[data-set]');
  await forms.nth(sets.length - 1).waitFor();
  assert.deepEqual(await forms.evaluateAll((all) => all.map((f) => f.dataset.set)), sets.map((s) => s.name),
    'no page written for any of them: the schema is enough');
  const uptime = page.locator('form[data-set="device"] [data-field="uptime"]');
  assert.equal(await page.locator('form[data-set="device"] input').count(), 0, 'a read-only field is a value, not an input');
  const first = await uptime.textContent();
  await page.waitForFunction((v) => document.querySelector('form[data-set="device"] [data-field="uptime"]').textContent !== v,
    first, { timeout: 5000 });
  await page.context().close();
});

test('an admin adds a viewer, who sees read-only controls, and removes them', async () => {
  const page = await newPage();
  await page.goto(new URL('#/users', firmware.url).href);
  await logIn(page, 'admin', PASSWORD, 'Users');
  const add = page.getByRole('form', { name: 'Add a user' });
  await add.getByLabel('User name').fill('bob');
  await add.getByLabel('Password').fill('viewer-pass-1');
  await add.getByLabel('Level').selectOption('viewer');
  await add.getByRole('button', { name: 'Add user' }).click();
  await page.locator('[data-testid="users"] [data-user="bob"]').getByText('viewer').waitFor();

  const viewer = await newPage();
  await viewer.goto(firmware.url);
  await logIn(viewer, 'bob', 'viewer-pass-1');
  await online(viewer);
  await led(viewer, 'led1').waitFor();
  for (const name of ['led1', 'led2', 'led3']) assert.ok(await led(viewer, name).isDisabled(), `${name} is read-only for a viewer`);
  const nav = viewer.getByRole('navigation', { name: 'Main' });
  assert.equal(await nav.getByRole('link', { name: 'Users' }).count(), 0, 'no Users page for a viewer');
  await nav.getByRole('link', { name: 'Settings' }).click();
  const form = viewer.locator('form[data-set="settings"]');
  await form.locator('[data-field="interval"]').waitFor();
  assert.equal(await form.locator('input, select').count(), 0, 'values a viewer only reads are not inputs');
  assert.equal(await form.getByRole('button', { name: 'Save' }).count(), 0);
  await form.getByText(/Read only/).waitFor();

  const row = page.locator('[data-testid="users"] [data-user="bob"]');
  await row.getByRole('button', { name: 'Remove bob' }).click();
  await row.getByRole('button', { name: 'Confirm removing bob' }).click();
  await row.waitFor({ state: 'detached' });
  const users = (await api(firmware.url, 'GET', 'api/users', undefined, admin)).body.users.map((u) => u.user);
  assert.deepEqual(users, ['admin']);
  await page.context().close();
  await viewer.context().close();
});

test('a wrong password shows the device\'s error; logout returns to the login page', async () => {
  const page = await newPage();
  await page.goto(firmware.url);
  await page.getByRole('heading', { level: 1, name: 'Log in' }).waitFor();
  log.allow(401, '/api/auth/login');
  await page.getByLabel('User name').fill('admin');
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('alert').getByText('wrong user or password').waitFor();

  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('heading', { level: 1, name: 'Log in' }).waitFor();
  await page.reload();
  await page.getByRole('heading', { level: 1, name: 'Log in' }).waitFor();
  const auth = await page.evaluate(() => fetch('api/auth').then((r) => r.json()));
  assert.equal(auth.user, null, 'the session is gone');
  await page.context().close();
});

test('the offline banner shows while the firmware is stopped and goes when it is back', async () => {
  const page = await newPage();
  await page.goto(firmware.url);
  await logIn(page, 'admin', PASSWORD);
  await online(page);
  const banner = page.getByTestId('offline');
  assert.equal(await banner.count(), 0);

  log.offline = true;
  await firmware.halt();  // a clean exit (and, under ASan, no report) with the dashboard connected
  await banner.waitFor({ timeout: 5000 });
  await page.locator('[data-testid="conn"][data-state="offline"]').waitFor();
  await page.screenshot({ path: path.join(OUT, 'dashboard-offline.png'), fullPage: true });
  await page.waitForTimeout(2000);  // a few retries against the closed port

  await firmware.restart();
  // Back within the back-off (at most 10 s): the session did not survive the
  // restart, so the login page; with it, the dashboard again
  await page.waitForFunction(() => !document.querySelector('[data-testid="offline"]'), null, { timeout: 20000 });
  log.offline = false;
  if (await page.getByRole('heading', { level: 1, name: 'Log in' }).isVisible()) await logIn(page, 'admin', PASSWORD);
  await online(page);
  await page.getByTestId('value-temperature').getByText(/\d/).waitFor();
  assert.equal((await api(firmware.url, 'GET', 'api/sets/settings', undefined, await session(firmware.url))).body.name, 'e2e-device', 'settings persisted across the restart');
  await page.context().close();
});

test('after repeated wrong passwords the login page says how long to wait', async () => {
  const page = await newPage();
  await page.goto(firmware.url);
  await page.getByRole('heading', { level: 1, name: 'Log in' }).waitFor();
  await page.getByLabel('User name').fill('admin');
  await page.getByLabel('Password').fill('still not the password');
  const button = page.locator('form button[type="submit"]');
  const alert = page.getByRole('alert');
  for (let i = 0; i < 12; i++) {  // 5 failures, then the device makes us wait
    log.allow(401, '/api/auth/login');
    log.allow(429, '/api/auth/login');
    await button.click();
    await alert.waitFor();
    if (/wait \d+ s/.test(await alert.textContent())) break;
    await page.waitForFunction(() => !document.querySelector('form button[type="submit"]').disabled);
  }
  assert.match(await alert.textContent(), /Too many failed attempts: wait \d+ s/);
  assert.ok(await button.isDisabled(), 'no attempt until the wait is over');
  assert.match(await button.textContent(), /Wait \d+ s/);
  await page.context().close();
});

test('no console errors, failed requests or unexpected error responses', () => {
  assert.deepEqual(log.problems, []);
});

test('the firmware exits cleanly on SIGTERM, with no sanitizer report', async () => {
  await browser.close();
  browser = null;
  const fw = firmware;
  firmware = null;
  await fw.stop();
});
