// The pages' value formatting (web/src/format.js): bytes as 64-bit dashboard fields
// send them, a number up to 2^53 - 1 and a string of digits beyond (core/dash/API.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBytes } from '../../web/src/format.js';

test('formatBytes: binary units from bytes to EiB, as a number or a string', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(2147483647), '2.0 GiB');
  assert.equal(formatBytes(18600000000), '17.3 GiB', '18.6 GB free, not clamped to 2 GiB');
  assert.equal(formatBytes('18600000000'), '17.3 GiB');
  assert.equal(formatBytes(2 ** 40), '1.0 TiB');
  assert.equal(formatBytes('4611686018427387904'), '4.0 EiB', '2^62, beyond 2^53: sent as a string');
  assert.equal(formatBytes('9223372036854775807'), '8.0 EiB');
});

test('formatBytes: a dash for what is no byte count', () => {
  for (const v of [undefined, null, -1, NaN, '', 'abc', '12a', {}]) assert.equal(formatBytes(v), '—', String(v));
});
