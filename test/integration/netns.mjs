// Network namespaces for the built-in stack's integration tests: each test gets a
// namespace of its own (mk-PID-N) holding only lo and the TAPs it adds, with the Linux
// kernel as the peer, so nothing leaves it. Programs run inside with `ip netns exec`.
// Everything is deleted afterwards: by destroy(), and on exit, Ctrl-C or a crash.
//
//   const reason = netnsSkipReason();            // null, or why this machine cannot
//   test('...', { skip: reason ?? false }, async () => {
//     const ns = Netns.create();
//     try {
//       ns.addTap('mktap0', { addr: '10.9.0.1/24' });
//       const p = ns.spawn('build/drivers/tap_probe', ['mktap0', '10.9.0.2']);
//       await p.waitFor(/link up/);
//     } finally { await ns.destroy(); }
//   });
//
// Needs: Linux, root (CAP_SYS_ADMIN and CAP_NET_ADMIN), /dev/net/tun, iproute2's ip;
// tc with the netem qdisc for netem(); nftables for loss(); dnsmasq for dnsmasq().
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const PREFIX = 'mk';
const live = new Set();  // Namespaces not yet destroyed, for the exit handlers
let counter = 0;

function run(cmd, args, { check = true, ...opts } = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 20000, ...opts });
  const out = { code: r.status, stdout: r.stdout || '', stderr: (r.stderr || '') + (r.error ? String(r.error) : '') };
  if (check && out.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${out.code}\n${out.stderr}`);
  return out;
}

// Effective capability bit n of this process (/proc/self/status CapEff)
function hasCapability(n) {
  try {
    const m = fs.readFileSync('/proc/self/status', 'utf8').match(/^CapEff:\s*([0-9a-f]+)/m);
    return m ? (BigInt('0x' + m[1]) >> BigInt(n)) & 1n : false;
  } catch {
    return false;
  }
}
const CAP_NET_ADMIN = 12;
const CAP_SYS_ADMIN = 21;

let skipReason;  // Cached: null once a namespace with a TAP could be made
// Why namespace tests cannot run here, or null. Tries the real thing once.
export function netnsSkipReason() {
  if (skipReason !== undefined) return skipReason;
  skipReason = (() => {
    if (process.platform !== 'linux') return 'network namespaces need Linux';
    if (run('ip', ['-V'], { check: false }).code !== 0) return 'no `ip` command (install iproute2)';
    if (!fs.existsSync('/dev/net/tun')) return 'no /dev/net/tun (load the tun module, or pass the device into the container)';
    if (!hasCapability(CAP_SYS_ADMIN) || !hasCapability(CAP_NET_ADMIN)) {
      return 'not root: network namespaces and TAP devices need CAP_SYS_ADMIN and CAP_NET_ADMIN';
    }
    let ns;
    try {
      ns = Netns.create();
      ns.addTap('mkprobe0', { addr: '10.255.0.1/30' });
      return null;
    } catch (e) {
      return `cannot create a network namespace with a TAP: ${e.message.split('\n').filter(Boolean).slice(-1)[0]}`;
    } finally {
      ns?.destroySync();
    }
  })();
  return skipReason;
}

// Why netem() cannot run here, or null (the kernel may lack sch_netem; tc may be missing)
export function netemSkipReason() {
  const base = netnsSkipReason();
  if (base) return base;
  const ns = Netns.create();
  try {
    const r = ns.run('tc', ['qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms'], { check: false });
    return r.code === 0 ? null : `no netem qdisc in this kernel or no tc: ${r.stderr.trim().split('\n')[0]}`;
  } finally {
    ns.destroySync();
  }
}

// Why loss() cannot run here, or null (no nft, or a kernel without netdev egress hooks: before 5.16)
export function lossSkipReason() {
  const base = netnsSkipReason();
  if (base) return base;
  const ns = Netns.create();
  try {
    ns.addTap('mkprobe0');
    ns.loss('mkprobe0', 1);
    return null;
  } catch (e) {
    return `no nftables netdev loss here (Debian: nftables): ${e.message.split('\n').filter(Boolean).slice(-1)[0]}`;
  } finally {
    ns.destroySync();
  }
}

// Why dnsmasq() cannot run here, or null
export function dnsmasqSkipReason() {
  return netnsSkipReason() ?? (run('dnsmasq', ['--version'], { check: false }).code === 0 ? null : 'no dnsmasq (Debian: dnsmasq-base)');
}

// Gives a child with piped stdout and stderr output() (both so far), waitFor(regex, ms)
// (the match, or a rejection once it ends or the time is up) and exited (a promise of
// {code, signal}, once its output is closed too); name: for the errors
export function watchOutput(proc, name) {
  let out = '', closed = false;
  const waiters = [];
  const onData = (d) => {
    out += d;
    for (const w of [...waiters]) w();
  };
  proc.stdout.on('data', onData);
  proc.stderr.on('data', onData);
  proc.exited = new Promise((resolve) => proc.on('close', (code, signal) => resolve({ code, signal })));
  proc.exited.then(() => {
    closed = true;
    for (const w of [...waiters]) w(true);
  });
  proc.output = () => out;
  proc.waitFor = (re, ms = 10000) => new Promise((resolve, reject) => {
    const check = (ended) => {
      const m = out.match(re);
      if (!m && !ended) return;
      clearTimeout(timer);
      waiters.splice(waiters.indexOf(check), 1);
      if (m) resolve(m);
      else reject(new Error(`${name} ended before ${re}:\n${out}`));
    };
    const timer = setTimeout(() => {
      waiters.splice(waiters.indexOf(check), 1);
      reject(new Error(`${name}: no ${re} within ${ms} ms:\n${out}`));
    }, ms);
    waiters.push(check);
    check(closed);
  });
  return proc;
}

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

// Namespaces left by a test process that was killed outright (SIGKILL skips every handler)
function sweepStale() {
  const list = run('ip', ['netns', 'list'], { check: false }).stdout;
  for (const line of list.split('\n')) {
    const m = line.match(new RegExp(`^(${PREFIX}-(\\d+)-\\d+)\\b`));
    if (m && Number(m[2]) !== process.pid && !pidAlive(Number(m[2]))) run('ip', ['netns', 'del', m[1]], { check: false });
  }
}

export class Netns {
  // A new, empty namespace (lo up)
  static create() {
    if (counter === 0) sweepStale();
    const name = `${PREFIX}-${process.pid}-${counter++}`;
    run('ip', ['netns', 'add', name]);
    const ns = new Netns(name);
    live.add(ns);
    ns.ip(['link', 'set', 'lo', 'up']);
    return ns;
  }

  constructor(name) {
    this.name = name;
    this.children = new Set();
    this.dir = null;  // A temporary folder (dnsmasq's leases), made on demand
  }

  // `ip -n NS ARGS...`: iproute2 inside the namespace
  ip(args, opts) {
    return run('ip', ['-n', this.name, ...args], opts);
  }

  // A command inside the namespace, to its end: {code, stdout, stderr}; throws on failure unless check: false
  run(cmd, args = [], opts) {
    return run('ip', ['netns', 'exec', this.name, cmd, ...args], opts);
  }

  // A TAP owned by the namespace, with the kernel's address on it, up (a program attaches
  // to it by name); user: the uid or name that may attach without privileges
  addTap(dev, { addr, up = true, user } = {}) {
    this.ip(['tuntap', 'add', 'dev', dev, 'mode', 'tap', ...(user !== undefined ? ['user', String(user)] : [])]);
    if (addr) this.ip(['addr', 'add', addr, 'dev', dev]);
    if (up) this.ip(['link', 'set', dev, 'up']);
  }

  // The kernel's neighbour entry for ip on dev: "10.9.0.2 dev tap0 lladdr 02:.. REACHABLE", or ''
  neigh(ip, dev) {
    return this.ip(['neigh', 'show', ip, 'dev', dev]).stdout.trim();
  }

  // Loss, delay and reordering on what the kernel sends into dev; ingress: true also on
  // what it receives (redirected through an ifb device). See netemSkipReason().
  netem(dev, spec = 'loss 1% delay 1ms reorder 25% 50%', { ingress = false } = {}) {
    const words = spec.split(/\s+/);
    this.run('tc', ['qdisc', 'add', 'dev', dev, 'root', 'netem', ...words]);
    if (!ingress) return;
    const ifb = `ifb-${dev}`.slice(0, 15);
    this.ip(['link', 'add', ifb, 'type', 'ifb']);
    this.ip(['link', 'set', ifb, 'up']);
    this.run('tc', ['qdisc', 'add', 'dev', dev, 'handle', 'ffff:', 'ingress']);
    this.run('tc', ['filter', 'add', 'dev', dev, 'parent', 'ffff:', 'matchall', 'action', 'mirred', 'egress', 'redirect', 'dev', ifb]);
    this.run('tc', ['qdisc', 'add', 'dev', ifb, 'root', 'netem', ...words]);
  }

  // Random loss of percent of the frames each way on dev, for kernels without sch_netem:
  // nftables' netdev hooks drop on ingress (what the peer sent) and egress (what the
  // kernel sends), ARP and DHCP too. See lossSkipReason().
  loss(dev, percent) {
    const chain = (name, hook) => `chain ${name} { type filter hook ${hook} device "${dev}" priority 0; ` +
      `numgen random mod 100 < ${percent} counter drop; }`;
    this.run('nft', ['-f', '-'], { input: `table netdev mkloss {\n${chain('peer', 'ingress')}\n${chain('kernel', 'egress')}\n}\n` });
  }

  // Drops the peer's DHCP messages (to port 67) numbered in nth, counting from 0: the first
  // discover and the first request by default, so that a client must retransmit both
  dropDhcp(dev, nth = [0, 2]) {
    this.run('nft', ['-f', '-'], { input: `table netdev mkdhcp {\nchain peer { type filter hook ingress device "${dev}" ` +
      `priority -1; udp dport 67 numgen inc mod 1000000 { ${nth.join(', ')} } counter drop; }\n}\n` });
  }

  // DHCP messages dropDhcp() dropped so far
  dhcpDropped() {
    const out = this.run('nft', ['list', 'table', 'netdev', 'mkdhcp']).stdout;
    return Number(/counter packets (\d+)/.exec(out)?.[1]);
  }

  // Frames loss() dropped so far: { peer, kernel } (sent by the peer, sent by the kernel)
  lossDropped() {
    const out = this.run('nft', ['list', 'table', 'netdev', 'mkloss']).stdout;
    const count = (name) => Number(new RegExp(`chain ${name} \\{[^}]*counter packets (\\d+)`).exec(out)?.[1]);
    return { peer: count('peer'), kernel: count('kernel') };
  }

  // A program inside the namespace, stopped by destroy(). The returned child has
  // output() (stdout and stderr so far), waitFor(regex, ms) and exited (a promise of {code, signal}).
  spawn(cmd, args = [], opts = {}) {
    const proc = watchOutput(spawn('ip', ['netns', 'exec', this.name, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...opts }), cmd);
    proc.exited.then(() => this.children.delete(proc));
    this.children.add(proc);
    return proc;
  }

  // dnsmasq as the DHCP server on dev (which must have its address): range "FIRST,LAST",
  // no DNS unless dns: true. Resolves once it serves; its log lines (--log-dhcp) are in output().
  async dnsmasq(dev, { range, lease = '2m', dns = false, extra = [] }) {
    this.dir ??= fs.mkdtempSync(path.join(os.tmpdir(), `${this.name}-`));
    const p = this.spawn('dnsmasq', ['--keep-in-foreground', '--conf-file=/dev/null', '--log-facility=-', '--log-dhcp',
      `--interface=${dev}`, '--bind-interfaces', '--except-interface=lo', `--dhcp-range=${range},${lease}`,
      '--dhcp-authoritative', `--dhcp-leasefile=${path.join(this.dir, 'leases')}`, '--pid-file=', '--user=root',
      ...(dns ? [] : ['--port=0']), ...extra]);
    await p.waitFor(/DHCP, IP range/);
    return p;
  }

  // Stop every program started here, then delete the namespace with its devices
  async destroy() {
    await Promise.all([...this.children].map(async (p) => {
      p.kill('SIGTERM');
      const t = setTimeout(() => p.kill('SIGKILL'), 2000);
      await p.exited;
      clearTimeout(t);
    }));
    this.destroySync();
  }

  // The same without waiting (exit handlers): SIGKILL, and the kernel frees the
  // namespace once the last of them is gone
  destroySync() {
    for (const p of this.children) p.kill('SIGKILL');
    this.children.clear();
    run('ip', ['netns', 'del', this.name], { check: false });
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
    live.delete(this);
  }
}

function destroyAll() {
  for (const ns of [...live]) ns.destroySync();
}
process.on('exit', destroyAll);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(sig, () => {
    destroyAll();
    process.kill(process.pid, sig);  // The default action now: end as the signal says
  });
}
