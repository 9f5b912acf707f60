// Programs written against the Mongoose API alone (examples/rest-server,
// delayed-reply, file-upload), exercised with curl and raw sockets the way a
// Mongoose user's client would talk to them.
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, curl, raw, parseResponses, tmpdir } from './lib.mjs';

const json = (r) => JSON.parse(r.stdout.toString());

test('rest-server: mg_match routes, "*" is one segment and "#" the rest, form variables', async () => {
  const srv = await startServer('rest-server', ['http://127.0.0.1:0']);
  const base = `http://127.0.0.1:${srv.port}`;
  try {
    assert.deepEqual(json(curl([`${base}/api/items/42`])), { item: '42' });
    const deep = curl(['-w', '%{http_code}', '-o', '/dev/null', `${base}/api/items/a/b`]);
    assert.equal(deep.stdout.toString(), '404', '"*" must not cross a slash');
    assert.deepEqual(json(curl([`${base}/api/files/a/b/c.txt`])), { path: 'a/b/c.txt' });
    assert.deepEqual(json(curl(['-d', 'a=40&b=2', `${base}/api/sum`])), { sum: 42 });
    const bad = curl(['-w', '%{http_code}', '-o', '/dev/null', '-d', 'a=1', `${base}/api/sum`]);
    assert.equal(bad.stdout.toString(), '400');
    assert.ok(json(curl([`${base}/api/stats`])).requests >= 5);
  } finally {
    await srv.stop();
  }
});

test('delayed-reply: a reply sent later from a timer arrives whole over HTTP/1.0', async () => {
  const srv = await startServer('delayed-reply', ['http://127.0.0.1:0']);
  try {
    const start = Date.now();
    const r = curl(['--http1.0', '-i', `http://127.0.0.1:${srv.port}/api/slow?ms=300`]);
    assert.ok(Date.now() - start >= 290, 'answered before its time');
    const [res] = parseResponses(r.stdout);
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body.toString()), { waited: 300 });
  } finally {
    await srv.stop();
  }
});

test('delayed-reply: pipelined requests are answered in order, the late one first', async () => {
  const srv = await startServer('delayed-reply', ['http://127.0.0.1:0']);
  try {
    const req = (p) => `GET ${p} HTTP/1.1\r\nHost: t\r\n\r\n`;
    const got = await raw(srv.port, req('/api/slow?ms=200') + req('/now') + req('/api/slow?ms=50'), { idleMs: 1000 });
    const res = parseResponses(got.data);
    assert.deepEqual(res.map((x) => x.body.toString().trim()), ['{"waited":200}', 'now', '{"waited":50}']);
  } finally {
    await srv.stop();
  }
});

test('file-upload: the body taken over in MG_EV_HTTP_HDRS is saved whole', async (t) => {
  const dir = tmpdir('upload');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const srv = await startServer('file-upload', ['http://127.0.0.1:0', dir]);
  try {
    const data = crypto.randomBytes(300 * 1024);
    const src = path.join(dir, 'src.bin');
    fs.writeFileSync(src, data);
    const r = curl(['--data-binary', `@${src}`, '-H', 'Content-Type: application/octet-stream',
      `http://127.0.0.1:${srv.port}/upload?name=copy.bin`]);
    assert.deepEqual(json(r), { saved: data.length });
    assert.ok(fs.readFileSync(path.join(dir, 'copy.bin')).equals(data), 'saved bytes differ');
    const bad = curl(['-w', '%{http_code}', '-o', '/dev/null', '--data-binary', 'x',
      `http://127.0.0.1:${srv.port}/upload?name=..%2Fescape`]);
    assert.equal(bad.stdout.toString(), '400');
    assert.ok(!fs.existsSync(path.join(dir, '..', 'escape')));
  } finally {
    await srv.stop();
  }
});
