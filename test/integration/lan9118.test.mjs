// The LAN9118 driver (core/drivers/lan9118.c) on QEMU's mps2-an385 with its user network,
// restricted so nothing leaves QEMU: alone (init, link, an ARP request out and the gateway's
// reply in: test/integration/lan9118_probe.c), then under the smallest HTTP program on the
// stack, which curl reaches through a forwarded port (both built by `make arm`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFile } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';
import { freePort } from './qemu.mjs';

const execFileP = promisify(execFile);

const ELF = process.env.LAN9118_PROBE || 'build/arm/drivers/lan9118_probe.elf';
const QEMU = 'qemu-system-arm';
const noQemu = spawnSync(QEMU, ['--version']).status !== 0 ? `no ${QEMU} (Debian: qemu-system-arm)` : false;
const skip = noQemu || (!fs.existsSync(ELF) ? `${ELF} not built (make arm)` : false);

test('the driver brings the MAC up and exchanges ARP with QEMU user network gateway', { skip }, () => {
  const r = spawnSync(QEMU, ['-M', 'mps2-an385', '-nographic', '-semihosting', '-kernel', ELF, '-nic', 'user,restrict=on'],
    { encoding: 'utf8', timeout: 30000 });
  const out = r.stdout + r.stderr;
  assert.match(out, /LAN9118 at 0x40200000, ID_REV 0x1180001, MAC 02:6d:6b:00:00:02/);
  assert.match(out, /link up/);
  assert.match(out, /arp request sent: 60 bytes/);
  // slirp pads its reply to 64 bytes; the driver hands it over without the 4-byte FCS
  assert.match(out, /rx 64 bytes ethertype 0x0806/);
  assert.match(out, /arp reply: 10\.0\.2\.2 is at 52:55:0a:00:02:02/);
  assert.match(out, /lan9118 probe: PASS, rx_errors 0/);
  assert.doesNotMatch(out, /lan9118: error/, 'QEMU reported a register access it does not model');
  assert.equal(r.status, 0, out);
});

// The smallest HTTP program on the stack (test/bench/tcpip_min_arm.c, whose text `make bench`
// reports against the 38 KB goal) answers a request through QEMU's port forward
const MIN_ELF = process.env.MIN_HTTP_ELF || 'build/arm/tcpip/min_http.elf';
const minSkip = noQemu || (!fs.existsSync(MIN_ELF) ? `${MIN_ELF} not built (make arm)` : false);

test('the smallest HTTP program answers curl through the forwarded port', { skip: minSkip }, async () => {
  const port = await freePort();
  const qemu = spawn(QEMU, ['-M', 'mps2-an385', '-nographic', '-kernel', MIN_ELF,
    '-nic', `user,restrict=on,hostfwd=tcp:127.0.0.1:${port}-:80`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  qemu.stdout.on('data', (d) => { out += d; });
  qemu.stderr.on('data', (d) => { out += d; });
  const closed = new Promise((resolve) => qemu.on('close', resolve));
  try {
    const end = Date.now() + 20000;
    while (!/address 10\.0\.2\.15/.test(out) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    assert.match(out, /address 10\.0\.2\.15/, 'the program came up');
    const { stdout } = await execFileP('curl', ['-sS', '--max-time', '10', '-i', `http://127.0.0.1:${port}/`]);
    assert.match(stdout, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(stdout, /\r\n\r\nhello\n$/);
  } finally {
    qemu.kill('SIGTERM');
    await closed;
  }
  assert.doesNotMatch(out, /ERROR|lan9118: error/, out);
});

// What the 38 KB rests on: nothing the program does not use is linked (DHCP, 64-bit
// division, float printing, the CRC-32 byte table)
test('the smallest HTTP program stays within 38 KB of text', { skip: minSkip }, () => {
  const size = spawnSync('arm-none-eabi-size', [MIN_ELF], { encoding: 'utf8' });
  const text = Number(size.stdout.split('\n')[1].trim().split(/\s+/)[0]);
  assert.ok(text <= 38 * 1024, `${MIN_ELF}: ${text} bytes of text`);
  const syms = spawnSync('arm-none-eabi-nm', [MIN_ELF], { encoding: 'utf8' }).stdout;
  assert.doesNotMatch(syms, / (tcpip_dhcp_\w+|__udivmoddi4|__aeabi_[ul]*divmod|printf_big_\w+|util_crc32_table)$/m);
});
