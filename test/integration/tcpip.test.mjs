// The built-in TCP/IP stack against the Linux kernel, over a TAP in a network namespace of
// the test's own (netns.mjs): the firmware on the stack (build/firmware/firmware-tap) pinged,
// its dashboard and REST API fetched with curl (over HTTPS too), /api/ws with node's ws, its
// `net` counters; a 10 MiB download from http-server on the stack, also with 1% and 5% loss
// and with loss, reordering and delay at once (the TAP driver's MEERKAT_TAP_LOSS, _REORDER,
// _DELAY_MS); http-client on it fetching from node; DHCP.
// It runs once (test/run.sh), not per flavour: the binaries are the plain build's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseResponses, CERTS, CA } from './lib.mjs';
import { Netns, netnsSkipReason, dnsmasqSkipReason } from './netns.mjs';

const BUILD = process.env.TCPIP_BUILD || 'build';
// TCPIP_FIRMWARE and TCPIP_EXAMPLES name other builds (the Makefile's build/tap/asan)
const FIRMWARE = process.env.TCPIP_FIRMWARE || path.join(BUILD, 'firmware/firmware-tap');
const EXAMPLES = process.env.TCPIP_EXAMPLES || path.join(BUILD, 'tap/examples');
const SERVER = path.join(EXAMPLES, 'http-server');
const CLIENT = path.join(EXAMPLES, 'http-client');
const WS_MODULE = path.resolve('node_modules/ws');
const skip = netnsSkipReason() ?? false;
const TAP = 'mktap0', KERNEL_IP = '10.9.0.1', STACK_IP = '10.9.0.2';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mk-tcpip-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

// Under ASan+UBSan (TCPIP_FIRMWARE, TCPIP_EXAMPLES), a program's output once it ended
function noSanitizerReport(out) {
  assert.doesNotMatch(out, /ERROR: (LeakSanitizer|AddressSanitizer)|runtime error:/, out);
}

// curl inside ns: {code, stdout (Buffer), stderr}
function curlIn(ns, args) {
  const r = ns.run('curl', ['-sS', '--max-time', '20', ...args], { check: false, encoding: 'buffer', maxBuffer: 64 << 20 });
  return { code: r.code, stdout: Buffer.from(r.stdout), stderr: r.stderr.toString() };
}

// A namespace with a TAP (the kernel at KERNEL_IP) and prog attached to it; fn(ns, prog)
async function withStack(prog, args, fn, { env, ready = /address \d+\.\d+\.\d+\.\d+/ } = {}) {
  const ns = Netns.create();
  let p;
  try {
    ns.addTap(TAP, { addr: `${KERNEL_IP}/24` });
    p = ns.spawn(prog, args, env ? { env: { ...process.env, ...env } } : {});
    await p.waitFor(ready);
    await fn(ns, p);
  } finally {
    await ns.destroy();
  }
  noSanitizerReport(p.output());
}

// ICMP echo from the kernel side (no ping here: a raw socket in Python); prints "replies N"
const PING_PY = `
import socket, struct, sys
def csum(b):
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP); s.settimeout(2)
ok = 0
for seq in range(3):
    data = b'meerkat-ping-%03d' % seq  # Even: csum sums 16-bit words
    hdr = struct.pack('!BBHHH', 8, 0, 0, 0x4d6b, seq)
    s.sendto(struct.pack('!BBHHH', 8, 0, csum(hdr + data), 0x4d6b, seq) + data, (sys.argv[1], 0))
    try:
        while True:
            pkt = s.recv(1500); ihl = (pkt[0] & 15) * 4
            t, _, _, ident, sq = struct.unpack('!BBHHH', pkt[ihl:ihl + 8])
            if t == 0 and ident == 0x4d6b and sq == seq and pkt[ihl + 8:] == data:
                ok += 1; break
    except socket.timeout:
        pass
print('replies', ok)
`;

// node's ws inside ns: logs in with the cookie, prints the first message, then the reply to a write
const WS_JS = `
const WebSocket = require(${JSON.stringify(WS_MODULE)});
const [url, cookie] = process.argv.slice(1);
const ws = new WebSocket(url, { headers: { Cookie: cookie } });
let first = null;
ws.on('message', (d) => {
  const m = JSON.parse(d.toString());
  if (first === null) { first = m; console.log('first ' + JSON.stringify(m)); ws.send(JSON.stringify({ id: 1, set: 'leds', values: { led1: true } })); }
  if (m.id === 1) { console.log('reply ' + JSON.stringify(m)); ws.close(); }
});
ws.on('close', () => process.exit(0));
ws.on('error', (e) => { console.log('error ' + e.message); process.exit(1); });
setTimeout(() => { console.log('timeout'); process.exit(1); }, 10000);
`;

