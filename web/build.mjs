// npm run build: web/src -> web/dist (index.html, assets/app-<hash>.js and .css).
// Everything is built in memory and measured first: over the gzip budget the
// build fails and web/dist stays as it was (so make cannot link an oversized
// UI); within it, the new web/dist replaces the old one in one rename.
// WEB_BUDGET=BYTES overrides the budget (for the test that proves it holds).
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import * as esbuild from 'esbuild';
import { cssEntry, dist, jsOptions, renderIndex, root, tailwindCommand } from './common.mjs';

const BUDGET = Number(process.env.WEB_BUDGET) || 40 * 1024;  // gzip bytes for all assets together; the firmware carries them

function contentName(base, ext, data) {
  const hash = crypto.createHash('sha256').update(data).digest('hex').slice(0, 10);
  return `${base}-${hash}.${ext}`;
}

function buildCss() {
  const [node, cli] = tailwindCommand();
  const r = spawnSync(node, [cli, '--input', cssEntry, '--minify'], { cwd: root, maxBuffer: 16 << 20 });
  if (r.status !== 0) throw new Error(`tailwindcss failed (${r.status ?? r.signal}):\n${r.stderr}`);
  return r.stdout;
}

async function buildJs() {
  const result = await esbuild.build({
    ...jsOptions,
    minify: true,
    write: false,
    outfile: path.join(dist, 'assets/app.js'),
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  return Buffer.from(result.outputFiles[0].contents);
}

function report(files) {
  const rows = files.map(({ name, data }) => ({ name, raw: data.length, gzip: zlib.gzipSync(data, { level: 9 }).length }));
  const total = { name: 'total', raw: 0, gzip: 0 };
  for (const r of rows) {
    total.raw += r.raw;
    total.gzip += r.gzip;
  }
  const kib = (n) => `${(n / 1024).toFixed(1)} KiB`.padStart(10);
  console.log(`${'file'.padEnd(34)}${'raw'.padStart(10)}${'gzip'.padStart(10)}`);
  for (const r of [...rows, total]) console.log(`${r.name.padEnd(34)}${kib(r.raw)}${kib(r.gzip)}`);
  return total.gzip;
}

try {
  const [css, js] = [buildCss(), await buildJs()];
  const cssName = contentName('app', 'css', css), jsName = contentName('app', 'js', js);
  const html = Buffer.from(renderIndex({ js: jsName, css: cssName }));

  const files = [
    { name: 'index.html', data: html },
    { name: `assets/${jsName}`, data: js },
    { name: `assets/${cssName}`, data: css },
  ];
  const gzip = report(files);
  if (gzip > BUDGET) {
    console.error(`web build: the dashboard is ${gzip} bytes gzip, over its budget of ${BUDGET} bytes (${(BUDGET / 1024).toFixed(1)} KiB); make it smaller. ${path.relative(root, dist)}/ is left as it was`);
    process.exit(1);
  }

  const next = `${dist}.new-${process.pid}`, old = `${dist}.old-${process.pid}`;
  fs.rmSync(next, { recursive: true, force: true });
  fs.mkdirSync(path.join(next, 'assets'), { recursive: true });
  for (const f of files) fs.writeFileSync(path.join(next, f.name), f.data);
  if (fs.existsSync(dist)) fs.renameSync(dist, old);
  fs.renameSync(next, dist);
  fs.rmSync(old, { recursive: true, force: true });
  console.log(`web build: ${path.relative(root, dist)}/ ready, ${(gzip / 1024).toFixed(1)} of ${BUDGET / 1024} KiB gzip budget`);
} catch (err) {
  console.error(`web build failed: ${err.message}`);
  process.exit(1);
}
