// The TAP driver alone (core/drivers/tap.c) with the Linux kernel as its peer, in a
// network namespace of the test's own (netns.mjs): the kernel's ARP request arrives
// through rx, a reply built by hand leaves through tx and lands in the kernel's
// neighbour table, wait blocks; and the log lines for what users get wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BIN } from './lib.mjs';
import { Netns, netnsSkipReason, netemSkipReason, dnsmasqSkipReason } from './netns.mjs';

// The flavour's probe (build/asan/drivers/... beside build/asan/examples), else the plain one
const flavourProbe = path.join(path.dirname(BIN), 'drivers/tap_probe');
const PROBE = process.env.TAP_PROBE || (fs.existsSync(flavourProbe) ? flavourProbe : 'build/drivers/tap_probe');
const skip = netnsSkipReason() ?? false;
const TAP = 'mktap0', KERNEL_IP = '10.9.0.1', PROBE_IP = '10.9.0.2', PROBE_MAC = '02:6d:6b:00:00:01';

function noSanitizerReport(out) {
  assert.doesNotMatch(out, /ERROR: (LeakSanitizer|AddressSanitizer)|runtime error:/, out);
}

// The probe on a fresh namespace's TAP, once it reports the link up
async function withProbe(fn) {
  const ns = Netns.create();
  try {
    ns.addTap(TAP, { addr: `${KERNEL_IP}/24` });
    const probe = ns.spawn(PROBE, [TAP, PROBE_IP, '30']);
    await probe.waitFor(/^link up$/m);
    await fn(ns, probe);
  } finally {
    await ns.destroy();
  }
}

test('the driver receives the kernel ARP request and its hand-built reply reaches the neighbour table', { skip }, async () => {
  await withProbe(async (ns, probe) => {
    // A datagram to the probe's address makes the kernel ask who has it
    ns.run('bash', ['-c', `echo x > /dev/udp/${PROBE_IP}/9`]);
    const m = await probe.waitFor(/^rx (\d+) bytes ethertype 0x0806 arp op 1 sender (\S+) target (\S+)$/m);
    assert.ok(Number(m[1]) >= 42, `an ARP frame is at least 42 bytes: ${m[0]}`);
    assert.equal(m[2], KERNEL_IP);
    assert.equal(m[3], PROBE_IP);
    await probe.waitFor(/^arp reply sent 60 bytes$/m);
    // The kernel then sends the datagram to our MAC: the reply was taken
    await probe.waitFor(/^rx \d+ bytes ethertype 0x0800$/m);
    assert.match(ns.neigh(PROBE_IP, TAP), new RegExp(`lladdr ${PROBE_MAC} (REACHABLE|STALE|DELAY|PROBE)`));
    probe.kill('SIGTERM');
    assert.deepEqual(await probe.exited, { code: 0, signal: null }, probe.output());
    // 100 ms waits: a few per second, not a busy loop (which would count millions)
    const done = probe.output().match(/^done wakes (\d+) frames (\d+) rx_errors (\d+)$/m);
    assert.ok(done, probe.output());
    assert.ok(Number(done[1]) < 1000, `wait blocked: ${done[0]}`);
    assert.equal(done[3], '0');
    noSanitizerReport(probe.output());
  });
});

test('a TAP already attached is refused as in use', { skip }, async () => {
  await withProbe(async (ns) => {
    const r = ns.run(PROBE, [TAP, PROBE_IP, '1'], { check: false });
    assert.equal(r.code, 1);
    assert.match(r.stdout + r.stderr, new RegExp(`TAP ${TAP}: in use by another process`));
  });
});

test('a name too long, or of a device that is no TAP, is refused with the reason', { skip }, async () => {
  const ns = Netns.create();
  try {
    let r = ns.run(PROBE, ['mktap0123456789xyz', PROBE_IP, '1'], { check: false });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /name too long \(at most 15 characters\)/);
    r = ns.run(PROBE, ['lo', PROBE_IP, '1'], { check: false });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /TAP lo: .*a device of that name exists and is not a TAP/);
  } finally {
    await ns.destroy();
  }
});

