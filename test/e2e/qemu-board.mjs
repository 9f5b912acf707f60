// The board firmware in QEMU's mps2-an385 for the e2e tests: port 80 forwarded to an
// ephemeral host port through the restricted user network (nothing else leaves QEMU),
// the console read as it comes, QEMU stopped at the end.
import { spawn, spawnSync } from 'node:child_process';
import { QEMU, freePort, qemuArgs } from '../integration/qemu.mjs';

export { QEMU, freePort };
export const READY = /ready: dashboard on http:\/\/10\.0\.2\.15\//;  // The board's line once it serves
export const hasQemu = () => spawnSync(QEMU, ['--version']).status === 0;

// QEMU running elf, port 80 on 127.0.0.1:port; onOutput gets the console (and QEMU's errors)
export function spawnBoard(elf, port, onOutput) {
  const qemu = spawn(QEMU, qemuArgs(elf, `user,restrict=on,hostfwd=tcp:127.0.0.1:${port}-:80`),
    { stdio: ['ignore', 'pipe', 'pipe'] });
  qemu.stdout.setEncoding('utf8');
  qemu.stderr.setEncoding('utf8');
  qemu.stdout.on('data', onOutput);
  qemu.stderr.on('data', onOutput);
  return qemu;
}

// Resolves with the last match once output() shows re count times; rejects if QEMU ends first
export function waitForLog(qemu, output, re, ms, count = 1) {
  return new Promise((resolve, reject) => {
    const all = new RegExp(re.source, `${re.flags.replace('g', '')}g`);
    const timer = setTimeout(() => done(new Error(`${re} not seen ${count} time(s) in ${ms} ms:\n${output()}`)), ms);
    const look = () => {
      const m = [...output().matchAll(all)];
      if (m.length >= count) done(null, m[m.length - 1]);
    };
    const gone = (code) => done(new Error(`QEMU ended (${code}) before ${re}:\n${output()}`));
    function done(err, m) {
      clearTimeout(timer);
      qemu.stdout.off('data', look);
      qemu.off('close', gone);
      if (err) reject(err); else resolve(m);
    }
    qemu.stdout.on('data', look);
    qemu.on('close', gone);
    look();
  });
}

// Ends QEMU (if it runs) and waits for its 'close'
export async function stopBoard(qemu) {
  if (!qemu || qemu.exitCode !== null) return;
  const closed = new Promise((resolve) => qemu.on('close', resolve));
  qemu.kill('SIGTERM');
  await closed;
}
