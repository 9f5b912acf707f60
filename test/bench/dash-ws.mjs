// The firmware's WebSocket /api/ws under many clients.
//   node dash-ws.mjs PID PORT N
// Logs in (first start: sets the admin password up), reads VmRSS of PID, has
// build/bench/ws_fanout (BUILD overrides build/) open N WebSocket clients and wait for
// each one's snapshot, reads VmRSS again, then changes one LED DASH_WS_PUSHES times (5)
// and lets ws_fanout time, for each client, the POST to that client's push. Prints one
// line: "cookie=C conns=N rss_before_kb=A rss_with_kb=B bytes_per_conn=X push_ms=T ..."
// with each figure the median over the pushes (push_ms: to the last client's push, =
// push_max_ms; push_p50_ms and push_p99_ms over the clients; first_ms: to the first;
// reply_ms: to the POST's reply; push_ms_each: push_ms of each push; open_s: time to open all;
// fw_cpu_ms: the firmware's CPU time from the POST to the last push, its kernel's included
// (on loopback that runs the receiving sockets' TCP too); fw_wait_ms: its time runnable but
// waiting for a CPU (others' load); client_busy_ms: the time ws_fanout spent reading
// meanwhile (its idle spinning left out); bound: the side busy longer, firmware or client;
// close_ms: from the clients all closing at once to the firmware holding none).
// Exits non-zero if a client failed or missed the push.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { login, rssKb, fdCount, sleep } from '../soak/lib.mjs';

const [pid, port, nArg] = process.argv.slice(2);
const n = Number(nArg);
if (!pid || !port || !(n > 0)) {
  console.error('usage: node dash-ws.mjs PID PORT N');
  process.exit(2);
}
const base = `http://127.0.0.1:${port}`;
// Pushes timed, each after a quiet spell longer than MG_DASH_PUSH_INTERVAL_MS (so it goes at
// once); the figures printed are their medians, steadier on a shared machine than one push
const PUSHES = Number(process.env.DASH_WS_PUSHES || 5), PUSH_GAP_MS = 300;
const fanout = path.join(process.env.BUILD || 'build', 'bench/ws_fanout');

// The client's lines, one at a time as they come
function lines(stream) {
  let buf = '';
  const waiting = [];
  stream.setEncoding('latin1');
  stream.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0 && waiting.length) {
      waiting.shift().resolve(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
  stream.on('end', () => waiting.splice(0).forEach((w) => w.reject(new Error('ws_fanout ended'))));
  return () => new Promise((resolve, reject) => {
    const i = buf.indexOf('\n');
    if (i >= 0) {
      resolve(buf.slice(0, i));
      buf = buf.slice(i + 1);
    } else {
      waiting.push({ resolve, reject });
    }
  });
}

let client = null;
try {
  const cookie = await login(base);
  const before = rssKb(pid), fdsBefore = fdCount(pid);
  const openStart = performance.now();
  client = spawn(fanout, [port, String(n), cookie, String(pid)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let errors = '';
  client.stderr.on('data', (d) => (errors += d));
  const exited = new Promise((resolve) => client.on('exit', resolve));
  const next = lines(client.stdout);
  const fail = async (what) => {
    await exited;
    throw new Error(`${what}: ${errors.trim() || 'no reason given'}`);
  };
  if ((await next().catch(() => '')) !== 'ready') await fail('opening the clients');
  const openS = (performance.now() - openStart) / 1000;
  await new Promise((r) => setTimeout(r, 1500));  // Let the server settle: buffers given back once drained
  const withConns = rssKb(pid);
  const now = await (await fetch(`${base}/api/sets/leds`, { headers: { Cookie: cookie } })).json();
  const pushes = [];
  for (let i = 0, target = !now.led1; i < PUSHES; i++, target = !target) {
    if (i > 0) await sleep(PUSH_GAP_MS);
    client.stdin.write(`${JSON.stringify({ led1: target })} "led1":${target}\n`);
    const result = await next().catch(() => '');
    if (!result.startsWith('push_ms=')) await fail('timing the push');
    pushes.push(Object.fromEntries(result.split(' ').map((kv) => kv.split('=')).map(([k, v]) => [k, Number(v)])));
  }
  const median = (name) => {
    const v = pushes.map((p) => p[name]).sort((a, b) => a - b);
    return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  };
  const names = Object.keys(pushes[0]);
  const result = names.map((k) => `${k}=${median(k).toFixed(1)}`).join(' ');
  const bound = median('fw_cpu_ms') >= median('client_busy_ms') ? 'firmware' : 'client';
  const each = pushes.map((p) => p.push_ms.toFixed(1)).join(',');
  const per = Math.round(((withConns - before) * 1024) / n);
  const closeStart = performance.now();
  client.stdin.end();  // It closes its clients and exits
  while (fdCount(pid) > fdsBefore + 1 && performance.now() - closeStart < 30000) await sleep(5);
  const closeMs = performance.now() - closeStart;
  console.log(`cookie=${cookie} conns=${n} rss_before_kb=${before} rss_with_kb=${withConns} bytes_per_conn=${per} ` +
    `${result} bound=${bound} pushes=${PUSHES} push_ms_each=${each} open_s=${openS.toFixed(1)} close_ms=${closeMs.toFixed(0)}`);
  process.exit(0);
} catch (e) {
  console.error(`dash-ws: ${e.message}`);
  if (client) client.kill();
  process.exit(1);
}
