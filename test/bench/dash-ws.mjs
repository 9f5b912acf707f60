// The firmware's WebSocket /api/ws under many clients.
//   node dash-ws.mjs PID PORT N
// Logs in (first start: sets the admin password up), reads VmRSS of PID, opens N
// WebSocket clients and waits for each one's snapshot, reads VmRSS again, then changes
// one LED over REST and times, for each client, the POST to that client's push.
// Clients connect from 127.0.0.1, 127.0.0.2, ... (one address per 5000) so that many
// of them never run out of ephemeral ports. Prints one line:
// "cookie=C conns=N rss_before_kb=A rss_with_kb=B bytes_per_conn=X push_ms=T ..."
// (push_ms: to the last client's push, = push_max_ms; push_p50_ms and push_p99_ms over the
// clients; first_ms: to the first; reply_ms: to the POST's reply; open_s: time to open all;
// fw_cpu_ms and client_cpu_ms: CPU time each side spent from the POST to the last push).
// Exits non-zero if a client failed or missed the push.
import WebSocket from 'ws';
import { sleep, login, rssKb, cpuTicks, summarize } from '../soak/lib.mjs';

const [pid, port, nArg] = process.argv.slice(2);
const n = Number(nArg);
if (!pid || !port || !(n > 0)) {
  console.error('usage: node dash-ws.mjs PID PORT N');
  process.exit(2);
}
const base = `http://127.0.0.1:${port}`;
const BATCH = 100;
const PER_SOURCE = 5000;  // Well inside Linux's 28232 ephemeral ports per source address

const clients = [];
try {
  const cookie = await login(base);
  const headers = { Cookie: cookie };
  let target = null;  // The LED value the timed change sets
  let t0 = 0;
  const arrivals = [];  // ms from the POST to each client's push
  const open = (i) => new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/ws`,
      { headers, perMessageDeflate: false, localAddress: `127.0.0.${1 + Math.floor(i / PER_SOURCE)}` });
    let snap = false;
    ws.on('message', (d) => {
      if (!snap && d.toString().startsWith('{"set":"leds"')) {
        snap = true;
        resolve();
      }
    });
    ws.on('error', reject);
    ws.on('close', () => (snap ? null : reject(new Error(`client ${i} closed before its snapshot`))));
    clients.push(ws);
  });
  await sleep(200);
  const before = rssKb(pid);
  const openStart = performance.now();
  for (let i = 0; i < n; i += BATCH) {
    await Promise.all(Array.from({ length: Math.min(BATCH, n - i) }, (_, k) => open(i + k)));
  }
  const openS = (performance.now() - openStart) / 1000;
  await sleep(1500);  // Let the server settle: buffers given back once drained
  const withConns = rssKb(pid);
  // From here each client looks for the change in its raw bytes, with ws's parser unhooked: at
  // 10,000 clients parsing every frame costs the client more time than the firmware's sending
  for (const ws of clients) {
    let tail = Buffer.alloc(0);
    ws._socket.removeAllListeners('data');  // eslint-disable-line no-underscore-dangle
    ws._socket.on('data', (d) => {  // eslint-disable-line no-underscore-dangle
      if (target === null || ws.done) return;
      const seen = Buffer.concat([tail, d]);
      if (seen.includes(`"led1":${target}`)) {
        ws.done = true;
        arrivals.push(performance.now() - t0);
      }
      tail = seen.subarray(-16);  // The text may straddle two reads
    });
  }
  const now = await (await fetch(`${base}/api/sets/leds`, { headers })).json();
  target = !now.led1;
  const fwTicks = cpuTicks(pid), ownCpu = process.cpuUsage();
  t0 = performance.now();
  const res = await fetch(`${base}/api/sets/leds`, {
    method: 'POST', headers: { ...headers, 'Content-Type': 'application/json' }, body: JSON.stringify({ led1: target }),
  });
  const replyMs = performance.now() - t0;
  if (res.status !== 200) throw new Error(`POST: ${res.status}`);
  const end = Date.now() + 10000;
  while (arrivals.length < n && Date.now() < end) await sleep(1);
  if (arrivals.length < n) throw new Error(`${n - arrivals.length} of ${n} clients missed the push`);
  // CPU each side spent from the POST to the last push (the firmware's in 10 ms ticks)
  const fwCpuMs = (cpuTicks(pid) - fwTicks) * 10, own = process.cpuUsage(ownCpu);
  const per = Math.round(((withConns - before) * 1024) / n);
  const push = summarize(arrivals);
  console.log(`cookie=${cookie} conns=${n} rss_before_kb=${before} rss_with_kb=${withConns} bytes_per_conn=${per} ` +
    `push_ms=${push.max.toFixed(1)} push_p50_ms=${push.p50.toFixed(1)} push_p99_ms=${push.p99.toFixed(1)} ` +
    `first_ms=${Math.min(...arrivals).toFixed(1)} reply_ms=${replyMs.toFixed(1)} open_s=${openS.toFixed(1)} ` +
    `fw_cpu_ms=${fwCpuMs} client_cpu_ms=${((own.user + own.system) / 1000).toFixed(0)}`);
  for (const ws of clients) ws.terminate();
  process.exit(0);
} catch (e) {
  console.error(`dash-ws: ${e.message}`);
  for (const ws of clients) ws.terminate();
  process.exit(1);
}
