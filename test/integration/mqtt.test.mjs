// MQTT against real peers: the mqtt-client tutorial (test/compat/tutorials, built from
// dist/ alone) against mosquitto, started here on 127.0.0.1 on a free port with a config
// file of our own (never the system service), in 3.1.1 and 5 at QoS 0, 1 and 2, with
// mosquitto_sub and mosquitto_pub on the other side; and the mqtt-server tutorial, a
// broker on mg_mqtt_listen, with mosquitto_pub and mosquitto_sub as its clients.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { BIN, startServer, tmpdir, have } from './lib.mjs';

const DIR = process.env.TUTORIALS || path.join(path.dirname(BIN), 'tutorials');
const exe = (name) => path.join(DIR, name);
const MQTT_PORT = /mqtt:\/\/127\.0\.0\.1:(\d+)/;
const SANITIZER = /ERROR: (LeakSanitizer|AddressSanitizer)|runtime error:/;
const skip = have('mosquitto') && have('mosquitto_sub') ? false : 'mosquitto and mosquitto-clients are not installed';

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// mosquitto on 127.0.0.1:PORT with our own config; resolves once it says it is running
async function startMosquitto() {
  const dir = tmpdir('mosquitto');
  const port = await freePort();
  const conf = path.join(dir, 'mosquitto.conf');
  fs.writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n` +
    'log_dest stderr\nlog_type all\n');
  const proc = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stdout.on('data', (d) => (log += d));
  proc.stderr.on('data', (d) => (log += d));
  const exited = new Promise((resolve) => proc.on('exit', resolve));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`mosquitto did not start:\n${log}`)), 5000);
    const check = () => /running/.test(log) && (clearTimeout(timer), resolve());
    proc.stderr.on('data', check);
    exited.then(() => reject(new Error(`mosquitto exited:\n${log}`)));
  });
  return {
    port,
    log: () => log,
    async stop() {
      proc.kill('SIGTERM');
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// Run a program to its end: {code, stdout, stderr}
function run(file, args, ms = 20000) {
  return new Promise((resolve, reject) => {
    const p = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    const timer = setTimeout(() => (p.kill('SIGKILL'), reject(new Error(`${file} did not end:\n${stdout}\n${stderr}`))), ms);
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('exit', (code) => {
      clearTimeout(timer);
      assert.doesNotMatch(stderr + stdout, SANITIZER, `${file}:\n${stderr}`);
      resolve({ code, stdout, stderr });
    });
  });
}

// mosquitto_sub until it has count messages. Resolves, once the broker has acknowledged
// its SUBSCRIBE (-d prints the SUBACK), with {done}: a promise of its message lines (topic payload)
function subscribe(port, topic, { count = 1, qos = 0, version = 'mqttv311' } = {}) {
  // Line-buffered: piped, its stdio would hold the SUBACK line until it exits
  const p = spawn('stdbuf', ['-oL', 'mosquitto_sub', '-d', '-h', '127.0.0.1', '-p', String(port), '-V', version, '-q', String(qos),
    '-t', topic, '-v', '-C', String(count), '-W', '15'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  const done = new Promise((resolve) => p.on('exit', (code) => resolve({
    code, err: err + out, lines: out.split('\n').filter((l) => l && !/^(Client |Subscribed )/.test(l)),
  })));
  return new Promise((resolve, reject) => {
    p.stderr.on('data', (d) => (err += d));
    p.stdout.on('data', (d) => {
      out += d;
      if (/received SUBACK/.test(out)) resolve({ done });
    });
    done.then((r) => reject(new Error(`mosquitto_sub ended before subscribing: ${r.err}`)));
  });
}

function publish(port, topic, message, { qos = 0, version = 'mqttv311', retain = false } = {}) {
  const args = ['-h', '127.0.0.1', '-p', String(port), '-V', version, '-q', String(qos), '-t', topic, '-m', message];
  const r = spawnSync('mosquitto_pub', retain ? [...args, '-r'] : args, { timeout: 10000 });
  assert.equal(r.status, 0, `mosquitto_pub: ${r.stderr}`);
}

const VERSIONS = [['4', 'mqttv311'], ['5', 'mqttv5']];

test('mqtt-client tutorial against mosquitto: subscribe, publish, its echo at QoS 0/1/2 in 3.1.1 and 5, reconnects, a will on each vanishing', { skip }, async () => {
  const broker = await startMosquitto();
  try {
    for (const [v, version] of VERSIONS) {
      for (const qos of [0, 1, 2]) {
        // The other side: a subscriber to the tutorial's topic sees its hello, and its will
        // ("bye") each time it closes without DISCONNECT
        const seen = (await subscribe(broker.port, 'mg/clnt/test', { count: 4, qos, version })).done;
        const r = await run(exe('mqtt-client'), ['-u', `mqtt://127.0.0.1:${broker.port}`, '-t', '200', '-n', '2',
          '-q', String(qos), '-v', v]);
        assert.equal(r.code, 0, r.stderr);
        const got = r.stdout.split('\n').filter((l) => l.startsWith('RECEIVED'));
        assert.deepEqual(got, ['RECEIVED hello <- mg/clnt/test', 'RECEIVED hello <- mg/clnt/test'], r.stdout);
        assert.equal((r.stdout.match(/CONNECTED to .*, status 0/g) || []).length, 2, 'the timer reconnected');
        const { code, lines } = await seen;
        assert.equal(code, 0, `mosquitto_sub saw ${lines}`);
        assert.deepEqual(lines, ['mg/clnt/test hello', 'mg/clnt/test bye', 'mg/clnt/test hello', 'mg/clnt/test bye']);
      }
    }
    // mosquitto's side of QoS 2 from the client: our PUBREL after its PUBREC, its PUBCOMP
    assert.match(broker.log(), /Received PUBREL from \w+ \(Mid: \d+\)/);
    assert.match(broker.log(), /Sending PUBCOMP to \w+/);
    assert.match(broker.log(), /\(p5, c1, k0\)/, 'an MQTT 5 CONNECT');
    assert.match(broker.log(), /Will message specified \(3 bytes\) \(r0, q2\)/);
  } finally {
    await broker.stop();
  }
});

