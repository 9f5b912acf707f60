// The WebSocket push case of test/bench/instr.sh: the firmware (PID, under callgrind)
// changes one LED N times, first with no WebSocket client, then with one, each window
// between a callgrind_control zero and dump, so that instr.sh can take the second
// window's instructions less the first's as the cost of N pushes to one client.
//   node instr-ws.mjs PID PORT N
// Prints "cookie=C" and exits 0 once both windows are dumped; non-zero on a failure.
import { execFileSync } from 'node:child_process';
import WebSocket from 'ws';
import http from 'node:http';
import { login, request } from '../soak/lib.mjs';

const [pid, port, nArg] = process.argv.slice(2);
const n = Number(nArg);
if (!pid || !port || !(n > 0)) {
  console.error('usage: node instr-ws.mjs PID PORT N');
  process.exit(2);
}
const base = `http://127.0.0.1:${port}`;
const callgrind = (flag) => execFileSync('callgrind_control', [flag, pid], { stdio: 'ignore' });

// Head and body in one write over a kept-alive connection: fetch sends them apart, and
// the wait for the second segment made each change take 100 ms under callgrind
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
async function setLed(cookie, on) {
  const body = JSON.stringify({ led1: on });
  const res = await request({
    port, path: '/api/sets/leds', method: 'POST', agent, body,
    headers: { Cookie: cookie, 'Content-Type': 'application/json', 'Content-Length': body.length },
  });
  if (res.status !== 200) throw new Error(`POST /api/sets/leds: ${res.status}`);
}

// One client of /api/ws; next(text) resolves when a message holding text arrives
function openClient(cookie) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/ws`, { headers: { Cookie: cookie } });
    let want = null;
    ws.on('message', (data) => {
      if (want && data.toString().includes(want.text)) want.resolve(), (want = null);
    });
    ws.on('error', reject);
    ws.on('open', () => resolve({
      ws,
      next: (text) => new Promise((res) => (want = { text, resolve: res })),
    }));
  });
}

// N changes in a callgrind window; with a client, each waits for its push too
let led = false;
async function changes(cookie, client) {
  callgrind('-z');
  for (let i = 0; i < n; i++) {
    const on = (led = !led);
    const pushed = client ? client.next(`"led1":${on}`) : null;
    await setLed(cookie, on);
    await pushed;
  }
  callgrind('-d');
}

try {
  const cookie = await login(base);
  await setLed(cookie, false);  // Warm: the first request's one-time work stays out of the windows
  await changes(cookie, null);
  const client = await openClient(cookie);
  await new Promise((r) => setTimeout(r, 200));  // Its snapshot has come
  await changes(cookie, client);
  client.ws.close();
  console.log(`cookie=${cookie}`);
  process.exit(0);
} catch (e) {
  console.error(`instr-ws: ${e.message}`);
  process.exit(1);
}
