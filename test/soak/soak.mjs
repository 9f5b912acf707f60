// `make soak`: one firmware process under mixed load for SOAK_SECONDS, sampled every
// second, judged at the end (the verdicts below); run by test/soak/run.sh.
//   node test/soak/soak.mjs FIRMWARE LABEL [--asan]
// The load: 20 browsers polling REST and loading the page; 1000 WebSocket tabs (100 that
// write and time the reply, here; the rest in load.mjs, a worker thread, with slow
// readers, uploads, garbage connections, session logouts and the pipelining attack).
// Env: SOAK_SECONDS (1800), SOAK_WS_CLIENTS (1000), SOAK_OUT (build/soak).
// Writes OUT/LABEL-samples.csv (each second), OUT/LABEL-latency.csv (each 10 s window),
// OUT/LABEL-firmware.log and OUT/LABEL-summary.txt; exits 1 when a verdict fails.
import { Worker } from 'node:worker_threads';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import WebSocket from 'ws';
import { sleep, startFirmware, login, rssKb, fdCount, cpuTicks, request, summarize, loopDelay } from './lib.mjs';

const [bin, label = 'release', ...flags] = process.argv.slice(2);
if (!bin) {
  console.error('usage: node test/soak/soak.mjs FIRMWARE LABEL [--asan]');
  process.exit(2);
}
const ASAN = flags.includes('--asan');
const SECONDS = Number(process.env.SOAK_SECONDS || 1800);
const WS_CLIENTS = Number(process.env.SOAK_WS_CLIENTS || 1000);
const OUT = process.env.SOAK_OUT || 'build/soak';
const BROWSERS = 20, WRITERS = 100, SLOW_WS = 10;
const WINDOW_S = 10;
// Long enough to connect every client and reach steady state; the attack starts after it
const WARMUP_S = Math.min(120, Math.max(20, Math.round(SECONDS / 6)));
const ATTACK_PERIOD_S = 60, ATTACK_HOLD_S = 30;
const REQUEST_TIMEOUT_MS = ASAN ? 15000 : 5000;  // A well-behaved request with no reply by then is an error

// ---- verdict thresholds, and why
const LATENCY_LIMIT_MS = 50;  // The issue's: every well-behaved client's p99, each window (release build)
// RSS may rise over its warm-up level by what the attack's 21 connections may hold when the
// firmware bounds them: each a full send queue (MG_MAX_SEND_QUEUE, 256 KiB) and half as much
// again (its receive buffer, the reply being built, allocator slack): 21 x 384 KiB.
const RSS_BUDGET_KB = 21 * 384;
// Flat: the mean over the last attack cycle may exceed the first one's after warm-up by 10%.
// Both hold the same mix (two waves each, see `cycles`). This load makes ~70 HTTP requests and
// ~10,000 WebSocket messages a second: 100 bytes lost per request alone would add 12 MB in 30
// min, against 10% of a ~6 MB process; allocator noise between clean cycles stayed under 6%.
const FLAT_GROWTH = 0.10;
const FD_SLACK = 10;  // Descriptors: the same 10% plus this, for connections in flight at a sample
// Once every client has closed (the crowd's closes take a second), the firmware must have let
// go of every connection within this: nothing it holds should wait on a peer that is gone
const DRAIN_LIMIT_S = 20;

fs.mkdirSync(OUT, { recursive: true });
const file = (suffix) => path.join(OUT, `${label}-${suffix}`);
const logPath = file('firmware.log');
const env = { ...process.env };
if (ASAN) Object.assign(env, { ASAN_OPTIONS: 'detect_leaks=1', UBSAN_OPTIONS: 'halt_on_error=1:print_stacktrace=1' });
const fw = await startFirmware({ bin, dataDir: file('data'), logPath, env });
const { port } = fw, pid = fw.proc.pid;
let fwExit = null;
fw.exited.then((e) => (fwExit = e));
process.on('exit', () => fwExit === null && fw.proc.kill('SIGKILL'));  // A driver that failed leaves no firmware behind
const base = `http://127.0.0.1:${port}`;
await sleep(300);
const baseFds = fdCount(pid);  // The listener, epoll, the wakeup pipe, stdio: everything but clients
const t0 = performance.now();
const elapsed = () => (performance.now() - t0) / 1000;
let running = true;

