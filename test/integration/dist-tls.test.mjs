// The amalgamated distribution with TLS, as a Mongoose user builds it: test/compat/tls_tutorial.c
// (an HTTPS server starting TLS in MG_EV_ACCEPT, and an HTTPS client) compiled unchanged
// against dist/ with -DMG_TLS=MG_TLS_MBED and mbedTLS 3.6 built with dist/mg_mbedtls_config.h,
// then served to curl --cacert and fetched by its own client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { SANITIZED, startServer, curl, tmpdir } from './lib.mjs';

const CERTS = process.env.CERTS || 'build/certs';
const CA = path.join(CERTS, 'ca.pem');
const MBEDTLS = process.env.MBEDTLS_DIR || path.join(process.env.BUILD || 'build', 'mbedtls/mbedtls-3.6.6');
const CC = process.env.CC_DIST || 'cc';
const STRICT = ['-std=c99', '-Wall', '-Wextra', '-Werror', '-Wshadow', '-Wstrict-prototypes', '-Wmissing-prototypes'];
const SAN = SANITIZED ? ['-fsanitize=address,undefined', '-fno-sanitize-recover=all'] : [];
let dir, exe, srv, httpsPort;

before(async () => {
  dir = tmpdir('dist-tls');
  const dist = path.join(dir, 'dist');
  const am = spawnSync('tools/amalgamate.sh', [dist]);
  assert.equal(am.status, 0, am.stderr.toString());
  exe = path.join(dir, 'tls_tutorial');
  const libs = ['libmbedtls.a', 'libmbedx509.a', 'libmbedcrypto.a'].map((a) => path.join(MBEDTLS, 'library', a));
  const c = spawnSync(CC, [...STRICT, ...SAN, '-O1', '-DMG_TLS=MG_TLS_MBED', `-I${dist}`, `-I${path.join(MBEDTLS, 'include')}`, `-I${path.join(MBEDTLS, '3rdparty/everest/include')}`,
    'test/compat/tls_tutorial.c', path.join(dist, 'meerkat.c'), ...libs, '-o', exe]);
  assert.equal(c.status, 0, `${CC} failed:\n${c.stderr}`);
  srv = await startServer(exe, ['server', 'http://127.0.0.1:0', 'https://127.0.0.1:0', path.join(CERTS, 'server.pem'),
    path.join(CERTS, 'server.key')]);
  httpsPort = Number(srv.log().match(/https:\/\/127\.0\.0\.1:(\d+)/)[1]);
});

after(async () => {
  await srv?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the tutorial server built from dist/ answers curl --cacert over HTTPS, and plain HTTP beside it', () => {
  const r = curl(['--cacert', CA, `https://localhost:${httpsPort}/hi`]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.toString(), 'Hello over TLS: /hi\n');
  const plain = curl([`http://127.0.0.1:${srv.port}/hi`]);
  assert.equal(plain.stdout.toString(), 'Hello over plain TCP: /hi\n');
});

test('the tutorial client built from dist/ fetches over HTTPS, and names an untrusted CA', () => {
  const ok = spawnSync(exe, ['client', `https://localhost:${httpsPort}/c`, CA], { timeout: 15000 });
  assert.equal(ok.status, 0, ok.stderr.toString());
  assert.equal(ok.stdout.toString(), 'Hello over TLS: /c\n');
  const bad = spawnSync(exe, ['client', `https://localhost:${httpsPort}/c`, path.join(CERTS, 'other-ca.pem')], { timeout: 15000 });
  assert.equal(bad.status, 1, bad.stderr.toString());
  assert.match(bad.stderr.toString(), /tls_tutorial: TLS handshake with 127\.0\.0\.1:\d+: certificate not signed by a trusted CA \(unknown CA\)/);
});