test('without privileges the driver says what it needs', { skip }, async () => {
  const ns = Netns.create();
  try {
    ns.addTap(TAP, { addr: `${KERNEL_IP}/24` });
    const r = ns.run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', PROBE, TAP, PROBE_IP, '1'], { check: false });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /not permitted .*run as root or with CAP_NET_ADMIN/);
  } finally {
    await ns.destroy();
  }
});

test('without /dev/net/tun the driver says how to get it', { skip }, async () => {
  const ns = Netns.create();
  try {
    // A private mount namespace with an empty /dev/net: the device is gone for the probe only
    const r = ns.run('unshare', ['-m', 'sh', '-c', `mount -t tmpfs none /dev/net && exec ${PROBE} ${TAP} ${PROBE_IP} 1`], { check: false });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /no \/dev\/net\/tun .*modprobe tun/);
  } finally {
    await ns.destroy();
  }
});

// The harness itself
function namespaces() {
  return spawnText('ip', ['netns', 'list']);
}
function spawnText(cmd, args) {
  return new Promise((resolve) => {
    const p = spawn(cmd, args);
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('exit', () => resolve(out));
  });
}

test('destroy stops the programs and deletes the namespace with its TAP', { skip }, async () => {
  const ns = Netns.create();
  ns.addTap(TAP, { addr: `${KERNEL_IP}/24` });
  const sleeper = ns.spawn('sleep', ['60']);
  assert.match(await namespaces(), new RegExp(`^${ns.name}\\b`, 'm'));
  await ns.destroy();
  assert.notEqual((await sleeper.exited).signal, null);
  assert.doesNotMatch(await namespaces(), new RegExp(`^${ns.name}\\b`, 'm'));
  assert.doesNotMatch(await spawnText('ip', ['link', 'show']), new RegExp(`: ${TAP}[:@]`), 'the TAP never left the namespace');
});

for (const how of ['SIGINT', 'SIGTERM', 'uncaught']) {
  test(`a test process ended by ${how} leaves no namespace behind`, { skip }, async () => {
    const script = `import { Netns } from ${JSON.stringify(path.resolve('test/integration/netns.mjs'))};
      const ns = Netns.create(); ns.addTap('mktap0'); ns.spawn('sleep', ['60']);
      console.log('ready ' + ns.name);
      ${how === 'uncaught' ? "setTimeout(() => { throw new Error('test failed'); }, 100);" : ''}
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    const name = await new Promise((resolve, reject) => {
      child.stdout.on('data', () => { const m = out.match(/ready (\S+)/); if (m) resolve(m[1]); });
      exited.then(() => reject(new Error(`ended early: ${out}`)));
    });
    if (how !== 'uncaught') child.kill(how);
    const { code, signal } = await exited;
    if (how === 'uncaught') assert.notEqual(code, 0);
    else assert.equal(signal, how);
    assert.doesNotMatch(await namespaces(), new RegExp(`^${name}\\b`, 'm'));
  });
}

test('dnsmasq serves DHCP on the TAP inside the namespace and ends with it', { skip: dnsmasqSkipReason() ?? false }, async () => {
  const ns = Netns.create();
  let dns;
  try {
    ns.addTap(TAP, { addr: `${KERNEL_IP}/24` });
    dns = await ns.dnsmasq(TAP, { range: '10.9.0.100,10.9.0.150' });
    assert.match(dns.output(), /DHCP, IP range 10\.9\.0\.100 -- 10\.9\.0\.150/);
    assert.match(ns.run('ss', ['-uln']).stdout, /0\.0\.0\.0%mktap0:67|\*%mktap0:67|:67\b/);
  } finally {
    await ns.destroy();
  }
  const ended = await dns.exited;  // dnsmasq ends on SIGTERM with 0
  assert.ok(ended.code !== null || ended.signal !== null);
});

test('netem adds loss, delay and reordering on the TAP', { skip: netemSkipReason() ?? false }, async () => {
  const ns = Netns.create();
  try {
    ns.addTap(TAP, { addr: `${KERNEL_IP}/24` });
    ns.netem(TAP, 'loss 1% delay 1ms reorder 25% 50%', { ingress: true });
    assert.match(ns.run('tc', ['qdisc', 'show', 'dev', TAP]).stdout, /netem .*loss 1%/);
  } finally {
    await ns.destroy();
  }
});
