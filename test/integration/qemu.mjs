// The board images (build/arm/...elf) in QEMU's mps2-an385 for the tests: why they cannot
// run here, QEMU's command line with the one NIC given (never QEMU's default, unrestricted
// one), and a board started on the host with its console to wait on (netns.mjs starts
// one inside a namespace with the same arguments).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { watchOutput } from './netns.mjs';

export const QEMU = 'qemu-system-arm';

// Why elf cannot run here, or null
export function qemuSkipReason(elf) {
  if (spawnSync(QEMU, ['--version']).status !== 0) return `no ${QEMU} (Debian: qemu-system-arm)`;
  return fs.existsSync(elf) ? null : `${elf} not built (make arm)`;
}

// nic: -nic's value, e.g. "user,restrict=on,hostfwd=..." or "tap,ifname=...,script=no,downscript=no"
export function qemuArgs(elf, nic) {
  return ['-M', 'mps2-an385', '-nographic', '-kernel', elf, '-nic', nic];
}

// A port nothing listens on now, for a forward
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    }).on('error', reject);
  });
}

// The board on the host (watchOutput: output(), waitFor(), exited); stop() ends it
export function startBoard(elf, nic) {
  const qemu = watchOutput(spawn(QEMU, qemuArgs(elf, nic), { stdio: ['ignore', 'pipe', 'pipe'] }), QEMU);
  qemu.stop = async () => {
    if (qemu.exitCode === null && qemu.signalCode === null) qemu.kill('SIGTERM');
    return qemu.exited;
  };
  return qemu;
}