// ---- latency of the well-behaved clients, by class
class Latency {
  constructor() { this.win = []; this.all = []; this.errors = 0; this.firstErrors = []; }
  add(ms) {
    if (!running) return;  // Replies to requests sent before the stop, slowed by the crowd leaving
    this.win.push(ms);
    if (elapsed() >= WARMUP_S) this.all.push(ms);
  }
  fail(what) {
    if (!running) return;
    this.errors++;
    if (this.firstErrors.length < 5) this.firstErrors.push(`${elapsed().toFixed(0)} s: ${what}`);
  }
}
const lat = { rest: new Latency(), ws: new Latency(), page: new Latency() };
const MEASURED = ['rest', 'ws'];
const lag = loopDelay();

// ---- the firmware, sampled every second
const samplesCsv = fs.createWriteStream(file('samples.csv'));
samplesCsv.write('t_s,rss_kb,fds,conns,fw_reported_conns,fw_cpu_pct,attack\n');
const samples = [];
let attackOn = 0, attackInWindow = 0, fwReportedConns = '', lastTicks = cpuTicks(pid), lastTicksAt = performance.now();
function sample() {
  let rss, fds, ticks;
  try {
    [rss, fds, ticks] = [rssKb(pid), fdCount(pid), cpuTicks(pid)];
  } catch {
    return;  // Gone: the exit verdict says so
  }
  const now = performance.now();
  const cpu = ((ticks - lastTicks) / 100) / ((now - lastTicksAt) / 1000) * 100;  // CLK_TCK is 100 on Linux
  [lastTicks, lastTicksAt] = [ticks, now];
  const s = { t: elapsed(), rss, fds, conns: fds - baseFds, cpu, attack: attackOn };
  samples.push(s);
  samplesCsv.write(`${s.t.toFixed(1)},${rss},${fds},${s.conns},${fwReportedConns},${cpu.toFixed(0)},${attackOn}\n`);
}
const sampler = setInterval(sample, 1000);

// ---- log in (PBKDF2 is slow on purpose: twice, and each session shared by many clients)
const cookie = await login(base);
const crowdCookie = await login(base);
const index = (await request({ port, path: '/' })).body.toString();
const asset = '/' + index.match(/src="\.\/(assets\/[^"]+\.js)"/)[1];
const style = '/' + index.match(/href="\.\/(assets\/[^"]+\.css)"/)[1];

// ---- 20 browsers: each polls three sets a second and reloads the page every 30 s
async function timedGet(cls, agent, p, headers) {
  const start = performance.now();
  try {
    const res = await request({ port, path: p, headers, agent, timeoutMs: REQUEST_TIMEOUT_MS });
    lat[cls].add(performance.now() - start);
    if (res.status !== 200) lat[cls].fail(`GET ${p}: ${res.status}`);
    return res;
  } catch (e) {
    lat[cls].add(performance.now() - start);
    lat[cls].fail(`GET ${p}: ${e.message}`);
    return null;
  }
}
async function browser() {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
  const headers = { Cookie: cookie };
  let nextPage = performance.now() + Math.random() * 30000;
  await sleep(Math.random() * 1000);
  while (running) {
    for (const set of ['device', 'sensors', 'leds']) {
      const res = await timedGet('rest', agent, `/api/sets/${set}`, headers);
      if (set === 'device' && res?.status === 200) fwReportedConns = JSON.parse(res.body).connections;
    }
    if (performance.now() >= nextPage) {
      for (const p of ['/', asset, style]) await timedGet('page', agent, p, { ...headers, 'Accept-Encoding': 'gzip' });
      nextPage += 30000;
    }
    await sleep(1000);
  }
  agent.destroy();
}

