// OTA images end to end through the packer: `packer sign` makes an image whose
// signature node's own ECDSA (IEEE P1363 r||s over the header, which holds the payload's
// SHA-256) accepts, and
// `packer verify` accepts it and rejects each kind of damage with its own reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { tmpdir, have } from './lib.mjs';

const PACKER = process.env.PACKER || 'build/packer/packer';
const HEADER = 128, SIG = 64;

function packer(args) {
  const r = spawnSync(PACKER, args, { encoding: 'utf8' });
  assert.equal(r.error, undefined, `${PACKER}: ${r.error}`);
  return r;
}

// A key pair as PEM files: the private key in SEC1 form, as `openssl ecparam -genkey` writes it
function keyPair(dir, name, curve = 'prime256v1') {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: curve });
  const key = path.join(dir, `${name}.pem`), pub = path.join(dir, `${name}.pub.pem`);
  fs.writeFileSync(key, privateKey.export({ type: 'sec1', format: 'pem' }));
  fs.writeFileSync(pub, publicKey.export({ type: 'spki', format: 'pem' }));
  return { key, pub, publicKey };
}

function setup(t) {
  const dir = tmpdir('ota-sign');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const keys = keyPair(dir, 'dev');
  const firmware = path.join(dir, 'firmware.bin');
  fs.writeFileSync(firmware, crypto.randomBytes(10000));
  const img = path.join(dir, 'firmware.img');
  const r = packer(['sign', '--key', keys.key, '--version', '1.2.3', '--board', 'host', firmware, img]);
  assert.equal(r.status, 0, r.stderr);
  return { dir, keys, firmware, img };
}

// Writes a changed copy of the image and returns verify's result for it
function verifyCopy(s, change, pub = s.keys.pub) {
  const copy = path.join(s.dir, 'changed.img');
  fs.writeFileSync(copy, change(Buffer.from(fs.readFileSync(s.img))));
  return packer(['verify', '--pub', pub, copy]);
}

function assertRejected(r, reason) {
  assert.equal(r.status, 1, `verify accepted it: ${r.stdout}`);
  assert.match(r.stderr, reason);
}

test('a signed image is header, payload and signature, and verifies', (t) => {
  const s = setup(t);
  const img = fs.readFileSync(s.img), payload = fs.readFileSync(s.firmware);
  assert.equal(img.length, HEADER + payload.length + SIG);
  assert.equal(img.subarray(0, 4).toString(), 'MKOT');
  assert.equal(img.readUInt16LE(8), 1);
  assert.equal(img.readUInt16LE(10), 2);
  assert.equal(img.readUInt16LE(12), 3);
  assert.equal(img.readBigUInt64LE(24), BigInt(payload.length));
  assert.deepEqual(img.subarray(32, 64), crypto.createHash('sha256').update(payload).digest());
  assert.equal(img.subarray(64, 69).toString('latin1'), 'host\0');
  assert.deepEqual(img.subarray(HEADER, HEADER + payload.length), payload);
  const r = packer(['verify', '--pub', s.keys.pub, s.img]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /ok: version 1\.2\.3, board host, 10000 bytes payload/);
});

test('the signature is ECDSA P-256 SHA-256 over the header, which holds the payload SHA-256, raw r||s', (t) => {
  const s = setup(t);
  const img = fs.readFileSync(s.img);
  const signed = img.subarray(0, HEADER), sig = img.subarray(img.length - SIG);
  assert.deepEqual(img.subarray(32, 64), crypto.createHash('sha256').update(img.subarray(HEADER, img.length - SIG)).digest());
  const ok = crypto.verify('sha256', signed, { key: s.keys.publicKey, dsaEncoding: 'ieee-p1363' }, sig);
  assert.ok(ok, 'node does not accept the signature');
});

test('build time comes from SOURCE_DATE_EPOCH when set', (t) => {
  const s = setup(t);
  const out = path.join(s.dir, 'dated.img');
  const r = spawnSync(PACKER, ['sign', '--key', s.keys.key, '--version', '1.0.0', '--board', 'host', s.firmware, out],
    { encoding: 'utf8', env: { ...process.env, SOURCE_DATE_EPOCH: '1700000000' } });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(fs.readFileSync(out).readBigUInt64LE(16), 1700000000n);
});