let fwNs, fw;
const base = `http://${STACK_IP}`;

before(async () => {
  if (skip) return;
  fwNs = Netns.create();
  fwNs.addTap(TAP, { addr: `${KERNEL_IP}/24` });
  fw = fwNs.spawn(FIRMWARE, ['--tap', TAP, '--ip', `${STACK_IP}/24`, '--mac', '02:6d:6b:00:00:02', '-l', 'http://0.0.0.0:80',
    '-l', 'https://0.0.0.0:443', '-T', CERTS, '-d', path.join(tmp, 'fw')]);
  await fw.waitFor(/address 10\.9\.0\.2/);
});

after(async () => {
  if (!fwNs) return;
  await fwNs.destroy();
  noSanitizerReport(fw.output());
});

test('the kernel pings the stack', { skip }, () => {
  const r = fwNs.run('python3', ['-c', PING_PY, STACK_IP]);
  assert.match(r.stdout, /replies 3/, r.stdout + r.stderr);
});

test('curl fetches the dashboard and, logged in, /api/info over the stack', { skip }, () => {
  let r = curlIn(fwNs, ['-i', `${base}/`]);
  assert.equal(r.code, 0, r.stderr);
  let [res] = parseResponses(r.stdout);
  assert.equal(res.status, 200);
  assert.match(res.headers['content-type'], /text\/html/);
  r = curlIn(fwNs, ['--compressed', `${base}/`]);
  assert.deepEqual(r.stdout, fs.readFileSync('web/dist/index.html'), 'the page, byte for byte');
  r = curlIn(fwNs, ['-i', '-H', 'Content-Type: application/json', '-d', '{"password":"tcpip-test"}', `${base}/api/auth/setup`]);
  [res] = parseResponses(r.stdout);
  const cookie = res.headers['set-cookie'].split(';')[0];
  r = curlIn(fwNs, ['-i', '-b', cookie, `${base}/api/info`]);
  [res] = parseResponses(r.stdout);
  assert.equal(res.status, 200, r.stdout.toString());
  const info = JSON.parse(res.body.toString());
  assert.match(info.name, /^meerkat-/);
  assert.equal(typeof info.uptime, 'number');
  fwNs.cookie = cookie;
});

test('HTTPS over the stack: TLS in the filter slot, the certificate checked', { skip }, () => {
  // The development certificate names localhost: curl resolves it to the stack
  const r = curlIn(fwNs, ['--cacert', CA, '--resolve', `localhost:443:${STACK_IP}`, '-o', '/dev/null', '-w', '%{http_code}',
    'https://localhost/']);
  assert.equal(r.stdout.toString(), '200', r.stderr);
});

test('node ws on /api/ws gets the field sets and an answer to a write', { skip }, () => {
  assert.ok(fwNs.cookie, 'logged in by the test before');
  const r = fwNs.run('node', ['-e', WS_JS, `ws://${STACK_IP}/api/ws`, fwNs.cookie], { check: false });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const first = JSON.parse(r.stdout.match(/^first (.*)$/m)[1]);
  assert.equal(typeof first.set, 'string');
  const reply = JSON.parse(r.stdout.match(/^reply (.*)$/m)[1]);
  assert.equal(reply.id, 1);
  assert.equal(reply.error, undefined, JSON.stringify(reply));
});

// GET /api/sets/net with the test's session: the stack's counters (firmware/netif.c)
function netCounters() {
  const r = curlIn(fwNs, ['-i', '-b', fwNs.cookie, `${base}/api/sets/net`]);
  const [res] = parseResponses(r.stdout);
  assert.equal(res.status, 200, r.stdout.toString() + r.stderr);
  return JSON.parse(res.body.toString());
}

test('the net field set: the stack\'s counters, read-only, moved by a download', { skip }, () => {
  assert.ok(fwNs.cookie, 'logged in by the test before');
  const r = curlIn(fwNs, ['-b', fwNs.cookie, `${base}/api/sets`]);
  const net = JSON.parse(r.stdout.toString()).sets.find((s) => s.name === 'net');
  assert.ok(net, 'firmware-tap has the net set');
  for (const f of net.fields) assert.equal(f.writable, false, f.name);
  const before = netCounters();
  for (const k of ['rx_frames', 'tx_frames', 'drop_csum', 'drop_no_port', 'tcp_retransmits', 'tcp_resets', 'arp_timeouts']) {
    assert.equal(typeof before[k], 'number', k);
  }
  const page = fs.readFileSync('web/dist/index.html');
  const got = curlIn(fwNs, ['--compressed', `${base}/`]);
  assert.deepEqual(got.stdout, page);
  const after = netCounters();
  // A connection at least: SYN-ACK, the answer, FIN out; SYN, request, ACKs, FIN in
  assert.ok(after.tx_frames - before.tx_frames >= 3, `tx ${before.tx_frames} -> ${after.tx_frames}`);
  assert.ok(after.rx_frames - before.rx_frames >= 4, `rx ${before.rx_frames} -> ${after.rx_frames}`);
  assert.equal(after.drop_csum, 0);
});

