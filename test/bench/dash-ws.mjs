// The firmware's WebSocket /api/ws under many clients.
//   node dash-ws.mjs PID PORT N
// Logs in (first start: sets the admin password up), reads VmRSS of PID, has
// build/bench/ws_fanout (BUILD overrides build/) open N WebSocket clients and wait for
// each one's snapshot, reads VmRSS again, then changes one LED and lets ws_fanout time,
// for each client, the POST to that client's push. Prints one line:
// "cookie=C conns=N rss_before_kb=A rss_with_kb=B bytes_per_conn=X push_ms=T ..."
// (push_ms: to the last client's push, = push_max_ms; push_p50_ms and push_p99_ms over the
// clients; first_ms: to the first; reply_ms: to the POST's reply; open_s: time to open all;
// fw_cpu_ms and client_cpu_ms: CPU time each side spent from the POST to the last push;
// close_ms: from the clients all closing at once to the firmware holding none).
// Exits non-zero if a client failed or missed the push.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { login, rssKb, cpuTicks, fdCount, sleep } from '../soak/lib.mjs';

const [pid, port, nArg] = process.argv.slice(2);
const n = Number(nArg);
if (!pid || !port || !(n > 0)) {
  console.error('usage: node dash-ws.mjs PID PORT N');
  process.exit(2);
}
const base = `http://127.0.0.1:${port}`;
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
  client = spawn(fanout, [port, String(n), cookie], { stdio: ['pipe', 'pipe', 'pipe'] });
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
  const target = !now.led1;
  const fwTicks = cpuTicks(pid), clientTicks = cpuTicks(client.pid);
  client.stdin.write(`${JSON.stringify({ led1: target })} "led1":${target}\n`);
  const result = await next().catch(() => '');
  // CPU each side spent from the POST to the last push (in 10 ms ticks)
  const fwCpuMs = (cpuTicks(pid) - fwTicks) * 10, clientCpuMs = (cpuTicks(client.pid) - clientTicks) * 10;
  if (!result.startsWith('push_ms=')) await fail('timing the push');
  const per = Math.round(((withConns - before) * 1024) / n);
  const closeStart = performance.now();
  client.stdin.end();  // It closes its clients and exits
  while (fdCount(pid) > fdsBefore + 1 && performance.now() - closeStart < 30000) await sleep(5);
  const closeMs = performance.now() - closeStart;
  console.log(`cookie=${cookie} conns=${n} rss_before_kb=${before} rss_with_kb=${withConns} bytes_per_conn=${per} ` +
    `${result} open_s=${openS.toFixed(1)} fw_cpu_ms=${fwCpuMs} client_cpu_ms=${clientCpuMs} close_ms=${closeMs.toFixed(0)}`);
  process.exit(0);
} catch (e) {
  console.error(`dash-ws: ${e.message}`);
  if (client) client.kill();
  process.exit(1);
}