// ---- 100 WebSocket tabs that write a LED every 2 s (on average) and time the reply
const writers = new Set();
async function writer() {
  let ws, nextId = 1;
  const pending = new Map();  // id -> when sent
  const connect = () => {
    ws = new WebSocket(`ws://127.0.0.1:${port}/api/ws`, { headers: { Cookie: cookie }, origin: base, perMessageDeflate: false });
    writers.add(ws);
    ws.on('message', (d) => {
      const text = d.toString();
      if (!text.startsWith('{"id":')) return;  // A push
      const m = JSON.parse(text);
      const sent = pending.get(m.id);
      if (sent === undefined) return;
      pending.delete(m.id);
      lat.ws.add(performance.now() - sent);
      if (m.ok !== true) lat.ws.fail(`write refused: ${text.slice(0, 100)}`);
    });
    ws.on('error', () => {});
    ws.on('close', (code) => {
      writers.delete(ws);
      if (!running) return;
      lat.ws.fail(`writer closed by the server (${code})`);
      pending.clear();
      setTimeout(() => running && connect(), 1000);
    });
    return new Promise((resolve) => { ws.once('open', resolve); ws.once('close', resolve); });
  };
  await connect();
  while (running) {
    await sleep(1500 + Math.random() * 1000);
    for (const [id, sent] of pending) {
      if (performance.now() - sent < REQUEST_TIMEOUT_MS) continue;
      pending.delete(id);
      lat.ws.add(performance.now() - sent);
      lat.ws.fail(`no reply to write ${id} in ${REQUEST_TIMEOUT_MS} ms`);
    }
    if (!running || ws.readyState !== WebSocket.OPEN) continue;
    const id = nextId++;
    pending.set(id, performance.now());
    ws.send(JSON.stringify({ id, set: 'leds', values: { led2: id % 2 === 0 } }));
  }
}

// ---- the rest of the load, in a worker
let crowdCounts = {}, workerErrors = [];
const workerLags = [];  // The load thread's event-loop delay p99 of each 10 s after warm-up
const worker = new Worker(new URL('./load.mjs', import.meta.url), {
  workerData: {
    port, cookie: crowdCookie, asset, style, warmupMs: WARMUP_S * 1000, crowdSize: WS_CLIENTS - WRITERS - SLOW_WS, slowWsCount: SLOW_WS,
    attackPeriodMs: ATTACK_PERIOD_S * 1000, attackHoldMs: ATTACK_HOLD_S * 1000,
  },
});
const workerDone = new Promise((resolve) => {
  worker.on('message', (m) => {
    if (m.type === 'attack') attackOn = m.on ? 1 : 0;
    if (m.type === 'attack' && m.on) attackInWindow = 1;
    else if (m.type === 'crowd-ready') console.log(`[${elapsed().toFixed(0).padStart(5)} s] ${m.open} crowd tabs open`);
    else if (m.type === 'error') workerErrors.push(m.message);
    if (m.counts) crowdCounts = m.counts;
    if (m.type === 'counts' && elapsed() >= WARMUP_S) workerLags.push(m.lagP99);
    if (m.type === 'done') resolve();
  });
  worker.on('error', (e) => { workerErrors.push(e.stack); resolve(); });
});

