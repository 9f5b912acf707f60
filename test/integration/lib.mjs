// Shared helpers for the integration tests: start an example on an ephemeral
// loopback port, talk to it with curl or raw sockets, and stop it checking that
// it exited cleanly (under the ASan build: without sanitizer reports or leaks).
// MG_TEST_TLS=1: the suites that use listenArgs() serve over HTTPS with the development
// certificate, and curl and raw() speak TLS, trusting the development CA.
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import tls from 'node:tls';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';

export const BIN = process.env.BIN || 'build/examples';
export const SANITIZED = !!process.env.SANITIZED;
export const TLS = !!process.env.MG_TEST_TLS;
export const CERTS = process.env.CERTS || 'build/certs';
export const CA = path.join(CERTS, 'ca.pem');
export const HTTP = TLS ? 'https' : 'http';  // The scheme the servers of listenArgs() speak
export const WS = TLS ? 'wss' : 'ws';

// An example's listener on an ephemeral loopback port: -l URL, with -c CERT -k KEY under TLS
export function listenArgs() {
  if (!TLS) return ['-l', 'http://127.0.0.1:0'];
  return ['-l', 'https://127.0.0.1:0', '-c', path.join(CERTS, 'server.pem'), '-k', path.join(CERTS, 'server.key')];
}

// A client socket to 127.0.0.1:port, over TLS when TLS; onOpen runs once it can carry data
export function connectTo(port, onOpen) {
  if (!TLS) return net.connect(port, '127.0.0.1', onOpen);
  return tls.connect({ port, host: '127.0.0.1', ca: fs.readFileSync(CA) }, onOpen);
}

// Start BIN/name (or the program at a path) with args; resolves once it logs the address it listens on.
// Under TLS it waits for the https:// address.
export function startServer(name, args = [], { portPattern = new RegExp(`(?:${HTTP}|tcp)://127\\.0\\.0\\.1:([1-9]\\d*)`) } = {}) {
  const exe = name.includes('/') ? name : path.join(BIN, name);  // An example's name, or a path
  const proc = spawn(exe, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise((resolve) => proc.on('close', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${out}`)), 10000);
    const onData = (d) => {
      out += d;
      const m = out.match(portPattern);
      if (m) {
        clearTimeout(timer);
        resolve({
          port: Number(m[1]),
          proc,
          log: () => out,
          async stop() {
            proc.kill('SIGTERM');
            const { code, signal } = await exited;
            assert.doesNotMatch(out, /ERROR: (LeakSanitizer|AddressSanitizer)|runtime error:/, `${name} sanitizer report:\n${out}`);
            assert.equal(code, 0, `${name} exit code ${code} signal ${signal}:\n${out.slice(-3000)}`);
          },
        });
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('error', reject);
    exited.then(({ code }) => reject(new Error(`${name} exited early (${code}):\n${out}`)));
  });
}

// Run curl (trusting the development CA under TLS); returns {code, stdout (Buffer), stderr}
export function curl(args, opts = {}) {
  const ca = TLS ? ['--cacert', CA] : [];
  const r = spawnSync('curl', ['-sS', '--max-time', '10', ...ca, ...args], { maxBuffer: 64 << 20, ...opts });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

// Parse "HTTP/1.1 200 OK\r\nA: b\r\n\r\nbody" as written by curl -i, or raw
export function parseResponses(buf) {
  const out = [];
  let rest = Buffer.from(buf);
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const head = rest.subarray(0, end).toString('latin1').split('\r\n');
    const status = Number(head[0].split(' ')[1]);
    const headers = {};
    for (const line of head.slice(1)) {
      const i = line.indexOf(':');
      headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    const len = Number(headers['content-length'] || 0);
    const body = rest.subarray(end + 4, end + 4 + len);
    out.push({ status, headers, body });
    rest = rest.subarray(end + 4 + len);
  }
  return out;
}

// Send raw bytes (string, Buffer or array of pieces sent with a pause between), inside
// TLS under TLS; resolve with everything received once the server closes or idleMs passes.
export function raw(port, data, { idleMs = 1500, pauseMs = 20 } = {}) {
  return new Promise((resolve, reject) => {
    const sock = connectTo(port);
    const chunks = [];
    let closed = false;
    let timer;
    const finish = () => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ data: Buffer.concat(chunks), closed });
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(finish, idleMs);
    };
    sock.on('data', (d) => {
      chunks.push(d);
      arm();
    });
    sock.on('end', () => {
      closed = true;
      finish();
    });
    sock.on('error', (e) => (e.code === 'ECONNRESET' ? ((closed = true), finish()) : reject(e)));
    sock.on(TLS ? 'secureConnect' : 'connect', async () => {
      const pieces = Array.isArray(data) ? data : [data];
      for (const p of pieces) {
        if (sock.destroyed) break;
        sock.write(p);
        if (pieces.length > 1) await new Promise((r) => setTimeout(r, pauseMs));
      }
      arm();
    });
  });
}

export function tmpdir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `meerkat-${prefix}-`));
}

export function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

// Resolves once the server's log matches re (its output arrives asynchronously,
// and a synchronous curl holds node's event loop while the server writes).
export async function waitForLog(srv, re, ms = 5000) {
  const end = Date.now() + ms;
  while (!re.test(srv.log()) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  assert.match(srv.log(), re);
}
