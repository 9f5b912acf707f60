// The LAN9118 driver (core/drivers/lan9118.c) alone on QEMU's mps2-an385 with its user
// network, restricted so nothing leaves QEMU: init, link, an ARP request out and the
// gateway's reply in (test/integration/lan9118_probe.c, built by `make arm`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

const ELF = process.env.LAN9118_PROBE || 'build/arm/drivers/lan9118_probe.elf';
const QEMU = 'qemu-system-arm';
const skip = spawnSync(QEMU, ['--version']).status !== 0 ? `no ${QEMU} (Debian: qemu-system-arm)`
  : !fs.existsSync(ELF) ? `${ELF} not built (make arm)` : false;

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
