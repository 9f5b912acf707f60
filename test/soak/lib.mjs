// Helpers the soak (test/soak) and the firmware benchmarks (test/bench) share: start
// the firmware with its log in a file, log in, read a process's memory and descriptors
// from /proc, time HTTP requests, and percentiles.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const PASSWORD = 'soak-password-1';

// The firmware on an ephemeral loopback port, stdout and stderr into logPath (a file,
// not a pipe: a pipe nobody drains would stall the firmware's log writes).
// Resolves with {proc, port, exited} once it logs the address it listens on.
export async function startFirmware({ bin, dataDir, logPath, env = process.env, timeoutMs = 20000 }) {
  fs.rmSync(dataDir, { recursive: true, force: true });
  const log = fs.openSync(logPath, 'w');
  const proc = spawn(bin, ['-l', 'http://127.0.0.1:0', '-d', dataDir, '-v', '2'], { stdio: ['ignore', log, log], env });
  fs.closeSync(log);
  let exit = null;
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve((exit = { code, signal }))));
  const end = Date.now() + timeoutMs;
  while (Date.now() < end && exit === null) {
    const m = fs.readFileSync(logPath, 'latin1').match(/listening on http:\/\/127\.0\.0\.1:([1-9]\d*)/);
    if (m) return { proc, port: Number(m[1]), exited };
    await sleep(50);
  }
  proc.kill('SIGKILL');
  throw new Error(`${bin} did not start (${exit ? `exit ${exit.code} ${exit.signal}` : 'timeout'}), see ${logPath}`);
}

// The session cookie: sets the admin up on a fresh data directory, else logs in
export async function login(base, password = PASSWORD) {
  const auth = await fetch(`${base}/api/auth`);
  if (auth.status !== 200) throw new Error(`GET /api/auth: ${auth.status}`);
  const { setup } = await auth.json();
  const res = await fetch(`${base}/api/auth/${setup ? 'setup' : 'login'}`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(setup ? { password } : { user: 'admin', password }),
  });
  if (res.status !== 200) throw new Error(`login: ${res.status} ${await res.text()}`);
  return res.headers.get('set-cookie').split(';')[0];
}

export function rssKb(pid) {
  const m = fs.readFileSync(`/proc/${pid}/status`, 'latin1').match(/^VmRSS:\s+(\d+)\s+kB/m);
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}
export const fdCount = (pid) => fs.readdirSync(`/proc/${pid}/fd`).length;
// user + system time in clock ticks (fields 14 and 15, counted after the ")" of the name)
export function cpuTicks(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'latin1').replace(/^.*\) /s, '').split(' ');
  return Number(f[11]) + Number(f[12]);
}

// One request; resolves {status, body} or rejects on an error or after timeoutMs.
// With chunks (an array) the body goes out chunked, one chunk per write.
export function request({ port, path, method = 'GET', headers = {}, body, chunks, agent, timeoutMs = 5000 }) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no reply in ${timeoutMs} ms`)));
    req.on('error', reject);
    if (chunks) chunks.forEach((c) => req.write(c));
    req.end(chunks ? undefined : body);
  });
}

// p in [0, 100] of an ascending array (nearest rank)
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
export function summarize(values) {
  const s = Float64Array.from(values).sort();
  return { n: s.length, p50: percentile(s, 50), p99: percentile(s, 99), max: s.length ? s[s.length - 1] : NaN };
}

// How late this thread's event loop runs (what a busy client adds to every latency it
// measures): p99 in ms since the last reset, net of the sampling interval, which node's
// histogram counts in
export function loopDelay(resolutionMs = 10) {
  const h = monitorEventLoopDelay({ resolution: resolutionMs });
  h.enable();
  const ms = (ns) => Math.max(0, ns / 1e6 - resolutionMs);
  return { p99: () => ms(h.percentile(99)), reset: () => h.reset() };
}
