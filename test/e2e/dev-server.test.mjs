// `npm run dev` (web/dev.mjs) against the firmware: the page comes from esbuild
// with the live-reload hook, /api goes through to the device, a device that is
// down gives 502 with a message, a build error shows as an overlay in Chromium
// and the next good build clears it, and the dev server stops on SIGTERM.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startServer } from '../integration/lib.mjs';

const FIRMWARE = process.env.FIRMWARE || 'build/firmware/firmware';
let fw, fwPort, data;

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

// Spawn and resolve once the output matches pattern; returns {proc, match, exited}
function startAndWait(cmd, args, env, pattern) {
  const proc = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise((r) => proc.on('exit', (code) => r(code)));
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd} did not start:\n${out}`)), 20000);
    const onData = (d) => {
      out += d;
      const m = out.match(pattern);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, match: m, exited, log: () => out });
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
  });
}

before(async () => {
  data = fs.mkdtempSync(path.join(os.tmpdir(), 'meerkat-dev-'));
  fw = await startServer(FIRMWARE, ['-l', 'http://127.0.0.1:0', '-d', data]);
  fwPort = fw.port;
});

// Fails on a non-zero exit or a sanitizer report (these tests also run the ASan+UBSan build)
after(async () => {
  try {
    await fw?.stop();
  } finally {
    fs.rmSync(data, { recursive: true, force: true });
  }
});

async function devServer(device, env = {}) {
  const port = await freePort();
  // Ready once the bundle is built and the server listens (its signal handlers are set by then)
  const ready = /^(?=[\s\S]*\[dev\] .* built)(?=[\s\S]*Meerkat dashboard \(dev\))/;
  const dev = await startAndWait('node', ['web/dev.mjs'], { PORT: String(port), DEVICE: device, ...env }, ready);
  return { ...dev, url: `http://127.0.0.1:${port}` };
}

test('dev server: page with live reload, /api proxied to the device', async () => {
  const dev = await devServer(`http://127.0.0.1:${fwPort}`);
  try {
    const page = await (await fetch(`${dev.url}/`)).text();
    assert.match(page, /<div id="app">|<body/);
    assert.match(page, /__meerkat\/events/, 'the live-reload hook is in the dev page');
    // /api/ needs a session: set the admin up through the proxy and send its cookie
    const setup = await fetch(`${dev.url}/api/auth/setup`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ password: 'dev-server-test' }),
    });
    assert.equal(setup.status, 200, 'setup through the proxy');
    const headers = { Cookie: setup.headers.get('set-cookie').split(';')[0] };
    const info = await (await fetch(`${dev.url}/api/info`, { headers })).json();
    assert.match(info.name, /^meerkat-/);
    const missing = await fetch(`${dev.url}/api/nope`, { headers });
    assert.equal(missing.status, 404, 'the device answers, through the proxy');
  } finally {
    dev.proc.kill('SIGTERM');
    assert.equal(await dev.exited, 0);
  }
});

test('dev server: a device that is down gives 502 with a message', async () => {
  const dead = await freePort();
  const dev = await devServer(`http://127.0.0.1:${dead}`);
  try {
    const r = await fetch(`${dev.url}/api/info`);
    assert.equal(r.status, 502);
    assert.match(await r.text(), /not reachable/);
  } finally {
    dev.proc.kill('SIGTERM');
    assert.equal(await dev.exited, 0);
  }
});

test('dev server: a build error shows as an overlay in the browser, the next good build clears it', async () => {
  // A copy of web/src under build/ (node_modules resolve from there); the real src is never touched
  fs.mkdirSync('build/e2e', { recursive: true });
  const copy = fs.mkdtempSync(path.resolve('build/e2e/dev-src-'));
  fs.cpSync('web/src', copy, { recursive: true });
  const main = path.join(copy, 'main.jsx');
  const good = fs.readFileSync(main, 'utf8');
  const out = path.resolve('build/e2e');
  for (const d of ['xdg-config', 'xdg-cache', 'tmp']) fs.mkdirSync(path.join(out, d), { recursive: true });
  let browser, dev;
  try {
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost'],
      env: { ...process.env, XDG_CONFIG_HOME: path.join(out, 'xdg-config'), XDG_CACHE_HOME: path.join(out, 'xdg-cache'), TMPDIR: path.join(out, 'tmp') },
    });
    dev = await devServer(`http://127.0.0.1:${fwPort}`, { WEB_SRC_DIR: copy });
    const page = await browser.newPage();
    const pageErrors = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(`${dev.url}/`);
    await page.locator('#app > *').first().waitFor();
    const overlay = page.locator('#meerkat-dev-overlay');
    assert.equal(await overlay.count(), 0, 'no overlay after a good build');

    fs.writeFileSync(main, `${good}\nexport const broken = ;\n`);
    await overlay.waitFor({ timeout: 15000 });
    const text = await overlay.textContent();
    assert.match(text, /Build failed/);
    assert.match(text, /main\.jsx:\d+:\d+/, `the overlay names the file and line: ${text}`);
    assert.match(text, /Unexpected/);

    const reloaded = page.waitForEvent('load', { timeout: 15000 });
    fs.writeFileSync(main, good);
    await reloaded;
    await page.locator('#app > *').first().waitFor();
    assert.equal(await overlay.count(), 0, 'the overlay is gone after the good build');
    assert.deepEqual(pageErrors, []);
  } finally {
    await browser?.close();
    dev?.proc.kill('SIGTERM');
    const code = await dev?.exited;
    fs.rmSync(copy, { recursive: true, force: true });
    fs.rmSync(`${copy}.dev-out`, { recursive: true, force: true });
    if (dev) assert.equal(code, 0, 'the dev server exits cleanly');
  }
});
