// The dashboard over HTTPS in Chromium, which trusts the development CA as a user's
// browser would, from the NSS database in $HOME/.pki/nssdb (certutil), with no
// certificate-error flags: the first setup, a Secure session cookie, live values over
// WSS. Without the CA in its database the same browser refuses the certificate.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FIRMWARE, PASSWORD, launchBrowser, problemLog } from './dashboard-lib.mjs';
import { startServer, waitForLog } from '../integration/lib.mjs';

const CERTS = process.env.CERTS || 'build/certs';
let dir, fw, url;
const log = problemLog();

// A home whose NSS database trusts ca (or none: an empty database)
function homeWithCa(name, ca) {
  const home = path.join(dir, name), db = `sql:${path.join(home, '.pki', 'nssdb')}`;
  fs.mkdirSync(path.join(home, '.pki', 'nssdb'), { recursive: true });
  const certutil = (args) => {
    const r = spawnSync('certutil', ['-d', db, ...args]);
    assert.equal(r.status, 0, `certutil ${args.join(' ')}: ${r.stderr}`);
  };
  certutil(['-N', '--empty-password']);
  if (ca) certutil(['-A', '-t', 'C,,', '-n', 'meerkat-dev', '-i', ca]);
  return home;
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meerkat-e2e-https-'));
  fw = await startServer(FIRMWARE, ['-l', 'https://127.0.0.1:0', '-T', CERTS, '-d', path.join(dir, 'data')],
    { portPattern: /listening on https:\/\/127\.0\.0\.1:(\d+)/ });
  url = `https://localhost:${fw.port}/`;  // The name the development certificate has
});

after(async () => {
  await fw?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('with the development CA in its NSS database Chromium opens the dashboard over HTTPS, live over WSS', async () => {
  const browser = await launchBrowser({ HOME: homeWithCa('trusting', path.join(CERTS, 'ca.pem')) });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = log.watch(await context.newPage());
    const sockets = [];
    page.on('websocket', (ws) => sockets.push(ws));
    const response = await page.goto(url);
    assert.equal(response.status(), 200);
    assert.equal((await response.securityDetails())?.subjectName, 'localhost');

    await page.getByRole('heading', { level: 1, name: 'Welcome' }).waitFor();
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Password again').fill(PASSWORD);
    await page.getByRole('button', { name: /Set password/ }).click();
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    const [cookie] = (await context.cookies()).filter((c) => c.name === 'mk_session');
    assert.equal(cookie.secure, true, 'the session cookie is Secure over HTTPS');

    await page.locator('[data-testid="conn"][data-state="online"]').waitFor();
    assert.ok(sockets.length > 0 && sockets.every((ws) => ws.url().startsWith('wss://')), sockets.map((ws) => ws.url()).join());
    const uptime = async () => (await page.getByTestId('uptime').textContent()).replace(/^Uptime/i, '');
    const first = await uptime();
    await page.waitForFunction((f) => Number(document.querySelector(`[data-testid="chart-${f}"] path[data-points]`)?.dataset.points) >= 2,
      'temperature');
    assert.match(await page.getByTestId('value-temperature').textContent(), /^-?\d+\.\d/);
    await page.waitForFunction((v) => document.querySelector('[data-testid="uptime"]')?.textContent.replace(/^Uptime/i, '') !== v, first);
    assert.deepEqual(log.problems, []);
  } finally {
    await browser.close();
  }
});

test('without the CA in its NSS database Chromium refuses the certificate', async () => {
  const browser = await launchBrowser({ HOME: homeWithCa('untrusting', null) });
  try {
    const page = await browser.newPage();
    await assert.rejects(page.goto(url), /net::ERR_CERT_AUTHORITY_INVALID/);
  } finally {
    await browser.close();
  }
});
