// WebSocket echo load: CONNS clients each send a SIZE-byte text message and send the
// next when its echo arrives, for SECONDS after a one-second warm-up; every echo is
// checked. Prints "msgs=N seconds=S msgs_per_s=R conns=C size=B client_cpu_ms=T" (T: this
// process's CPU time while counting).
//   node ws-echo-load.mjs URL [CONNS=50] [SECONDS=10] [SIZE=64]
import WebSocket from 'ws';

const [url, conns = '50', seconds = '10', size = '64'] = process.argv.slice(2);
const n = Number(conns), secs = Number(seconds), len = Number(size);
const payload = 'x'.repeat(len);
let counting = false, count = 0, bad = 0;

const clients = await Promise.all(Array.from({ length: n }, () => new Promise((resolve, reject) => {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  ws.on('open', () => resolve(ws));
  ws.on('error', reject);
  ws.on('message', (data) => {
    if (data.length !== len) bad++;
    if (counting) count++;
    if (ws.readyState === WebSocket.OPEN) ws.send(payload);
  });
})));
for (const ws of clients) ws.send(payload);
await new Promise((r) => setTimeout(r, 1000));
counting = true;
const t0 = process.hrtime.bigint(), cpu0 = process.cpuUsage();
await new Promise((r) => setTimeout(r, secs * 1000));
counting = false;
const elapsed = Number(process.hrtime.bigint() - t0) / 1e9, cpu = process.cpuUsage(cpu0);
for (const ws of clients) ws.terminate();
if (bad > 0) {
  console.error(`ws-echo-load: ${bad} echoes of the wrong length`);
  process.exit(1);
}
console.log(`msgs=${count} seconds=${elapsed.toFixed(2)} msgs_per_s=${Math.round(count / elapsed)} conns=${n} size=${len} client_cpu_ms=${Math.round((cpu.user + cpu.system) / 1000)}`);
process.exit(0);