test('a 10 MiB download from http-server on the stack arrives whole (SHA-256)', { skip }, async (t) => {
  const dir = path.join(tmp, 'www');
  fs.mkdirSync(dir, { recursive: true });
  const data = crypto.randomBytes(10 << 20);
  fs.writeFileSync(path.join(dir, 'big.bin'), data);
  const env = { MEERKAT_TAP: TAP, MEERKAT_IP: `${STACK_IP}/24` };
  await withStack(SERVER, ['-d', dir, '-l', 'http://0.0.0.0:8080'], async (ns) => {
    const out = path.join(tmp, 'got.bin');
    const r = ns.run('curl', ['-sS', '--max-time', '60', '-o', out, '-w', '%{http_code} %{speed_download}',
      `http://${STACK_IP}:8080/big.bin`], { check: false });
    assert.equal(r.code, 0, r.stderr);
    const [status, speed] = r.stdout.split(' ');
    assert.equal(status, '200');
    const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');
    assert.equal(sha(fs.readFileSync(out)), sha(data));
    t.diagnostic(`download over TAP: ${(Number(speed) / 1e6).toFixed(1)} MB/s`);
  }, { env });
});

// The 10 MiB file from http-server on the stack with the TAP driver's test knobs in env, fetched
// by curl in the namespace (over TLS with https) and compared by SHA-256:
// {secs, connectSecs, out (the server's log at exit), netstat}
async function downloadThroughKnobs(name, env, { https = false } = {}) {
  const dir = path.join(tmp, `www-${name}`);
  fs.mkdirSync(dir, { recursive: true });
  const data = crypto.randomBytes(10 << 20);
  fs.writeFileSync(path.join(dir, 'big.bin'), data);
  const ns = Netns.create();
  try {
    ns.addTap(TAP, { addr: `${KERNEL_IP}/24` });
    const listen = https ? ['-l', 'https://0.0.0.0:8443', '-c', path.join(CERTS, 'server.pem'), '-k', path.join(CERTS, 'server.key')]
      : ['-l', 'http://0.0.0.0:8080'];
    // The development certificate names localhost: curl resolves it to the stack
    const url = https ? ['--cacert', CA, '--resolve', `localhost:8443:${STACK_IP}`, 'https://localhost:8443/big.bin']
      : [`http://${STACK_IP}:8080/big.bin`];
    const p = ns.spawn(SERVER, ['-d', dir, ...listen],
      { env: { ...process.env, MEERKAT_TAP: TAP, MEERKAT_IP: `${STACK_IP}/24`, MEERKAT_TAP_SEED: '23', ...env } });
    await p.waitFor(/address \d+\.\d+\.\d+\.\d+/);
    const out = path.join(tmp, `got-${name}.bin`);
    // The first SYN may be lost too: curl's connect waits for the kernel's retries
    const r = ns.run('curl', ['-sS', '--max-time', '300', '-o', out, '-w', '%{http_code} %{time_total} %{time_connect}',
      ...url], { check: false, timeout: 310000 });
    assert.equal(r.code, 0, r.stderr);
    const [status, secs, connectSecs] = r.stdout.split(' ');
    assert.equal(status, '200');
    const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');
    assert.equal(sha(fs.readFileSync(out)), sha(data), 'the file, intact');
    const netstat = ns.run('cat', ['/proc/net/netstat']).stdout;  // The kernel's TCP counters, this namespace's
    p.kill('SIGTERM');
    await p.exited;
    noSanitizerReport(p.output());
    return { secs: Number(secs), connectSecs: Number(connectSecs), out: p.output(), netstat };
  } finally {
    await ns.destroy();
  }
}

// A counter of the stack's (tap_env.c's line at exit) or the TAP knobs'
function exitCount(out, line, name) {
  const m = out.match(new RegExp(`${line}: .*\\b${name} (\\d+)`));
  assert.ok(m, `${line} ${name} at exit`);
  return Number(m[1]);
}

// One of /proc/net/netstat's counters: a line of names, then a line of values
function netstatCount(netstat, group, name) {
  const [names, values] = netstat.split('\n').filter((l) => l.startsWith(`${group}:`)).map((l) => l.split(/\s+/));
  return Number(values[names.indexOf(name)]);
}

