// What the Firmware page reckons without a device (web/src/ota-image.js): an image's
// version and id read from a header the packer signed, versions in number order,
// where an upload resumes given the device's record, and a rate that follows the link.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { compareVersions, contentRange, rateMeter, readImageHeader, resumeOffset } from '../../web/src/ota-image.js';
import { tmpdir } from '../integration/lib.mjs';

const PACKER = process.env.PACKER || 'build/packer/packer';

test('an image signed by the packer reads as its version and its payload\'s SHA-256', () => {
  const dir = tmpdir('ota-image');
  try {
    const [key, payload, image] = ['key.pem', 'payload.bin', 'fw.img'].map((f) => path.join(dir, f));
    const bytes = crypto.randomBytes(5000);
    fs.writeFileSync(payload, bytes);
    assert.equal(spawnSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]).status, 0);
    const sign = spawnSync(PACKER, ['sign', '--key', key, '--version', '2.10.300', '--board', 'host', payload, image], { encoding: 'utf8' });
    assert.equal(sign.status, 0, sign.stderr);
    const header = readImageHeader(new Uint8Array(fs.readFileSync(image).subarray(0, 128)));
    assert.deepEqual(header, { magic: true, version: '2.10.300', id: crypto.createHash('sha256').update(bytes).digest('hex') });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a file that is not an image has no version, and still an id to match a record by', () => {
  const bytes = new Uint8Array(128).map((_, i) => i);
  const h = readImageHeader(bytes);
  assert.equal(h.magic, false);
  assert.equal(h.version, null);
  assert.equal(h.id, Array.from(bytes.subarray(32, 64), (b) => b.toString(16).padStart(2, '0')).join(''));
  assert.deepEqual(readImageHeader(new TextEncoder().encode('MKOT')), { magic: false, version: null, id: null }, 'too short for a header');
});

test('versions compare as numbers, a build suffix aside', () => {
  assert.equal(compareVersions('1.10.0', '1.9.0'), 1, 'not as text');
  assert.equal(compareVersions('2.0.0', '10.0.0'), -1);
  assert.equal(compareVersions('0.1.0+3f2c1a', '0.1.0'), 0);
  assert.equal(compareVersions('1.2.3', '1.2.4'), -1);
  assert.equal(compareVersions('', '1.0.0'), null);
  assert.equal(compareVersions('1.2', '1.2.0'), null);
});

test('an upload resumes only where the device holds part of the same image', () => {
  const image = { id: 'ab'.repeat(32) };
  const record = (upload) => ({ version: '1.0.0', upload });
  assert.equal(resumeOffset(record({ id: image.id, total: 1000, received: 400 }), 1000, image), 400);
  assert.equal(resumeOffset(record({ id: image.id, total: '1000', received: '400' }), 1000, image), 400, 'int64 fields as digits');
  assert.equal(resumeOffset(record({ id: 'cd'.repeat(32), total: 1000, received: 400 }), 1000, image), 0, 'another image');
  assert.equal(resumeOffset(record({ id: image.id, total: 2000, received: 400 }), 1000, image), 0, 'another size');
  assert.equal(resumeOffset(record({ id: image.id, total: 1000, received: 0 }), 1000, image), 0);
  assert.equal(resumeOffset(record({ id: image.id, total: 1000, received: 1000 }), 1000, image), 0, 'nothing left to send');
  assert.equal(resumeOffset(record(null), 1000, image), 0);
  assert.equal(resumeOffset(record({ id: image.id, total: 1000, received: 400 }), 1000, { id: null }), 0, 'a file too short to name');
  assert.equal(contentRange(400, 1000), 'bytes 400-999/1000');
});

test('the rate is the mean of the last five seconds: it follows a faster link', () => {
  const meter = rateMeter();
  meter.add(0, 0);
  meter.add(400, 400);
  assert.equal(meter.rate(), 0, 'under half a second: no rate yet');
  for (let t = 500; t <= 10000; t += 500) meter.add(t, t);  // 1000 B/s
  assert.equal(Math.round(meter.rate()), 1000);
  for (let t = 10500; t <= 15000; t += 500) meter.add(t, 10000 + (t - 10000) * 4);  // then 4000 B/s
  assert.equal(Math.round(meter.rate()), 4000);
});
