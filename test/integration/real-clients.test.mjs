// Real HTTP clients against examples/http-server, as users will point them at a
// device: ab -k (HTTP/1.0 keep-alive), h2load pipelining, wget -N timestamping,
// python requests and node fetch connection reuse, and big uploads refused with a
// status the client actually reads.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, curl, tmpdir, have } from './lib.mjs';

let root, srv, base;
// Connections the server accepted so far, once its log has caught up (it arrives
// through a pipe while the clients run)
async function accepted() {
  let n = -1;
  for (let same = 0; same < 3;) {
    await new Promise((r) => setTimeout(r, 50));
    const now = (srv.log().match(/accepted from/g) || []).length;
    same = now === n ? same + 1 : 0;
    n = now;
  }
  return n;
}

before(async () => {
  root = tmpdir('clients');
  fs.writeFileSync(path.join(root, 'hello.txt'), 'hello, clients\n');
  fs.writeFileSync(path.join(root, 'big.bin'), crypto.randomBytes(512 * 1024));
  srv = await startServer('http-server', ['-d', root, '-l', 'http://127.0.0.1:0', '-v', '3']);
  base = `http://127.0.0.1:${srv.port}`;
});

after(async () => {
  await srv.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

test('ab -k: HTTP/1.0 keep-alive requests all complete on kept connections', { skip: !have('ab') && 'ab not installed' }, () => {
  const r = spawnSync('ab', ['-k', '-n', '200', '-c', '4', '-s', '5', `${base}/hello.txt`], { timeout: 20000 });
  const out = r.stdout.toString();
  assert.match(out, /Complete requests:\s+200\b/, out);
  assert.match(out, /Failed requests:\s+0\b/, out);
  assert.match(out, /Keep-Alive requests:\s+200\b/, out);
});

test('h2load --h1 -m 8: pipelined requests all succeed', { skip: !have('h2load') && 'h2load not installed' }, () => {
  const r = spawnSync('h2load', ['--h1', '-n', '800', '-c', '4', '-m', '8', `${base}/hello.txt`], { timeout: 20000 });
  const out = r.stdout.toString();
  assert.match(out, /800 succeeded, 0 failed, 0 errored/, out);
});

test('wget -N twice: the second run downloads nothing', { skip: !have('wget') && 'wget not installed' }, async (t) => {
  const dir = tmpdir('wget');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const run = () => spawnSync('wget', ['-N', '-nv', '-S', `${base}/big.bin`], { cwd: dir, timeout: 20000 });
  const first = run();
  assert.equal(first.status, 0, first.stderr.toString());
  const got = fs.readFileSync(path.join(dir, 'big.bin'));
  assert.ok(got.equals(fs.readFileSync(path.join(root, 'big.bin'))));
  const before = await accepted();
  const second = run();
  assert.equal(second.status, 0, second.stderr.toString());
  const log = second.stderr.toString();
  assert.ok(/304 Not Modified|not retrieving|no newer/i.test(log), `the second run fetched again:\n${log}`);
  assert.ok((await accepted()) > before, 'the second run did reach the server');
});

test('python requests: a session reuses one connection', { skip: !have('python3') && 'python3 not installed' }, async () => {
  const before = await accepted();
  const py = `import requests\ns = requests.Session()\nfor i in range(10):\n    r = s.get("${base}/hello.txt")\n    assert r.status_code == 200 and r.text == "hello, clients\\n"\nprint("ok")`;
  const r = spawnSync('python3', ['-c', py], { timeout: 20000 });
  assert.equal(r.status, 0, r.stderr.toString());
  assert.equal((await accepted()) - before, 1, 'requests opened more than one connection');
});

test('node fetch: sequential requests reuse one connection', async () => {
  const before = await accepted();
  for (let i = 0; i < 10; i++) {
    const res = await fetch(`${base}/hello.txt`);
    assert.equal(await res.text(), 'hello, clients\n');
    await new Promise((r) => setTimeout(r, 10));  // undici pools the socket on a later tick
  }
  assert.equal((await accepted()) - before, 1, 'fetch opened more than one connection');
});

test('an upload over the body limit without Expect: every client reads the 413, none a reset', () => {
  const body = path.join(root, 'upload.bin');
  fs.writeFileSync(body, crypto.randomBytes(1024 * 1024));
  let resets = 0;
  for (let i = 0; i < 30; i++) {
    const r = curl(['-s', '-o', '/dev/null', '-w', '%{http_code}', '-H', 'Expect:', '--data-binary', `@${body}`, `${base}/api/echo`]);
    if (r.stdout.toString() !== '413') resets++;
  }
  assert.equal(resets, 0, `${resets} of 30 uploads got no 413`);
});