test('mqtt-client tutorial: a retained message from mosquitto_pub at QoS 2 arrives on subscribing', { skip }, async () => {
  const broker = await startMosquitto();
  try {
    publish(broker.port, 'mg/kept/test', 'retained-hi', { qos: 2, retain: true });
    const r = await run(exe('mqtt-client'), ['-u', `mqtt://127.0.0.1:${broker.port}`, '-n', '1', '-q', '2']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^RECEIVED retained-hi <- mg\/kept\/test$/m);
  } finally {
    await broker.stop();
  }
});

test('mqtt-client tutorial: no broker is an error it logs, and it keeps trying on its timer', async () => {
  const port = await freePort();
  const p = spawn(exe('mqtt-client'), ['-u', `mqtt://127.0.0.1:${port}`, '-t', '100'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d) => (out += d));
  p.stderr.on('data', (d) => (out += d));
  const exited = new Promise((resolve) => p.on('exit', resolve));
  const end = Date.now() + 10000;
  while ((out.match(/CREATED/g) || []).length < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  p.kill('SIGTERM');
  assert.equal(await exited, 0);
  assert.ok((out.match(/CREATED/g) || []).length >= 3, out);
  assert.match(out, /ERROR .*(refused|Connection refused)/i);
  assert.doesNotMatch(out, SANITIZER);
});

test('mqtt-server tutorial (mg_mqtt_listen) with mosquitto_pub and mosquitto_sub as clients, QoS 0/1/2 in 3.1.1 and 5', { skip }, async () => {
  const srv = await startServer(exe('mqtt-server'), ['-l', 'mqtt://127.0.0.1:0'], { portPattern: MQTT_PORT });
  try {
    for (const [, version] of VERSIONS) {
      for (const qos of [0, 1, 2]) {
        const seen = (await subscribe(srv.port, 'a/+/c', { count: 1, qos, version })).done;
        // mosquitto_pub ends with 0 only once its QoS flow is complete (PUBACK, or PUBREC/PUBREL/PUBCOMP)
        publish(srv.port, 'a/b/c', `m-${version}-${qos}`, { qos, version });
        const { code, lines, err } = await seen;
        assert.equal(code, 0, err);
        assert.deepEqual(lines, [`a/b/c m-${version}-${qos}`]);
      }
    }
    assert.match(srv.log(), /CONNECT \d+, MQTT 5/, 'the listener saw MQTT 5 clients as such');
  } finally {
    await srv.stop();
  }
});

test('mqtt-server tutorial with the mqtt-client tutorial: Meerkat on both ends', async () => {
  const srv = await startServer(exe('mqtt-server'), ['-l', 'mqtt://127.0.0.1:0'], { portPattern: MQTT_PORT });
  try {
    for (const [v] of VERSIONS) {
      const r = await run(exe('mqtt-client'), ['-u', `mqtt://127.0.0.1:${srv.port}`, '-t', '100', '-n', '2', '-q', '2', '-v', v]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal((r.stdout.match(/^RECEIVED hello <- mg\/clnt\/test$/gm) || []).length, 2, r.stdout);
    }
  } finally {
    await srv.stop();
  }
});