// ---- 10 s windows: per-class latency and the loops' own delays into the CSV and a progress line
const latencyCsv = fs.createWriteStream(file('latency.csv'));
latencyCsv.write('t_start_s,class,count,errors_total,p50_ms,p99_ms,max_ms,client_lag_p99_ms\n');
const windows = [];
let windowStart = elapsed();
function closeWindow() {
  const w = { t: windowStart, end: elapsed(), lagP99: lag.p99(), attack: attackInWindow };
  windowStart = w.end;
  lag.reset();
  attackInWindow = attackOn;
  for (const cls of Object.keys(lat)) {
    w[cls] = summarize(lat[cls].win);
    lat[cls].win = [];
    const f = (x) => (Number.isNaN(x) ? '' : x.toFixed(2));
    latencyCsv.write(`${w.t.toFixed(1)},${cls},${w[cls].n},${lat[cls].errors},${f(w[cls].p50)},${f(w[cls].p99)},${f(w[cls].max)},${w.lagP99.toFixed(1)}\n`);
  }
  windows.push(w);
  const s = samples[samples.length - 1] || {};
  console.log(`[${elapsed().toFixed(0).padStart(5)} s] rss ${s.rss} kB, fds ${s.fds}, cpu ${s.cpu?.toFixed(0)}%, ` +
    `rest p99 ${w.rest.p99.toFixed(1)} ms (n ${w.rest.n}), ws p99 ${w.ws.p99.toFixed(1)} ms (n ${w.ws.n}), ` +
    `errors ${lat.rest.errors + lat.ws.errors}${attackOn ? ', attack on' : ''}${fwExit ? ', FIRMWARE GONE' : ''}`);
}
const windower = setInterval(closeWindow, WINDOW_S * 1000);

console.log(`soak ${label}: ${bin} on port ${port}, pid ${pid}, ${SECONDS} s (warm-up ${WARMUP_S} s), ` +
  `${WS_CLIENTS} WebSocket clients, ${BROWSERS} browsers; samples in ${file('samples.csv')}`);
const jobs = [...Array.from({ length: BROWSERS }, browser), ...Array.from({ length: WRITERS }, writer)];
while (elapsed() < SECONDS && fwExit === null) await sleep(250);

// ---- stop every client; the firmware must then let go of every connection
clearInterval(windower);
closeWindow();  // The last, short one: what comes after the stop is not measured
running = false;
const ranToEnd = fwExit === null;
const stoppedAt = elapsed();
worker.postMessage('stop');
await Promise.race([workerDone, sleep(20000)]);
await worker.terminate();
for (const ws of writers) ws.close(1001);
await Promise.race([Promise.all(jobs), sleep(REQUEST_TIMEOUT_MS + 3000)]);
let drainedAfter = null;
while (ranToEnd && fwExit === null && elapsed() - stoppedAt < DRAIN_LIMIT_S) {
  if (fdCount(pid) <= baseFds) {
    drainedAfter = elapsed() - stoppedAt;
    break;
  }
  await sleep(250);
}
clearInterval(sampler);
sample();
const rssAfterDrain = fwExit === null ? rssKb(pid) : NaN;
fw.proc.kill('SIGTERM');
const exit = await Promise.race([fw.exited, sleep(60000).then(() => null)]);
if (exit === null) fw.proc.kill('SIGKILL');
samplesCsv.end();
latencyCsv.end();

// ---- the verdicts
const log = fs.readFileSync(logPath, 'latin1');
const sanitizerReports = (log.match(/ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:/g) || []).length;
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const during = (from, to) => samples.filter((s) => s.t >= from && s.t < to && s.t <= stoppedAt);
const post = during(WARMUP_S, SECONDS);
// Flatness compares two whole attack cycles (an identity wave and a gzip wave, from the start of
// one wave to the next's): the first after warm-up and the last; a short run compares halves.
const CYCLE_S = 2 * ATTACK_PERIOD_S;
const cycles = Math.floor((SECONDS - WARMUP_S) / CYCLE_S);
const [firstFrom, lastFrom, span] = cycles >= 2
  ? [WARMUP_S, WARMUP_S + (cycles - 1) * CYCLE_S, CYCLE_S]
  : [WARMUP_S, (WARMUP_S + SECONDS) / 2, (SECONDS - WARMUP_S) / 2];
