// web/build.mjs and its size budget: over the budget the build exits non-zero
// and web/dist stays exactly as it was (so a second `make` cannot link an
// oversized UI); within it the whole output is replaced, nothing stale left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const DIST = 'web/dist';

// path -> sha256 and mtime of every file under dir; null when dir does not exist
function snapshot(dir) {
  if (!fs.existsSync(dir)) return null;
  const out = {};
  for (const rel of fs.readdirSync(dir, { recursive: true })) {
    const p = path.join(dir, rel);
    const st = fs.statSync(p);
    if (st.isFile()) out[rel] = { sha: crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex'), mtime: st.mtimeMs };
  }
  return out;
}

function build(env) {
  return spawnSync(process.execPath, ['web/build.mjs'], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60000 });
}

test('over the gzip budget the build fails and leaves web/dist as it was', () => {
  const before = snapshot(DIST);
  const r = build({ WEB_BUDGET: '1024' });
  assert.notEqual(r.status, 0, `exit status ${r.status}\n${r.stdout}${r.stderr}`);
  assert.match(r.stderr, /over its budget of 1024 bytes/);
  assert.deepEqual(snapshot(DIST), before, 'web/dist unchanged');
  assert.deepEqual(fs.readdirSync('web').filter((n) => /^dist\./.test(n)), [], 'no temporary output left');
});

test('within the budget the build replaces the whole output; the UI fits in 40 KiB gzip', (t) => {
  fs.mkdirSync('build/e2e', { recursive: true });
  const dir = fs.mkdtempSync('build/e2e/dist-');
  try {
    fs.mkdirSync(path.join(dir, 'assets'));
    fs.writeFileSync(path.join(dir, 'assets/app-stale.js'), 'stale');
    const r = build({ WEB_DIST: dir });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    const files = Object.keys(snapshot(dir)).sort();
    assert.equal(files.length, 3, files.join(' '));
    assert.ok(!files.includes(path.join('assets', 'app-stale.js')), 'the old output is gone');
    const html = fs.readFileSync(path.join(dir, 'index.html'), 'utf8');
    let gzip = zlib.gzipSync(html, { level: 9 }).length;
    for (const m of html.matchAll(/"\.\/(assets\/app-[0-9a-f]{10}\.(?:js|css))"/g)) {
      assert.ok(files.includes(m[1]), `index.html names ${m[1]}, which exists`);
      gzip += zlib.gzipSync(fs.readFileSync(path.join(dir, m[1])), { level: 9 }).length;
    }
    assert.ok(gzip <= 40 * 1024, `${gzip} bytes gzip`);
    t.diagnostic(`dashboard: ${(gzip / 1024).toFixed(1)} KiB gzip of the 40 KiB budget`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