test('verify rejects a flipped payload byte', (t) => {
  const s = setup(t);
  assertRejected(verifyCopy(s, (b) => { b[HEADER + 5000] ^= 1; return b; }), /payload SHA-256 does not match/);
});

test('verify rejects a signature by another key', (t) => {
  const s = setup(t);
  const other = keyPair(s.dir, 'other');
  assertRejected(verifyCopy(s, (b) => b, other.pub), /signature does not verify/);
});

test('verify rejects a header changed after signing', (t) => {
  const s = setup(t);
  assertRejected(verifyCopy(s, (b) => { b[12] = 9; return b; }), /signature does not verify/);
});

test('verify rejects a truncated image, and trailing bytes', (t) => {
  const s = setup(t);
  assertRejected(verifyCopy(s, (b) => b.subarray(0, b.length - 1)), /truncated: 10191 of the 10192 bytes/);
  assertRejected(verifyCopy(s, (b) => b.subarray(0, 100)), /truncated: 100 of the header's 128 bytes/);
  assertRejected(verifyCopy(s, (b) => Buffer.concat([b, Buffer.from('x')])), /longer than the 10192/);
});

test('verify rejects a wrong magic', (t) => {
  const s = setup(t);
  assertRejected(verifyCopy(s, (b) => { b.write('ELF!', 0); return b; }), /not an OTA image \(wrong magic/);
});

test('sign refuses a bad version, board or key, and writes nothing', (t) => {
  const s = setup(t);
  const out = path.join(s.dir, 'never.img');
  const sign = (key, version, board) => packer(['sign', '--key', key, '--version', version, '--board', board, s.firmware, out]);
  let r = sign(s.keys.key, '1.2', 'host');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /--version 1\.2: expected MAJOR\.MINOR\.PATCH/);
  r = sign(s.keys.key, '1.2.3', 'a'.repeat(32));
  assert.equal(r.status, 1);
  assert.match(r.stderr, /--board .*: expected 1 to 31 printable characters/);
  const p384 = keyPair(s.dir, 'p384', 'secp384r1');
  r = sign(p384.key, '1.2.3', 'host');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /not a private ECDSA P-256 \(prime256v1\) key/);
  r = sign(s.keys.pub, '1.2.3', 'host');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /not a private ECDSA P-256/);
  assert.equal(fs.existsSync(out), false);
  assert.deepEqual(fs.readdirSync(s.dir).filter((f) => f.startsWith('never')), []);
  r = packer(['sign', '--version', '1.2.3', '--board', 'host', s.firmware, out]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--key is required/);
});

test('a key from openssl ecparam -genkey signs, and pubkey writes it as C', { skip: !have('openssl') }, (t) => {
  const s = setup(t);
  const key = path.join(s.dir, 'ossl.pem'), pub = path.join(s.dir, 'ossl.pub.pem');
  assert.equal(spawnSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-out', key]).status, 0);
  assert.equal(spawnSync('openssl', ['ec', '-in', key, '-pubout', '-out', pub]).status, 0);
  const img = path.join(s.dir, 'ossl.img');
  let r = packer(['sign', '--key', key, '--version', '2.0.0', '--board', 'host', s.firmware, img]);
  assert.equal(r.status, 0, r.stderr);
  r = packer(['verify', '--pub', pub, img]);
  assert.equal(r.status, 0, r.stderr);
  const c = path.join(s.dir, 'pubkey.c');
  r = packer(['pubkey', '--pub', pub, c]);
  assert.equal(r.status, 0, r.stderr);
  const bytes = [...fs.readFileSync(c, 'utf8').matchAll(/0x([0-9a-f]{2})/g)].map((m) => parseInt(m[1], 16));
  const spki = crypto.createPublicKey(fs.readFileSync(pub)).export({ type: 'spki', format: 'der' });
  assert.deepEqual(Buffer.from(bytes), spki.subarray(spki.length - 65));  // The SEC1 point ends the SPKI
});