const first = during(firstFrom, firstFrom + span), last = during(lastFrom, lastFrom + span);
const warmEnd = during(WARMUP_S - 10, WARMUP_S);
function curve(key) {
  const maxS = post.reduce((m, s) => (s[key] > m[key] ? s : m), post[0] || {});
  return {
    warm: mean(warmEnd.map((s) => s[key])), first: post[0]?.[key], last: post[post.length - 1]?.[key],
    max: maxS[key], maxAt: maxS.t, firstMean: mean(first.map((s) => s[key])), lastMean: mean(last.map((s) => s[key])),
  };
}
const rss = curve('rss'), fds = curve('fds');
const pct = (a, b) => `${a >= b ? '+' : ''}${(((a - b) / b) * 100).toFixed(1)}%`;
const measuredWindows = windows.filter((w) => w.t >= WARMUP_S && w.end - w.t >= WINDOW_S / 2);
const worst = (cls) => measuredWindows.reduce((m, w) => (w[cls].p99 > (m?.[cls].p99 ?? -1) ? w : m), null);
const slow = (w) => MEASURED.some((cls) => w[cls].p99 >= LATENCY_LIMIT_MS);
const over = (cls) => measuredWindows.filter((w) => w[cls].p99 >= LATENCY_LIMIT_MS).length;
const overBoth = (attack) => measuredWindows.filter((w) => !!w.attack === attack && slow(w)).length;
const crowdErrorKeys = Object.keys(crowdCounts).filter((k) => /^(crowd|session tab): closed by the server/.test(k) ||
  (/^session: /.test(k) && !/logout 200, tabs closed 1008$/.test(k)) || (/^upload valid/.test(k) && !/: 200$/.test(k)));
const crowdErrors = crowdErrorKeys.reduce((n, k) => n + crowdCounts[k], 0);
const wellBehavedErrors = lat.rest.errors + lat.ws.errors + lat.page.errors + crowdErrors;

const verdicts = [
  ['the firmware ran to the end and exited 0 on SIGTERM', ranToEnd && exit?.code === 0,
    `${ranToEnd ? 'ran to the end' : `died at ${stoppedAt.toFixed(0)} s (${JSON.stringify(fwExit)})`}, exit ${exit ? `code ${exit.code} signal ${exit.signal}` : 'hung: killed'}`],
  ['no sanitizer report in its log', sanitizerReports === 0, `${sanitizerReports} reports in ${logPath}`],
  ['no well-behaved client saw an error', wellBehavedErrors === 0 && workerErrors.length === 0,
    `REST ${lat.rest.errors}, WebSocket writes ${lat.ws.errors}, page loads ${lat.page.errors}, crowd/sessions/settings ${crowdErrors}` +
    `${workerErrors.length ? `, driver errors ${workerErrors.length}` : ''}`],
  ['descriptors flat after warm-up', fds.lastMean <= fds.firstMean * (1 + FLAT_GROWTH) + FD_SLACK,
    `last-cycle mean ${fds.lastMean.toFixed(0)} vs first ${fds.firstMean.toFixed(0)} (limit +${FLAT_GROWTH * 100}% +${FD_SLACK})`],
  ['every connection closed once the clients left', drainedAfter !== null,
    drainedAfter !== null ? `back to ${baseFds} descriptors ${drainedAfter.toFixed(1)} s after the load stopped`
      : `${samples[samples.length - 1]?.fds} descriptors ${DRAIN_LIMIT_S} s after the load stopped, ${baseFds} before it`],
];
if (!ASAN) {  // ASan's quarantine and shadow memory make RSS and time meaningless there
  verdicts.push(
    ['RSS flat after warm-up', rss.lastMean <= rss.firstMean * (1 + FLAT_GROWTH),
      `last-cycle mean ${rss.lastMean.toFixed(0)} kB vs first ${rss.firstMean.toFixed(0)} kB (${pct(rss.lastMean, rss.firstMean)}, limit +${FLAT_GROWTH * 100}%)`],
    ['RSS bounded under attack', rss.max <= rss.warm + RSS_BUDGET_KB,
      `max ${rss.max} kB at ${rss.maxAt?.toFixed(0)} s vs ${rss.warm.toFixed(0)} kB at warm-up end (limit +${RSS_BUDGET_KB} kB)`],
    [`p99 latency < ${LATENCY_LIMIT_MS} ms in every ${WINDOW_S} s window after warm-up`, over('rest') + over('ws') === 0,
      `windows over: REST ${over('rest')}, WebSocket ${over('ws')} of ${measuredWindows.length} ` +
      `(with an attack wave in it: ${overBoth(true)} of ${measuredWindows.filter((w) => w.attack).length}, ` +
      `without: ${overBoth(false)} of ${measuredWindows.filter((w) => !w.attack).length})`],
  );
}

