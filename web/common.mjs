// What web/build.mjs and web/dev.mjs share: where things are, how esbuild and
// the Tailwind CLI are invoked, and how index.html gets its asset names.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// WEB_SRC_DIR and WEB_DIST point the build and the dev server elsewhere (tests use copies)
export const src = process.env.WEB_SRC_DIR ? path.resolve(process.env.WEB_SRC_DIR) : path.join(root, 'web/src');
export const dist = process.env.WEB_DIST ? path.resolve(process.env.WEB_DIST) : path.join(root, 'web/dist');

// esbuild options for the dashboard's JavaScript (both builds)
export const jsOptions = {
  entryPoints: [path.join(src, 'main.jsx')],
  bundle: true,
  format: 'esm',
  target: 'es2020',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  logLevel: 'warning',
};

// The Tailwind v4 CLI, run with this node: [node, cli.js]
export function tailwindCommand() {
  const require = createRequire(import.meta.url);
  const pkgPath = require.resolve('@tailwindcss/cli/package.json');
  const pkg = JSON.parse(fs.readFileSync(pkgPath, 'utf8'));
  const bin = typeof pkg.bin === 'string' ? pkg.bin : Object.values(pkg.bin)[0];
  return [process.execPath, path.join(path.dirname(pkgPath), bin)];
}
export const cssEntry = path.join(src, 'style.css');

// index.html from the template, pointing at the given asset names; the
// template names ./assets/app.js and ./assets/app.css, always relative.
export function renderIndex({ js, css, head = '' }) {
  let html = fs.readFileSync(path.join(src, 'index.html'), 'utf8');
  for (const [from, to] of [['./assets/app.js', js], ['./assets/app.css', css]]) {
    if (!html.includes(`"${from}"`)) throw new Error(`web/src/index.html must reference "${from}"`);
    html = html.replace(`"${from}"`, `"./assets/${to}"`);
  }
  return html.replace('</head>', `${head}</head>`);
}
