// A real web app from npm (swagger-ui-dist) packed by the packer, compiled into a
// program with the core and served from the packed table: every file comes back
// byte for byte, gzip-encoded and plain, and Chromium runs the app with no error
// that our server caused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { chromium } from 'playwright-core';
import { startServer } from '../integration/lib.mjs';

const BUILD = process.env.BUILD || 'build';
const APP = 'node_modules/swagger-ui-dist';
const LIB = process.env.LIB || path.join(BUILD, 'libmeerkat.a');
const PACKER = process.env.PACKER || path.join(BUILD, 'packer/packer');
const SKIP = ['*.map', 'package.json', 'README.md'];  // Not part of the served app

let dir, srv, files;

function listFiles(root, rel = '') {
  return fs.readdirSync(path.join(root, rel), { withFileTypes: true }).flatMap((e) => {
    const p = path.posix.join(rel, e.name);
    return e.isDirectory() ? listFiles(root, p) : [p];
  });
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meerkat-webapp-'));
  const src = path.join(dir, 'app_fs.c');
  const p = spawnSync(PACKER, ['-q', '-p', 'app', ...SKIP.flatMap((g) => ['-x', g]), '-o', src, APP]);
  assert.equal(p.status, 0, `packer: ${p.stderr}`);
  const exe = path.join(dir, 'packed_server');
  const c = spawnSync('cc', ['-std=c99', '-O1', '-Icore/include', 'test/e2e/packed_server.c', src, LIB, '-o', exe]);
  assert.equal(c.status, 0, `cc: ${c.stderr}`);
  srv = await startServer(exe, ['http://127.0.0.1:0']);
  const skip = (f) => f.endsWith('.map') || f === 'package.json' || f === 'README.md';
  files = listFiles(APP).filter((f) => !skip(f));
});

after(async () => {
  if (srv) await srv.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

// node:http, not fetch: fetch would undo the gzip encoding before we could check it
function get(p, encoding) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: srv.port, path: `/${p}`, headers: { 'accept-encoding': encoding } }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode, encoding: res.headers['content-encoding'], cache: res.headers['cache-control'] || '', body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
}

test('every file of the packed app comes back byte for byte, gzip-encoded and plain', async () => {
  assert.ok(files.length > 15, `only ${files.length} files`);
  let gzipped = 0;
  for (const f of files) {
    const want = fs.readFileSync(path.join(APP, f));
    const plain = await get(f, 'identity');
    assert.equal(plain.status, 200, f);
    assert.equal(plain.encoding, undefined, `${f}: encoded for a client that refused it`);
    assert.ok(plain.body.equals(want), `${f}: plain body differs`);
    const gz = await get(f, 'gzip');
    assert.equal(gz.status, 200, f);
    const enc = gz.encoding;
    const body = enc === 'gzip' ? zlib.gunzipSync(gz.body) : gz.body;
    if (enc === 'gzip') gzipped++;
    assert.ok(body.equals(want), `${f}: ${enc || 'identity'} body differs`);
  }
  assert.ok(gzipped >= 5, `only ${gzipped} files came gzip-encoded`);
});

test('a file the build did not hash is never cached as immutable (swagger-initializer.js is edited by users)', async () => {
  const r = await get('swagger-initializer.js', 'gzip');
  assert.equal(r.status, 200);
  assert.doesNotMatch(r.cache, /immutable/);
});

test('Chromium runs the packed app with no error from our server', async () => {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost'],
  });
  const ours = `http://127.0.0.1:${srv.port}/`;
  const problems = [];
  try {
    const page = await browser.newPage();
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('requestfailed', (req) => req.url().startsWith(ours) && problems.push(`failed: ${req.url()}`));
    page.on('response', (res) => res.url().startsWith(ours) && res.status() >= 400 && problems.push(`HTTP ${res.status()}: ${res.url()}`));
    await page.goto(`${ours}index.html`);
    await page.locator('.swagger-ui').first().waitFor({ timeout: 10000 });
    assert.ok(await page.locator('.swagger-ui .topbar, .swagger-ui .information-container, .swagger-ui .loading-container, .swagger-ui .errors-wrapper').count() > 0,
      'swagger-ui did not render');
  } finally {
    await browser.close();
  }
  assert.deepEqual(problems, []);
});