const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '-');
const overall = (cls) => {
  const s = summarize(lat[cls].all);
  return `${cls.padEnd(4)} n ${s.n}, p50 ${f1(s.p50)}, p99 ${f1(s.p99)}, max ${f1(s.max)} ms`;
};
const lagLine = (xs) => {
  const s = summarize(xs);
  return `${f1(s.p50)} and ${f1(s.max)} ms`;
};
const worstLine = (cls) => {
  const w = worst(cls);
  return w ? `${cls} ${f1(w[cls].p99)} ms at ${w.t.toFixed(0)}-${w.end.toFixed(0)} s (max ${f1(w[cls].max)}${w.attack ? ', attack wave' : ''})` : `${cls} -`;
};
const lines = [
  `soak ${label} (${bin}): ${SECONDS} s, warm-up ${WARMUP_S} s, ${WS_CLIENTS} WebSocket clients, ${BROWSERS} browsers, ` +
    `attack waves every ${ATTACK_PERIOD_S} s held ${ATTACK_HOLD_S} s; load average ${fs.readFileSync('/proc/loadavg', 'latin1').split(' ').slice(0, 3).join(' ')}`,
  `RSS kB: warm-up end ${rss.warm.toFixed(0)}, first after warm-up ${rss.first}, last ${rss.last}, max ${rss.max} at ${f1(rss.maxAt)} s; ` +
    `mean over ${span} s from ${firstFrom} s ${rss.firstMean.toFixed(0)}, from ${lastFrom} s ${rss.lastMean.toFixed(0)} (${pct(rss.lastMean, rss.firstMean)}); after the clients left ${rssAfterDrain}`,
  `descriptors: baseline ${baseFds}, warm-up end ${fds.warm.toFixed(0)}, first after warm-up ${fds.first}, last ${fds.last}, max ${fds.max} at ${f1(fds.maxAt)} s; ` +
    `mean from ${firstFrom} s ${fds.firstMean.toFixed(0)}, from ${lastFrom} s ${fds.lastMean.toFixed(0)} (connections: descriptors minus ${baseFds})`,
  `latency of well-behaved clients after warm-up: ${overall('rest')}; ${overall('ws')}; ${overall('page')}`,
  `worst ${WINDOW_S} s window p99 after warm-up: ${worstLine('rest')}; ${worstLine('ws')}`,
  `client event-loop delay p99 after warm-up, median and worst 10 s: measuring thread ${lagLine(measuredWindows.map((w) => w.lagP99))}, ` +
    `load thread ${lagLine(workerLags)} (the client's share of the latencies above; a busy machine shows here)`,
  ...Object.values(lat).flatMap((l) => l.firstErrors.map((e) => `  error: ${e}`)),
  ...workerErrors.map((e) => `  driver error: ${e.split('\n').slice(0, 3).join(' | ')}`),
  'load (counts by kind and outcome):',
  ...Object.keys(crowdCounts).sort().map((k) => `  ${k}: ${crowdCounts[k]}${crowdErrorKeys.includes(k) ? '  <- error' : ''}`),
  `sanitizer reports: ${sanitizerReports}${ASAN ? ' (ASAN_OPTIONS=detect_leaks=1, UBSAN_OPTIONS=halt_on_error=1)' : ''}`,
  ...verdicts.map(([what, ok, detail]) => `${ok ? 'PASS' : 'FAIL'} ${what}: ${detail}`),
];
const failed = verdicts.filter(([, ok]) => !ok).length;
lines.push(`soak ${label}: ${failed ? `FAIL (${failed} of ${verdicts.length} verdicts)` : `PASS (${verdicts.length} verdicts)`}`);
fs.writeFileSync(file('summary.txt'), lines.join('\n') + '\n');
console.log(lines.join('\n'));
process.exit(failed ? 1 : 0);