// Loss where the kernel has no netem: the TAP driver's test knob (MEERKAT_TAP_LOSS, core/drivers/tap.c)
// drops that share of the frames each way, seeded; the stack's retransmissions recover them
for (const loss of [1, 5]) {
  test(`a 10 MiB download from http-server on the stack with ${loss}% loss each way arrives whole`, { skip }, async (t) => {
    const r = await downloadThroughKnobs(`loss${loss}`, { MEERKAT_TAP_LOSS: String(loss) });
    assert.match(r.out, new RegExp(`dropping ${loss}% of frames each way`));
    const retransmits = exitCount(r.out, 'tcpip counters', 'tcp_retransmits');
    assert.ok(retransmits > 0, 'lost segments were sent again');
    t.diagnostic(`${loss}% loss: ${r.secs.toFixed(1)} s, ${retransmits} TCP retransmits`);
  });
}

// Reordering and delay too, netem's "loss 1% reorder delay" where netem is missing: the knobs
// MEERKAT_TAP_REORDER and MEERKAT_TAP_DELAY_MS. The kernel, receiving, counts the segments it
// got out of order; the handshake's round trip crosses the delay twice, a bound that cannot flake
const IMPAIRED = { MEERKAT_TAP_LOSS: '1', MEERKAT_TAP_REORDER: '2', MEERKAT_TAP_DELAY_MS: '5' };
for (const https of [false, true]) {
  test(`a 10 MiB download${https ? ' over HTTPS' : ''} with 1% loss, 2% reordering and 5 ms delay each way arrives whole`,
    { skip }, async (t) => {
      const r = await downloadThroughKnobs(https ? 'impaired-tls' : 'impaired', IMPAIRED, { https });
      assert.match(r.out, /reordering 2% of frames each way/);
      assert.match(r.out, /delaying frames by 5 ms each way/);
      const retransmits = exitCount(r.out, 'tcpip counters', 'tcp_retransmits');
      const reordered = exitCount(r.out, 'tap knobs', 'reordered'), overflow = exitCount(r.out, 'tap knobs', 'overflow');
      const ofo = netstatCount(r.netstat, 'TcpExt', 'TCPOFOQueue');
      assert.ok(retransmits > 0, 'lost segments were sent again');
      assert.ok(reordered > 0, 'frames were sent after later ones');
      assert.ok(ofo > 0, 'the kernel received segments out of order');
      assert.ok(r.connectSecs >= 0.010, `connect ${r.connectSecs} s: SYN and SYN-ACK delayed 5 ms each`);
      t.diagnostic(`${https ? 'HTTPS ' : ''}impaired: ${r.secs.toFixed(1)} s, ${retransmits} TCP retransmits, ` +
        `${reordered} frames reordered, ${ofo} out-of-order segments at the kernel, ${overflow} dropped by a full delay queue`);
    });
}

test('http-client on the stack fetches from a node server in the namespace', { skip }, async () => {
  const env = { MEERKAT_TAP: TAP, MEERKAT_IP: `${STACK_IP}/24` };
  const ns = Netns.create();
  try {
    ns.addTap(TAP, { addr: `${KERNEL_IP}/24` });
    const srv = ns.spawn('node', ['-e', `require('http').createServer((q, s) => s.end('hello ' + q.url + ' from the kernel side'))
      .listen(8081, '${KERNEL_IP}', () => console.log('serving'))`]);
    await srv.waitFor(/serving/);
    const r = ns.run(CLIENT, ['-t', '15000', `http://${KERNEL_IP}:8081/via-tap`], { check: false, env: { ...process.env, ...env } });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    noSanitizerReport(r.stdout + r.stderr);
    assert.ok(r.stdout.endsWith('\nhello /via-tap from the kernel side'), r.stdout);  // After the log lines
  } finally {
    await ns.destroy();
  }
});

test('the firmware takes its address from dnsmasq and serves on it', { skip: dnsmasqSkipReason() ?? false }, async () => {
  const ns = Netns.create();
  let p;
  try {
    ns.addTap(TAP, { addr: `${KERNEL_IP}/24` });
    await ns.dnsmasq(TAP, { range: '10.9.0.100,10.9.0.150' });
    p = ns.spawn(FIRMWARE, ['--tap', TAP, '-l', 'http://0.0.0.0:80', '-d', path.join(tmp, 'fw-dhcp')]);
    const m = await p.waitFor(/address (10\.9\.0\.1[0-5]\d), mask 255\.255\.255\.0/, 20000);
    const r = curlIn(ns, ['-o', '/dev/null', '-w', '%{http_code}', `http://${m[1]}/`]);
    assert.equal(r.stdout.toString(), '200', r.stderr);
  } finally {
    await ns.destroy();
  }
  noSanitizerReport(p.output());
});
