// What the dashboard's browser tests share: the firmware on an ephemeral port
// with a fresh data directory (restartable on the same port), Chromium, pages
// that record every problem, and REST calls with a session.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { chromium } from 'playwright-core';
import { jsOptions } from '../../web/common.mjs';
import { startServer } from '../integration/lib.mjs';

export const FIRMWARE = process.env.FIRMWARE || 'build/firmware/firmware';
export const OUT = fileURLToPath(new URL('../../build/e2e', import.meta.url));
export const PASSWORD = 'correct horse 42';

// The firmware with a fresh data directory. stop() fails on a non-zero exit or a
// sanitizer report (these tests also run the ASan+UBSan build); restart() starts
// it again on the same port with the same data. program: another device program that
// takes the firmware's -l and -d (an example's).
export async function startFirmware(program = FIRMWARE) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'meerkat-e2e-'));
  let fw;
  try {
    fw = await startServer(program, ['-l', 'http://127.0.0.1:0', '-d', dataDir]);
  } catch (err) {
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const port = fw.port;
  return {
    url: `http://127.0.0.1:${port}/`,
    port,
    dataDir,
    log: () => fw.log(),
    async halt() {  // stop, keep the data
      const f = fw;
      fw = null;
      await f?.stop();
    },
    async restart() {
      fw = await startServer(program, ['-l', `http://127.0.0.1:${port}`, '-d', dataDir]);
    },
    async stop() {
      try {
        await this.halt();
      } finally {
        fs.rmSync(dataDir, { recursive: true, force: true });
      }
    },
  };
}

// env: more variables for Chromium (HOME, whose .pki/nssdb holds the CAs it trusts)
export async function launchBrowser(env = {}) {
  for (const d of ['xdg-config', 'xdg-cache', 'tmp']) fs.mkdirSync(path.join(OUT, d), { recursive: true });
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost'],
    env: {
      ...process.env,
      XDG_CONFIG_HOME: path.join(OUT, 'xdg-config'),
      XDG_CACHE_HOME: path.join(OUT, 'xdg-cache'),
      TMPDIR: path.join(OUT, 'tmp'),
      ...env,
    },
  });
}

// Records console errors, page errors, failed requests and error responses of
// every page opened through it. allow(status, path) expects one error response
// (a wrong password's 401), allowAbort(path) one request cut short by the page
// (an upload when the page reloads); while `offline` is true, the browser's own
// reports of a refused connection are expected too.
export function problemLog() {
  const problems = [], allowed = [];
  const log = {
    problems,
    offline: false,
    allow(status, suffix) {
      allowed.push({ status, suffix, response: true, console: true });
    },
    allowAbort(suffix) {
      allowed.push({ suffix, abort: true });
    },
    watch(page) {
      // How Chromium reports a device that is away (a restart closes sockets mid-request)
      const network = /ERR_CONNECTION_REFUSED|ERR_CONNECTION_RESET|ERR_SOCKET_NOT_CONNECTED|ERR_EMPTY_RESPONSE|WebSocket connection to .* failed/;
      page.on('console', (msg) => {
        if (msg.type() !== 'error') return;
        const text = msg.text();
        if (log.offline && network.test(text)) return;
        const url = msg.location()?.url || '';
        const a = allowed.find((x) => x.console && text.includes(`status of ${x.status}`) && url && new URL(url).pathname.endsWith(x.suffix));
        if (a && text.startsWith('Failed to load resource')) {
          a.console = false;
          return;
        }
        problems.push(`console: ${text} (${url})`);
      });
      page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
      page.on('requestfailed', (req) => {
        if (log.offline && network.test(req.failure()?.errorText || '')) return;
        const a = allowed.find((x) => x.abort && req.failure()?.errorText === 'net::ERR_ABORTED' && new URL(req.url()).pathname.endsWith(x.suffix));
        if (a) {
          a.abort = false;
          return;
        }
        problems.push(`request failed: ${req.url()} ${req.failure()?.errorText}`);
      });
      page.on('response', (res) => {
        if (res.status() < 400) return;
        const a = allowed.find((x) => x.response && x.status === res.status() && new URL(res.url()).pathname.endsWith(x.suffix));
        if (a) a.response = false;
        else problems.push(`HTTP ${res.status()}: ${res.url()}`);
      });
      return page;
    },
  };
  return log;
}

// REST with JSON; returns { status, body, cookie } (cookie: the session a login set).
export async function api(base, method, p, body, cookie) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (cookie) headers.Cookie = cookie;
  const res = await fetch(new URL(p, base), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  const set = res.headers.get('set-cookie');
  return { status: res.status, body: text ? JSON.parse(text) : null, cookie: set ? set.split(';')[0] : null };
}

// A session cookie for user (the admin is set up first when the device has none).
export async function session(base, user = 'admin', password = PASSWORD) {
  const auth = await api(base, 'GET', 'api/auth');
  if (auth.body.setup) {
    const r = await api(base, 'POST', 'api/auth/setup', { password });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  }
  const r = await api(base, 'POST', 'api/auth/login', { user, password });
  assert.equal(r.status, 200, `login as ${user}: ${JSON.stringify(r.body)}`);
  assert.match(r.cookie, /^mk_session=/);
  return r.cookie;
}

// A browser context that carries that session cookie.
export async function contextWithSession(browser, base, cookie, options = {}) {
  const context = await browser.newContext(options);
  const [name, value] = [cookie.slice(0, cookie.indexOf('=')), cookie.slice(cookie.indexOf('=') + 1)];
  await context.addCookies([{ name, value, url: base, httpOnly: true, sameSite: 'Strict' }]);
  return context;
}

// The dashboard's JS built from a copy of web/src with more pages: files
// ({ name: source }) go to pages/, and `register` (code that pushes entries onto
// `pages`) is appended to pages/index.js: what a maker who added pages would ship.
// The CSS stays the firmware's: serve the JS with servePagesBundle.
export async function pagesBundle(files, register) {
  fs.mkdirSync(OUT, { recursive: true });
  const dir = fs.mkdtempSync(path.join(OUT, 'more-pages-'));
  try {
    fs.cpSync('web/src', dir, { recursive: true });
    for (const [name, source] of Object.entries(files)) fs.writeFileSync(path.join(dir, 'pages', name), source);
    fs.appendFileSync(path.join(dir, 'pages/index.js'), `\n${register}\n`);
    const r = await esbuild.build({ ...jsOptions, entryPoints: [path.join(dir, 'main.jsx')], minify: true, write: false, outfile: path.join(dir, 'app.js') });
    return r.outputFiles[0].text;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// The page loads that bundle in place of the firmware's dashboard JS.
export function servePagesBundle(page, js) {
  return page.route(/\/assets\/app-[0-9a-f]+\.js$/, (route) => route.fulfill({ body: js, contentType: 'text/javascript' }));
}

// A test file's firmware, browser and admin session (env.firmware, env.browser,
// env.cookie): started before its tests, stopped after them
export function firmwareWithBrowser() {
  const env = {};
  before(async () => {
    env.firmware = await startFirmware();
    env.browser = await launchBrowser();
    env.cookie = await session(env.firmware.url);
  });
  after(async () => {
    await env.browser?.close();
    await env.firmware?.stop();
  });
  return env;
}
