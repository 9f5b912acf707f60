// Measures what an idle keep-alive connection costs a server in resident memory.
//   node idle-conns.mjs PID PORT PATH N [tls]
// (tls: each connection speaks TLS, the server's certificate taken unverified)
// Reads VmRSS of PID, opens N connections to 127.0.0.1:PORT that each complete one
// GET PATH and then stay open, reads VmRSS again while they are all still open, and
// prints one line: "rss_before_kb=A rss_with_kb=B conns=N bytes_per_conn=C".
// Exits non-zero if any connection failed, got a non-200 reply or was closed early,
// since the figure would then be per fewer connections than claimed.
import net from 'node:net';
import tls from 'node:tls';
import fs from 'node:fs';

const [pid, port, path, nArg, mode] = process.argv.slice(2);
const n = Number(nArg);
if (!pid || !port || !path || !(n > 0) || (mode !== undefined && mode !== 'tls')) {
  console.error('usage: node idle-conns.mjs PID PORT PATH N [tls]');
  process.exit(2);
}
// Connect in batches so the listen backlog never overflows, and for TLS so that no more
// handshakes are in progress than a server admits at once (MG_TLS_MAX_HANDSHAKES, 64)
const BATCH = mode === 'tls' ? 32 : 100;

function rssKb() {
  const m = fs.readFileSync(`/proc/${pid}/status`, 'latin1').match(/^VmRSS:\s+(\d+)\s+kB/m);
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sockets = [];
let closedEarly = 0;

// One connection, one request; resolves once the whole reply (by Content-Length) is in.
function openOne() {
  return new Promise((resolve, reject) => {
    const sock = mode === 'tls'
      ? tls.connect({ port: Number(port), host: '127.0.0.1', rejectUnauthorized: false })
      : net.connect(Number(port), '127.0.0.1');
    let buf = Buffer.alloc(0);
    let done = false;
    sock.on('error', (e) => (done ? closedEarly++ : reject(e)));
    sock.on('close', () => {
      if (done) closedEarly++;
      else reject(new Error('closed before the reply ended'));
    });
    sock.on(mode === 'tls' ? 'secureConnect' : 'connect', () => sock.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`));
    sock.on('data', (d) => {
      if (done) return;
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.subarray(0, end).toString('latin1');
      const status = Number(head.split(' ')[1]);
      const len = Number((head.match(/\r\ncontent-length:\s*(\d+)/i) || [])[1]);
      if (status !== 200 || !(len >= 0)) return reject(new Error(`bad reply: ${head.split('\r\n')[0]}`));
      if (buf.length - end - 4 >= len) {
        done = true;
        sockets.push(sock);
        resolve();
      }
    });
  });
}

try {
  await sleep(200);
  const before = rssKb();
  for (let i = 0; i < n; i += BATCH) {
    await Promise.all(Array.from({ length: Math.min(BATCH, n - i) }, openOne));
  }
  await sleep(500);  // let the server settle: nothing lazy left to allocate
  const withConns = rssKb();
  if (closedEarly > 0) throw new Error(`${closedEarly} idle connections were closed by the server`);
  const per = Math.round(((withConns - before) * 1024) / n);
  console.log(`rss_before_kb=${before} rss_with_kb=${withConns} conns=${n} bytes_per_conn=${per}`);
  for (const s of sockets) s.destroy();
  process.exit(0);
} catch (e) {
  console.error(`idle-conns: ${e.message}`);
  for (const s of sockets) s.destroy();
  process.exit(1);
}
