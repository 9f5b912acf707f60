// npm run dev: the dashboard with live reload, in front of a real device.
// One port (PORT, default 5173) serves everything: /api and WebSocket upgrades
// go to the device at DEVICE (default http://127.0.0.1:8000), the rest to
// esbuild, which rebuilds the JS and the CSS that Tailwind's watcher writes.
// After each build the page hears from /__meerkat/events: an error shows as an
// overlay over the page, the next good build reloads it (and so clears it).
// WEB_SRC_DIR serves another copy of web/src (the tests break and fix one).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { cssEntry, jsOptions, renderIndex, root, src, tailwindCommand } from './common.mjs';

const PORT = Number(process.env.PORT || 5173);
const HOST = process.env.HOST || '127.0.0.1';
const DEVICE = new URL(process.env.DEVICE || 'http://127.0.0.1:8000');
// never web/dist: that is the production build
const out = process.env.WEB_SRC_DIR ? `${src}.dev-out` : path.join(root, 'build/web-dev');
const tailwindOut = path.join(out, 'tailwind.css');

// The last build's outcome, sent to every page that listens (and to each new one).
let lastBuild = { generation: 0, errors: [] };
const listeners = new Set();
function announce(res) {
  res.write(`event: build\ndata: ${JSON.stringify(lastBuild)}\n\n`);
}

// In the dev page: show a failed build's errors over the page; reload after the next good one.
const reloadScript = `<script type="module">
const es = new EventSource('__meerkat/events');
let seen = null;
es.addEventListener('build', (e) => {
  const { generation, errors } = JSON.parse(e.data);
  if (seen !== null && generation !== seen && !errors.length) return location.reload();
  seen = generation;
  document.getElementById('meerkat-dev-overlay')?.remove();
  if (!errors.length) return;
  const box = document.createElement('div');
  box.id = 'meerkat-dev-overlay';
  box.setAttribute('role', 'alert');
  box.style.cssText = 'position:fixed;inset:0;z-index:2147483647;overflow:auto;padding:2rem;background:rgba(15,23,42,.94);color:#fecaca;font:14px/1.5 ui-monospace,monospace';
  const title = document.createElement('h2');
  title.textContent = 'Build failed: fix the error and save, the page reloads by itself';
  title.style.cssText = 'margin:0 0 1rem;color:#fff;font:600 18px system-ui,sans-serif';
  const pre = document.createElement('pre');
  pre.textContent = errors.join('\\n');
  pre.style.cssText = 'margin:0;white-space:pre-wrap';
  box.append(title, pre);
  document.body.append(box);
});
</script>
`;

// Tailwind once, so esbuild has a CSS file to start from; then its watcher.
fs.mkdirSync(out, { recursive: true });
const [node, cli] = tailwindCommand();
const first = spawnSync(node, [cli, '-i', cssEntry, '-o', tailwindOut], { cwd: root, stdio: 'inherit' });
if (first.status !== 0) process.exit(1);
const tailwind = spawn(node, [cli, '-i', cssEntry, '-o', tailwindOut, '--watch=always'], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });

const ctx = await esbuild.context({
  ...jsOptions,
  entryPoints: [{ in: jsOptions.entryPoints[0], out: 'app' }, { in: tailwindOut, out: 'app' }],
  outdir: path.join(out, 'assets'),
  loader: { '.css': 'copy' },  // serve Tailwind's CSS as it wrote it
  write: false,
  sourcemap: 'inline',
  plugins: [{ name: 'log', setup(build) {  // one line per rebuild; esbuild itself reports only problems
    build.onEnd(async (r) => {
      console.log(`[dev] ${new Date().toLocaleTimeString()} built${r.errors.length ? ` with ${r.errors.length} error(s)` : ''}`);
      const errors = await esbuild.formatMessages(r.errors, { kind: 'error', color: false });
      lastBuild = { generation: lastBuild.generation + 1, errors: errors.map((e) => e.replaceAll(root + path.sep, '')) };
      for (const res of listeners) announce(res);
    });
  } }],
});
await ctx.watch();
const esb = await ctx.serve({ host: '127.0.0.1', port: 0, servedir: out });

// Answer a request that could not be forwarded, without taking the server down.
function badGateway(res, what, err) {
  if (res.headersSent) return res.destroy();
  res.writeHead(502, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(`${what} not reachable: ${err.code || err.message}\n`);
}

function forward(req, res, target, what) {
  const client = target.protocol === 'https:' ? https : http;
  const base = target.pathname.replace(/\/$/, '');
  const upstream = client.request({
    host: target.hostname, port: target.port, method: req.method, path: base + req.url,
    headers: { ...req.headers, host: target.host },
  }, (up) => {
    res.writeHead(up.statusCode, up.headers);
    up.pipe(res);
  });
  upstream.on('error', (err) => badGateway(res, what, err));
  req.pipe(upstream);
}

const server = http.createServer((req, res) => {
  const { pathname } = new URL(req.url, 'http://dev');
  if (pathname === '/api' || pathname.startsWith('/api/')) return forward(req, res, DEVICE, `Device at ${DEVICE.origin}`);
  if (pathname === '/__meerkat/events') {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' });
    announce(res);
    listeners.add(res);
    return req.on('close', () => listeners.delete(res));
  }
  if (pathname === '/' || pathname === '/index.html') {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
    return res.end(renderIndex({ js: 'app.js', css: 'app.css', head: reloadScript }));
  }
  forward(req, res, new URL(`http://127.0.0.1:${esb.port}`), 'esbuild');
});

// WebSocket (any Upgrade): replay the request head to the device, then splice the sockets.
server.on('upgrade', (req, socket, head) => {
  const secure = DEVICE.protocol === 'https:';
  const port = Number(DEVICE.port) || (secure ? 443 : 80);
  const device = secure ? tls.connect(port, DEVICE.hostname, { servername: DEVICE.hostname }) : net.connect(port, DEVICE.hostname);
  const base = DEVICE.pathname.replace(/\/$/, '');
  device.once(secure ? 'secureConnect' : 'connect', () => {
    let lines = `${req.method} ${base + req.url} HTTP/1.1\r\n`;
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i];
      lines += `${name}: ${name.toLowerCase() === 'host' ? DEVICE.host : req.rawHeaders[i + 1]}\r\n`;
    }
    device.write(`${lines}\r\n`);
    if (head.length) device.write(head);
    device.pipe(socket).pipe(device);
  });
  device.on('error', (err) => {
    if (socket.writable) socket.end(`HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nDevice at ${DEVICE.origin} not reachable: ${err.code || err.message}\n`);
  });
  socket.on('error', () => device.destroy());
  socket.on('close', () => device.destroy());
});

server.on('error', (err) => {
  console.error(`dev server: cannot listen on ${HOST}:${PORT}: ${err.code || err.message} (set PORT=...)`);
  shutdown(1);
});
server.listen(PORT, HOST, () => {
  console.log(`\n  Meerkat dashboard (dev): http://${HOST === '0.0.0.0' ? 'localhost' : HOST}:${PORT}/`);
  console.log(`  /api and WebSocket upgrades -> ${DEVICE.href} (set DEVICE=... to change)\n`);
});

let stopping = false;
async function shutdown(code = 0) {
  if (stopping) return;
  stopping = true;
  tailwind.kill('SIGTERM');
  for (const res of listeners) res.end();
  server.close();
  await ctx.dispose();
  process.exit(code);
}
process.on('SIGINT', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));
tailwind.on('exit', (code) => {
  if (!stopping) console.error(`dev server: the Tailwind watcher exited (${code}); stopping`), shutdown(1);
});
