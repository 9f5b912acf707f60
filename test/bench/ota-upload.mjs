// One upload with curl while watching what it costs the server (test/bench/ota.sh runs it).
//   node ota-upload.mjs PID LOG CURL-ARG...
// Runs curl with the arguments given (its -w must print "CODE SECONDS") and samples PID's
// /proc files every 2 ms until curl exits: VmHWM (peak resident memory, which also counts
// pages of the program's code mapped for the first time), VmRSS less RssFile (anonymous
// memory: heap, stack, data; its peak as sampled) and the CPU time it ran (schedstat). A server
// that restarts itself with exec after answering (the firmware after an update) loses its
// VmHWM then, which is why it is sampled while the upload runs; and what it does on the way
// to the exec (checking and unpacking the new image) is not the upload's: once LOG (or "-")
// says "starting slot", later samples are dropped. Prints one line: "code=200 secs=0.081
// cpu_ms=60.1 hwm_before_kb=A hwm_peak_kb=B anon_before_kb=C anon_peak_kb=D samples=N".
// Exits non-zero if curl failed or no sample was taken.
import fs from 'node:fs';
import { spawn } from 'node:child_process';

const [pid, log, ...curlArgs] = process.argv.slice(2);
if (!pid || !log || curlArgs.length === 0) {
  console.error('usage: node ota-upload.mjs PID LOG CURL-ARG...');
  process.exit(2);
}
const SAMPLE_MS = 2;

// { hwm, anon } in kB and the CPU time it has run, cpuNs; undefined once it is gone
function read() {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'latin1');
    const kb = (name) => Number(status.match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm'))[1]);
    const cpuNs = Number(fs.readFileSync(`/proc/${pid}/schedstat`, 'latin1').split(' ')[0]);
    return { hwm: kb('VmHWM'), anon: kb('VmRSS') - kb('RssFile'), cpuNs };
  } catch {
    return undefined;
  }
}

// Read after the sample: if the restart had not begun then, it had not begun at the sample
function restarting() {
  if (log === '-') return false;
  try {
    return fs.readFileSync(log, 'latin1').includes('starting slot');
  } catch {
    return false;
  }
}

const before = read();
if (before === undefined) {
  console.error(`no /proc/${pid}/status`);
  process.exit(1);
}
const peak = { ...before };  // Largest hwm and anon; cpuNs of the last sample
let samples = 0;
let stopped = false;
function sample() {
  if (stopped) return;
  const now = read();
  if (restarting()) {
    stopped = true;
    return;
  }
  if (now === undefined) return;
  peak.hwm = Math.max(peak.hwm, now.hwm);
  peak.anon = Math.max(peak.anon, now.anon);
  peak.cpuNs = now.cpuNs;  // The last before the restart
  samples++;
}

const curl = spawn('curl', curlArgs, { stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
curl.stdout.on('data', (d) => { out += d; });
const timer = setInterval(sample, SAMPLE_MS);
sample();
curl.on('close', (status) => {
  clearInterval(timer);
  sample();
  const [code, secs] = out.trim().split(/\s+/);
  if (status !== 0 || !(Number(secs) > 0) || samples === 0) {
    console.error(`curl exited with ${status}, printed "${out.trim()}", ${samples} samples`);
    process.exit(1);
  }
  const cpuMs = ((peak.cpuNs - before.cpuNs) / 1e6).toFixed(1);
  console.log(`code=${code} secs=${secs} cpu_ms=${cpuMs} hwm_before_kb=${before.hwm} hwm_peak_kb=${peak.hwm} ` +
              `anon_before_kb=${before.anon} anon_peak_kb=${peak.anon} samples=${samples}`);
});
