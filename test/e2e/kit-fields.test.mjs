// The kit's field rules without a browser (web/src/kit/fields.js): who may write
// a field by the schema's levels, how a value reads, and how typed text is checked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canWrite, fieldWritable, formatValue, levelAtLeast, parseInput } from '../../web/src/kit/fields.js';

const leds = { fields: [{ name: 'led1', type: 'bool', writable: true, write: 'operator' }, { name: 'led2', type: 'bool', writable: true, write: 'admin' }] };
const session = (level) => ({ user: level, level });

test('a field is writable from its write level up, never by an unknown level or without a session', () => {
  assert.equal(levelAtLeast('operator', 'viewer'), true);
  assert.equal(levelAtLeast('viewer', 'operator'), false);
  assert.equal(levelAtLeast('admin', undefined), true, 'no write level means admin, as the device does');
  assert.equal(levelAtLeast('operator', undefined), false);
  assert.equal(levelAtLeast('owner', 'viewer'), false, 'a level this page does not know writes nothing');
  assert.equal(fieldWritable(session('operator'), leds.fields[0]), true);
  assert.equal(fieldWritable(session('operator'), leds.fields[1]), false);
  assert.equal(fieldWritable({ user: null, level: 'admin' }, leds.fields[0]), false);
  assert.equal(fieldWritable(session('admin'), { name: 'uptime', writable: false, write: 'admin' }), false, 'a read-only field');
  assert.equal(canWrite(session('viewer'), leds), false);
  assert.equal(canWrite(session('operator'), leds), true);
  assert.equal(canWrite(session('operator'), leds, 'led2'), false);
});

test('a value reads with its unit: bytes and long durations in larger units, two decimals at most', () => {
  assert.deepEqual(formatValue({ type: 'double', unit: '%' }, 43.8123), ['43.81', '%']);
  assert.deepEqual(formatValue({ type: 'int', unit: 'B' }, 2 * 1024 ** 3), ['2.0', 'GiB']);
  assert.deepEqual(formatValue({ type: 'int', unit: 's' }, 42), ['42', 's']);
  assert.deepEqual(formatValue({ type: 'int', unit: 's' }, 3720), ['1 h 2 min', '']);
  assert.deepEqual(formatValue({ type: 'bool' }, true), ['On', '']);
  assert.deepEqual(formatValue({ type: 'enum' }, 'celsius'), ['Celsius', '']);
  assert.deepEqual(formatValue({ type: 'string' }, undefined), ['–', '']);
});

test('typed text becomes the value to send, or a reason the user can act on', () => {
  assert.equal(parseInput({ type: 'int' }, ' 42 '), 42);
  assert.equal(parseInput({ type: 'int' }, '4.5').message, 'Enter a whole number');
  assert.equal(parseInput({ type: 'double' }, '').message, 'Enter a number');
  assert.equal(parseInput({ type: 'string', max_len: 4 }, 'été').message, 'must be at most 4 bytes of UTF-8 (this is 5)');
  assert.equal(parseInput({ type: 'string', max_len: 8 }, 'été'), 'été');
});

// A 64-bit field ("bits":64) beyond 2^53 travels as a string of digits (core/dash/API.md):
// typed text stays exact, and a byte count that came as a string still reads in GiB
test('a 64-bit integer beyond 2^53 stays exact as typed, and reads in larger units', () => {
  const wide = { type: 'int', bits: 64 };
  assert.equal(parseInput(wide, ' 9007199254740993 '), '9007199254740993', 'not rounded to ...992');
  assert.equal(parseInput(wide, '-9223372036854775808'), '-9223372036854775808');
  assert.equal(parseInput(wide, '42'), 42, 'within 2^53 a number, as the device sends it');
  assert.equal(parseInput(wide, '4.5').message, 'Enter a whole number');
  assert.deepEqual(formatValue({ type: 'int', bits: 64, unit: 'B' }, '23308763136000000'), ['20.7', 'PiB']);
});
