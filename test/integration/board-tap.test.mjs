// The board firmware (build/arm/firmware.elf) in QEMU's mps2-an385 on a TAP in a network
// namespace of the test's own (netns.mjs), so that the LAN9118 driver and the built-in
// stack meet the Linux kernel as peer, with random loss on the link each way from power-up:
// its address from dnsmasq (its first discover and first request dropped besides, so that
// it must retransmit both), then curl on the dashboard and REST API, node's ws for a live
// push and the largest packed asset byte for byte. Loss comes from nftables (this kernel
// may lack sch_netem); where netem exists, delay and reordering are added on top.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Netns, netnsSkipReason, dnsmasqSkipReason, lossSkipReason, netemSkipReason } from './netns.mjs';
import { QEMU, qemuArgs, qemuSkipReason } from './qemu.mjs';

const ELF = process.env.BOARD_FIRMWARE || 'build/arm/firmware.elf';
const TAP = 'mkboard0', KERNEL_IP = '10.9.1.1';
const LOSS = 5;  // Percent of the frames dropped each way
const PASSWORD = 'board over tap 24';
const WS_MODULE = path.resolve('node_modules/ws');
const skip = qemuSkipReason(ELF) ?? netnsSkipReason() ?? dnsmasqSkipReason() ?? false;
const lossSkip = skip || (lossSkipReason() ?? false);
const netemSkip = skip || (netemSkipReason() ?? false);
if (skip) console.log(`# board-tap skipped: ${skip}`);
else if (lossSkip) console.log(`# board-tap: the tests with loss skipped: ${lossSkip}`);
if (!skip && netemSkip) console.log(`# board-tap: no delay or reordering on the link: ${netemSkip}`);

let ns, qemu, base, cookie;

// curl inside the namespace: {code, stdout (Buffer), stderr}. Generous time: with loss a
// SYN or the last segment may wait for a retransmission or two
function curl(args) {
  const r = ns.run('curl', ['-sS', '--max-time', '60', ...args], { check: false, encoding: 'buffer', maxBuffer: 16 << 20 });
  return { code: r.code, stdout: Buffer.from(r.stdout), stderr: r.stderr.toString() };
}

function curlOk(args) {
  const r = curl(args);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.toString();
}

// node's ws inside the namespace: prints each message on a line of its own, "open" first
const WS_WATCH_JS = `
const WebSocket = require(${JSON.stringify(WS_MODULE)});
const [url, cookie] = process.argv.slice(1);
const ws = new WebSocket(url, { headers: { Cookie: cookie } });
ws.on('open', () => console.log('open'));
ws.on('message', (d) => console.log('message ' + d.toString()));
ws.on('close', (code) => { console.log('closed ' + code); process.exit(0); });
ws.on('error', (e) => { console.log('error ' + e.message); process.exit(1); });
setTimeout(() => { console.log('timeout'); process.exit(1); }, 60000);
`;

