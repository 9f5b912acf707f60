// The firmware's WebSocket /api/ws under many clients.
//   node dash-ws.mjs PID PORT N
// Logs in if the firmware has users (first start: sets the admin password up), opens
// N WebSocket clients (each gets its snapshot), reads VmRSS of PID before and with
// them, then changes one LED over REST and times until the last client has the push.
// Prints one line: "cookie=C conns=N rss_before_kb=A rss_with_kb=B bytes_per_conn=X push_ms=T ..."
// (push_ms: POST sent to the last client's push; first_ms: to the first; reply_ms: to the POST's reply)
// (cookie is "-" without users). Exits non-zero if a client failed or missed the push.
import fs from 'node:fs';
import WebSocket from 'ws';

const [pid, port, nArg] = process.argv.slice(2);
const n = Number(nArg);
if (!pid || !port || !(n > 0)) {
  console.error('usage: node dash-ws.mjs PID PORT N');
  process.exit(2);
}
const base = `http://127.0.0.1:${port}`;
const BATCH = 100;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const rssKb = () => Number(fs.readFileSync(`/proc/${pid}/status`, 'latin1').match(/^VmRSS:\s+(\d+)\s+kB/m)[1]);

async function login() {
  const auth = await fetch(`${base}/api/auth`);
  if (auth.status !== 200) return '';
  const { setup } = await auth.json();
  const password = 'bench-password-1';
  const res = await fetch(`${base}/api/auth/${setup ? 'setup' : 'login'}`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(setup ? { password } : { user: 'admin', password }),
  });
  if (res.status !== 200) throw new Error(`login: ${res.status} ${await res.text()}`);
  return res.headers.get('set-cookie').split(';')[0];
}

const clients = [];
try {
  const cookie = await login();
  const headers = cookie ? { Cookie: cookie } : {};
  let target = null;  // The LED value the timed change sets
  let got = 0, lastAt = 0, firstAt = 0;
  const open = () => new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/ws`, { headers, perMessageDeflate: false });
    let snap = false;
    // Matched as text, not parsed: the client side must not be what is timed
    ws.on('message', (d) => {
      const m = d.toString();
      if (!m.startsWith('{"set":"leds"')) return;
      if (!snap) {
        snap = true;
        resolve();
      } else if (target !== null && m.includes(`"led1":${target}`) && !ws.done) {
        ws.done = true;
        got++;
        lastAt = performance.now();
        if (got === 1) firstAt = lastAt;
      }
    });
    ws.on('error', reject);
    ws.on('close', () => (snap ? null : reject(new Error('closed before its snapshot'))));
    clients.push(ws);
  });
  await sleep(200);
  const before = rssKb();
  for (let i = 0; i < n; i += BATCH) await Promise.all(Array.from({ length: Math.min(BATCH, n - i) }, open));
  await sleep(1500);  // Let the server settle: buffers given back once drained
  const withConns = rssKb();
  const now = await (await fetch(`${base}/api/sets/leds`, { headers })).json();
  target = !now.led1;
  const t0 = performance.now();
  const res = await fetch(`${base}/api/sets/leds`, {
    method: 'POST', headers: { ...headers, 'Content-Type': 'application/json' }, body: JSON.stringify({ led1: target }),
  });
  const replyAt = performance.now();
  if (res.status !== 200) throw new Error(`POST: ${res.status}`);
  const end = Date.now() + 5000;
  while (got < n && Date.now() < end) await sleep(1);
  if (got < n) throw new Error(`${n - got} of ${n} clients missed the push`);
  const per = Math.round(((withConns - before) * 1024) / n);
  console.log(`cookie=${cookie || '-'} conns=${n} rss_before_kb=${before} rss_with_kb=${withConns} bytes_per_conn=${per} push_ms=${(lastAt - t0).toFixed(1)} first_ms=${(firstAt - t0).toFixed(1)} reply_ms=${(replyAt - t0).toFixed(1)}`);
  for (const ws of clients) ws.terminate();
  process.exit(0);
} catch (e) {
  console.error(`dash-ws: ${e.message}`);
  for (const ws of clients) ws.terminate();
  process.exit(1);
}