before(async () => {
  if (skip) return;
  ns = Netns.create();
  ns.addTap(TAP, { addr: `${KERNEL_IP}/24` });
  await ns.dnsmasq(TAP, { range: '10.9.1.100,10.9.1.150', extra: ['--no-ping'] });
  if (!netemSkip) ns.netem(TAP, 'delay 2ms 1ms reorder 10% 50%');  // What the kernel sends to the board
  if (!lossSkip) {
    ns.loss(TAP, LOSS);
    ns.dropDhcp(TAP);
  }
  qemu = ns.spawn(QEMU, qemuArgs(ELF, `tap,ifname=${TAP},script=no,downscript=no`));
  // Retransmissions after 4 s, then 8 (RFC 2131's back-off), more if the loss takes others
  const m = await qemu.waitFor(/ready: dashboard on http:\/\/(10\.9\.1\.1[0-5]\d)\//, 120000);
  base = `http://${m[1]}`;
});

after(async () => {
  await ns?.destroy();
});

test(`the board takes its address from dnsmasq on the kernel side of the TAP${lossSkip ? '' : `, through ${LOSS}% loss and its first discover and request lost`}`, { skip }, () => {
  assert.match(qemu.output(), /LAN9118 at 0x40200000, ID_REV 0x1180001/);
  if (!lossSkip) assert.equal(ns.dhcpDropped(), 2, 'the first discover and the first request were dropped');
  assert.match(qemu.output(), new RegExp(`DHCP: ${base.slice(7).replace(/\./g, '\\.')} for \\d+ s from ${KERNEL_IP}`));
  assert.match(ns.neigh(base.slice(7), TAP), /lladdr 02:6d:6b:00:00:01/);
});

test(`with ${LOSS}% loss each way: the dashboard and the REST API over curl`, { skip: lossSkip }, () => {
  const page = curlOk(['--compressed', '-w', '\n%{http_code} %{content_type}', `${base}/`]);
  assert.match(page, /<!doctype html>/i);
  assert.match(page, /\n200 text\/html/);
  assert.deepEqual(JSON.parse(curlOk([`${base}/api/auth`])), { setup: true, user: null, level: null });
  const setup = curlOk(['-i', '-H', 'Content-Type: application/json', '-d', JSON.stringify({ password: PASSWORD }),
    `${base}/api/auth/setup`]);
  assert.match(setup, /^HTTP\/1\.1 200/, setup);
  cookie = /^set-cookie: (mk_session=[^;]+)/im.exec(setup)?.[1];
  assert.ok(cookie, setup);
  const info = JSON.parse(curlOk(['-b', cookie, `${base}/api/info`]));
  assert.equal(info.name, 'meerkat-mps2');
  const sets = JSON.parse(curlOk(['-b', cookie, `${base}/api/sets`])).sets.map((s) => s.name);
  assert.ok(sets.includes('leds') && sets.includes('device'), sets.join(' '));
});

test(`with ${LOSS}% loss each way: ws on /api/ws sees a change made over REST pushed`, { skip: lossSkip }, async () => {
  assert.ok(cookie, 'logged in by the test before');
  const ws = ns.spawn('node', ['-e', WS_WATCH_JS, `ws://${base.slice(7)}/api/ws`, cookie]);
  const pushed = (field) => new RegExp(`^message (\\{"set":"leds".*"${field}":true.*)$`, 'm');
  await ws.waitFor(/^message \{"set":"leds"/m, 30000);  // Every set first
  const r = curl(['-b', cookie, '-H', 'Content-Type: application/json', '-d', '{"led2":true}', '-w', '%{http_code}',
    '-o', '/dev/null', `${base}/api/sets/leds`]);
  assert.equal(r.stdout.toString(), '200', r.stderr);
  const m = await ws.waitFor(pushed('led2'), 30000);
  assert.equal(JSON.parse(m[1]).values.led2, true);
  ws.kill('SIGTERM');
  await ws.exited;
});

test(`with ${LOSS}% loss each way: the largest packed asset, byte for byte, ten times`, { skip: lossSkip }, (t) => {
  const assets = fs.readdirSync('web/dist/assets').map((f) => path.join('web/dist/assets', f));
  const largest = assets.reduce((a, b) => (fs.statSync(a).size >= fs.statSync(b).size ? a : b));
  const want = fs.readFileSync(largest);
  const before = ns.lossDropped();
  const started = Date.now();
  for (let i = 0; i < 10; i++) {
    // Without Accept-Encoding the board inflates it: the whole file crosses the link
    const r = curl([`${base}/assets/${path.basename(largest)}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.equals(want), `download ${i}: ${r.stdout.length} bytes, not the ${want.length} of ${largest}`);
  }
  const dropped = ns.lossDropped();
  // About 45 full frames from the board and 20 ACKs from the kernel a download: no drop
  // at all in ten would take a chance below 1e-9
  assert.ok(dropped.peer > before.peer && dropped.kernel > before.kernel, JSON.stringify({ before, dropped }));
  t.diagnostic(`${want.length} bytes x 10 in ${Date.now() - started} ms; dropped ${dropped.peer} frames from the board, ` +
    `${dropped.kernel} from the kernel so far`);
});
