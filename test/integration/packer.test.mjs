// The packer end to end: pack a directory tree, compile the generated C with a
// small reader (packer_roundtrip.c) against the library, and check that every
// file reads back byte for byte through struct mg_fs; output is deterministic;
// options select, strip and store as told (globs see the table path, after -s); errors name the file and leave no output;
// -M output lets a Mongoose program (mg_fs_packed, mg_unpacked) build against dist/ and serve the files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, SANITIZED, tmpdir, have } from './lib.mjs';

const BIN_PACKER = process.env.PACKER || 'build/packer/packer';
// The library of the build under test (build/, build/asan/, build/poll/)
const LIB = path.join(path.dirname(BIN), 'libmeerkat.a');
const CC = process.env.CC_ROUNDTRIP || 'cc';
const STRICT = ['-std=c99', '-Wall', '-Wextra', '-Werror', '-Wshadow', '-Wstrict-prototypes', '-Wmissing-prototypes'];
const SAN = SANITIZED ? ['-fsanitize=address,undefined', '-fno-sanitize-recover=all'] : [];

// A fresh directory under the system's temporary folder, removed when the test
// ends, whether it passed or failed
function scratch(t, prefix) {
  const dir = tmpdir(prefix);
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function pack(args, opts = {}) {
  const r = spawnSync(BIN_PACKER, args, { maxBuffer: 256 << 20, ...opts });
  assert.doesNotMatch(r.stderr.toString(), /ERROR: (LeakSanitizer|AddressSanitizer)|runtime error:/);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

// Until core/fs/inflate.c is in the library, gzip entries decode with a zlib stand-in
function inflateShim() {
  const nm = spawnSync('nm', ['-g', '--defined-only', LIB]);
  if (nm.status === 0 && /\sT mg_inflate$/m.test(nm.stdout.toString())) return [];
  return ['test/integration/packer_inflate_zlib.c', '-lz'];
}

// Compile generated sources with the reader; returns its parsed output
function roundtrip(dir, sources, prefixes = ['mg_packed'], cc = CC, flags = []) {
  const exe = path.join(dir, `roundtrip-${cc}`);
  const args = [...STRICT, ...flags, ...SAN, '-Icore/include', `-DPACKS=${prefixes.map((p) => `P(${p})`).join(' ')}`,
    ...sources, 'test/integration/packer_roundtrip.c', ...inflateShim().slice(0, 1), LIB, ...inflateShim().slice(1),
    '-o', exe];
  const c = spawnSync(cc, args);
  assert.equal(c.status, 0, `${cc} failed:\n${c.stderr}`);
  const r = spawnSync(exe, [], { maxBuffer: 64 << 20 });
  const out = r.stdout.toString();
  assert.doesNotMatch(out + r.stderr, /MISMATCH|ERROR: AddressSanitizer|runtime error:/, out + r.stderr);
  assert.equal(r.status, 0, `roundtrip exit ${r.status}:\n${out}${r.stderr}`);
  const files = new Map();
  for (const line of out.split('\n').filter((l) => l.startsWith('file\t'))) {
    const [, prefix, p, size, sha1, gzip, mime, etag, immutable] = line.split('\t');
    files.set(`${prefix}:${p}`, { size: Number(size), sha1, gzip: gzip === '1', mime, etag, immutable: immutable === '1' });
  }
  return files;
}

function sha1(buf) {
  return crypto.createHash('sha1').update(buf).digest('hex');
}

// Every file under root, as table path -> contents
function tree(root, base = root) {
  const out = new Map();
  for (const e of fs.readdirSync(root, { withFileTypes: true })) {
    const full = path.join(root, e.name);
    if (e.isDirectory()) for (const [k, v] of tree(full, base)) out.set(k, v);
    else if (e.isFile()) out.set('/' + path.relative(base, full).split(path.sep).join('/'), fs.readFileSync(full));
  }
  return out;
}

function write(root, rel, data) {
  const full = path.join(root, rel);
  fs.mkdirSync(path.dirname(full), { recursive: true });
  fs.writeFileSync(full, data);
}

function sampleTree(root) {
  const lines = [];
  for (let i = 0; i < 20000; i++) lines.push(`${i}: {"temperature": ${(i * 7) % 50}, "state": "ok"}`);
  write(root, 'index.html', '<!DOCTYPE html><html><body>' + 'Hello, device! '.repeat(500) + '</body></html>\n');
  write(root, 'assets/app.js', 'export const x = 1;\n'.repeat(3000));
  write(root, 'assets/app.css', 'body { margin: 0 }\n'.repeat(200));
  write(root, 'assets/big.json', lines.join('\n'));  // ~0.8 MB: decoding crosses many 32 KiB windows
  write(root, 'assets/logo.png', Buffer.alloc(4000, 7));  // Compresses well, but png is never gzipped
  write(root, 'random.bin', crypto.randomBytes(70000));
  write(root, 'noise.txt', crypto.randomBytes(3000));  // Text type, but gzip would not be smaller
  write(root, 'empty', '');
  write(root, 'one', 'x');
  write(root, 'a/b/c/deep.txt', 'deep\n');
  write(root, 'with space/file name.txt', 'spaces\n');
  write(root, 'quote"and?.txt', 'odd name\n');
  write(root, 'héllo.txt', 'utf-8 name\n');
}

test('packer: every file reads back byte for byte through the generated mg_fs', (t) => {
  const dir = scratch(t, 'packer');
  const root = path.join(dir, 'web');
  sampleTree(root);
  const out = path.join(dir, 'gen.c');
  const r = pack(['-o', out, root]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^packer: 13 files, \d+ bytes raw, \d+ bytes packed \(\d+\.\d%\), \d+ gzipped$/m);
  const want = tree(root);
  const got = roundtrip(dir, [out]);
  assert.deepEqual([...got.keys()].sort(), [...want.keys()].map((p) => `mg_packed:${p}`).sort());
  for (const [p, data] of want) {
    const g = got.get(`mg_packed:${p}`);
    assert.equal(g.size, data.length, p);
    assert.equal(g.sha1, sha1(data), p);
    assert.equal(g.etag, `"${sha1(data).slice(0, 16)}"`, p);
  }
  const gz = (p) => got.get(`mg_packed:${p}`).gzip;
  for (const p of ['/index.html', '/assets/app.js', '/assets/app.css', '/assets/big.json']) assert.ok(gz(p), `${p} gzipped`);
  for (const p of ['/assets/logo.png', '/random.bin', '/noise.txt', '/empty', '/one']) assert.ok(!gz(p), `${p} stored`);
  assert.equal(got.get('mg_packed:/index.html').mime, 'text/html; charset=utf-8');
  assert.equal(got.get('mg_packed:/assets/logo.png').mime, 'image/png');
  // Also with clang, and with data as byte lists (-b)
  if (have('clang')) roundtrip(dir, [out], ['mg_packed'], 'clang');
  assert.equal(pack(['-b', '-q', '-o', out, root]).code, 0);
  assert.equal(roundtrip(dir, [out]).size, want.size);
});

test('packer: -I marks the paths the build hashed immutable, and nothing else', (t) => {
  const dir = scratch(t, 'packer-immutable');
  const root = path.join(dir, 'web');
  sampleTree(root);
  const out = path.join(dir, 'gen.c');
  assert.equal(pack(['-q', '-o', out, root]).code, 0);
  for (const [p, g] of roundtrip(dir, [out])) assert.ok(!g.immutable, p);
  const r = pack(['-q', '-I', '/assets/*', '-I', 'deep.txt', '-o', out, root]);
  assert.equal(r.code, 0, r.stderr);
  const got = roundtrip(dir, [out]);
  for (const p of ['/assets/app.js', '/assets/logo.png', '/a/b/c/deep.txt']) assert.ok(got.get(`mg_packed:${p}`).immutable, p);
  for (const p of ['/index.html', '/noise.txt', '/one']) assert.ok(!got.get(`mg_packed:${p}`).immutable, p);
});

// C99 5.2.4.1 only promises string literals of 4095 characters: the default
// output must compile under -pedantic -Werror whatever the file sizes
test('packer: files around the 4095-byte literal limit compile under -pedantic and read back', (t) => {
  const dir = scratch(t, 'packer-pedantic');
  const root = path.join(dir, 'web');
  for (const n of [4094, 4095, 4096, 8189, 8190, 8191, 12285, 70000]) write(root, `r${n}.bin`, crypto.randomBytes(n));
  write(root, 'escapes.bin', Buffer.from(Array.from({ length: 9000 }, (_, i) => (i * 37) & 255)));
  write(root, 'big.txt', Array.from({ length: 3000 }, (_, i) => `line ${i} ${(i * 7919) % 1000}`).join('\n'));
  const want = tree(root);
  for (const extra of [[], ['-M']]) {
    const out = path.join(dir, 'gen.c');
    const r = pack([...extra, '-q', '-o', out, root]);
    assert.equal(r.code, 0, r.stderr);
    for (const cc of ['gcc', 'clang'].filter(have)) {
      const c = spawnSync(cc, [...STRICT, '-pedantic', '-Icore/include', '-c', out, '-o', path.join(dir, 'gen.o')]);
      assert.equal(c.status, 0, `${cc} -pedantic ${extra.join(' ')}:\n${c.stderr.toString().slice(0, 2000)}`);
    }
    if (extra.length > 0) continue;
    const got = roundtrip(dir, [out], ['mg_packed'], CC, ['-pedantic']);
    assert.equal(got.size, want.size);
    for (const [p, data] of want) {
      assert.equal(got.get(`mg_packed:${p}`).size, data.length, p);
      assert.equal(got.get(`mg_packed:${p}`).sha1, sha1(data), p);
    }
    assert.ok(got.get('mg_packed:/big.txt').gzip, 'big.txt gzipped');
  }
});

test('packer: the same input gives the same bytes; mtimes only with -m', (t) => {
  const dir = scratch(t, 'packer-det');
  const root = path.join(dir, 'web');
  sampleTree(root);
  fs.writeFileSync(path.join(root, 'random.bin'), Buffer.alloc(1000, 1));
  const a = pack(['-o', path.join(dir, 'a.c'), root]);
  assert.equal(a.code, 0, a.stderr);
  const first = fs.readFileSync(path.join(dir, 'a.c'));
  const b = pack([root]);  // To standard output
  assert.equal(b.code, 0, b.stderr);
  assert.ok(first.equals(b.stdout), 'file and stdout outputs are identical');
  for (const p of tree(root).keys()) fs.utimesSync(path.join(root, p), 1000000000, 1600000000 + p.length);
  assert.ok(pack([root]).stdout.equals(first), 'mtimes do not matter without -m');
  // Same files in another directory, listed in another order: same output
  const copy = path.join(dir, 'copy');
  for (const [p, data] of [...tree(root)].reverse()) write(copy, p, data);
  assert.ok(pack([copy]).stdout.equals(first), 'the directory name and listing order do not matter');
  const m = pack(['-m', root]);
  assert.equal(m.code, 0, m.stderr);
  assert.ok(!m.stdout.equals(first));
  assert.match(m.stdout.toString(), /\{"\/index.html", mg_packed_d\d+, \d+, \d+, \(time_t\) 1600000011,/);
});

// The table rows of a generated file: path -> {gzip}
function rows(c) {
  const out = new Map();
  for (const m of c.toString().matchAll(/^ {4}\{"((?:[^"\\]|\\.)*)", .*, (true|false), (?:true|false)\},$/gm)) out.set(m[1], m[2] === 'true');
  return out;
}

test('packer: -x excludes, -n stores uncompressed, -s strips a prefix, -p renames', (t) => {
  const dir = scratch(t, 'packer-opts');
  const root = path.join(dir, 'web');
  write(root, 'static/index.html', 'hello '.repeat(100));
  write(root, 'static/app.js', 'let a = 1;\n'.repeat(100));
  write(root, 'static/app.js.map', '{}'.repeat(100));
  write(root, 'static/sub/x.txt', 'x'.repeat(100));
  write(root, 'node_modules/m/index.js', 'y');
  write(root, '.DS_Store', 'junk');
  const r = pack(['-x', '*.map', '-x', 'node_modules', '-x', '.DS_Store', '-n', '/sub/*', '-s', 'static/', '-p', 'ui', root]);
  assert.equal(r.code, 0, r.stderr);
  const table = rows(r.stdout);
  assert.deepEqual([...table.keys()], ['/app.js', '/index.html', '/sub/x.txt']);
  assert.deepEqual([...table.values()], [true, true, false]);
  assert.match(r.stdout.toString(), /^const struct mg_packed_table ui_table = \{ui_entries, 3\};$/m);
  assert.match(r.stdout.toString(), /^struct mg_fs ui_fs = \{$/m);
  // A glob with '/' matches the whole path only
  const whole = rows(pack(['-x', '/static/sub', root]).stdout);
  assert.ok(!whole.has('/static/sub/x.txt') && whole.has('/static/index.html') && whole.has('/node_modules/m/index.js'));
});

test('packer: two outputs with different prefixes link into one program', (t) => {
  const dir = scratch(t, 'packer-two');
  write(path.join(dir, 'one'), 'index.html', 'first '.repeat(50));
  write(path.join(dir, 'two'), 'index.html', 'second '.repeat(50));
  write(path.join(dir, 'two'), 'extra/data.bin', crypto.randomBytes(100));
  assert.equal(pack(['-p', 'one', '-o', path.join(dir, 'one.c'), path.join(dir, 'one')]).code, 0);
  assert.equal(pack(['-p', 'two', '-o', path.join(dir, 'two.c'), path.join(dir, 'two')]).code, 0);
  const got = roundtrip(dir, [path.join(dir, 'one.c'), path.join(dir, 'two.c')], ['one', 'two']);
  assert.deepEqual([...got.keys()].sort(), ['one:/index.html', 'two:/extra/data.bin', 'two:/index.html']);
  assert.equal(got.get('one:/index.html').sha1, sha1(Buffer.from('first '.repeat(50))));
  assert.equal(got.get('two:/index.html').sha1, sha1(Buffer.from('second '.repeat(50))));
});

test('packer: files from several directories merge; the same path twice is an error', (t) => {
  const dir = scratch(t, 'packer-dup');
  write(path.join(dir, 'a'), 'x/one.txt', '1');
  write(path.join(dir, 'b'), 'x/two.txt', '2');
  const ok = pack([path.join(dir, 'a'), path.join(dir, 'b') + '/']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual([...rows(ok.stdout).keys()], ['/x/one.txt', '/x/two.txt']);
  write(path.join(dir, 'b'), 'x/one.txt', 'again');
  const out = path.join(dir, 'out.c');
  const r = pack(['-o', out, path.join(dir, 'a'), path.join(dir, 'b')]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /duplicate path \/x\/one\.txt: .*a\/x\/one\.txt and .*b\/x\/one\.txt/);
  assert.ok(!fs.existsSync(out));
});

// Runs the packer with -o into a fresh directory; asserts failure, no output and no temp file left
function packFails(t, args, stderrPattern) {
  const outDir = scratch(t, 'packer-out');
  const out = path.join(outDir, 'gen.c');
  const r = pack(['-o', out, ...args]);
  assert.notEqual(r.code, 0, `should fail: ${args.join(' ')}`);
  assert.match(r.stderr, stderrPattern);
  assert.deepEqual(fs.readdirSync(outDir), [], 'no output or temporary file is left');
  return r;
}

test('packer: errors name the file, exit non-zero and write nothing', (t) => {
  const dir = scratch(t, 'packer-err');
  const root = path.join(dir, 'web');
  write(root, 'ok.txt', 'fine');
  packFails(t, [path.join(dir, 'missing')], /missing: No such file or directory/);
  packFails(t, [path.join(root, 'ok.txt')], /ok\.txt: not a directory/);
  fs.mkdirSync(path.join(dir, 'empty'));
  packFails(t, [path.join(dir, 'empty')], /no files to pack/);
  // Over the size limit
  write(root, 'big/large.bin', Buffer.alloc(2000));
  packFails(t, ['-l', '1999', root], /big\/large\.bin: 2000 bytes, over the limit of 1999/);
  assert.equal(pack(['-l', '2000', root]).code, 0);
  assert.equal(pack(['-l', '2k', root]).code, 0);
  packFails(t, ['-l', '1K', root], /large\.bin: 2000 bytes, over the limit of 1024/);
  assert.equal(pack(['-l', 'lots', root]).code, 2);
  assert.equal(pack(['-p', '9lives', root]).code, 2);
  assert.equal(pack([]).code, 2);
  // A symlink to nowhere
  fs.symlinkSync(path.join(dir, 'nowhere'), path.join(root, 'dangling.txt'));
  packFails(t, [root], /dangling\.txt: No such file or directory/);
  fs.unlinkSync(path.join(root, 'dangling.txt'));
  // A symlink to a parent directory would never end
  fs.symlinkSync('..', path.join(root, 'big', 'loop'));
  packFails(t, [root], /big\/loop: directory loop/);
  fs.unlinkSync(path.join(root, 'big', 'loop'));
  // Names the core could never look up
  write(root, 'back\\slash.txt', 'x');
  packFails(t, [root], /back\\slash\.txt: a backslash/);
  fs.unlinkSync(path.join(root, 'back\\slash.txt'));
  const long = 'd'.repeat(200) + '/' + 'f'.repeat(60);
  write(root, long, 'x');
  packFails(t, [root], /f{60}: table path is 262 bytes, the limit is 255/);
  fs.rmSync(path.join(root, 'd'.repeat(200)), { recursive: true });
  // The output directory does not exist
  const r = pack(['-o', path.join(dir, 'no', 'such', 'gen.c'), root]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /no\/such\/gen\.c: No such file or directory/);
  assert.equal(pack(['-o', path.join(dir, 'gen.c'), root]).code, 0, 'and packs once the tree is fine');
});

test('packer: a write error on standard output fails the run', { skip: !fs.existsSync('/dev/full') && 'no /dev/full' }, (t) => {
  const dir = scratch(t, 'packer-full');
  write(path.join(dir, 'web'), 'a.txt', 'a'.repeat(10000));
  const full = fs.openSync('/dev/full', 'w');
  const r = spawnSync(BIN_PACKER, [path.join(dir, 'web')], { stdio: ['ignore', full, 'pipe'] });
  fs.closeSync(full);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr.toString(), /standard output: No space left on device/);
});

// As root every file is readable, so the packer then runs as nobody (setpriv, util-linux)
test('packer: an unreadable file is an error', (t) => {
  const dir = scratch(t, 'packer-perm');
  const root = path.join(dir, 'web');
  write(root, 'secret.txt', 'x');
  write(root, 'open.txt', 'y');
  fs.chmodSync(path.join(root, 'secret.txt'), 0);
  if (process.getuid?.() !== 0) return packFails(t, [root], /secret\.txt: Permission denied/);
  for (const d of [dir, root]) fs.chmodSync(d, 0o755);
  const packer = path.resolve(BIN_PACKER);
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', packer, root]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr.toString(), /secret\.txt: Permission denied/);
});

test('packer: special files are skipped with a warning', { skip: !have('mkfifo') && 'no mkfifo' }, (t) => {
  const dir = scratch(t, 'packer-fifo');
  const root = path.join(dir, 'web');
  write(root, 'a.txt', 'a');
  assert.equal(spawnSync('mkfifo', [path.join(root, 'pipe')]).status, 0);
  const r = pack([root]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /pipe: skipped, not a regular file/);
  assert.deepEqual([...rows(r.stdout).keys()], ['/a.txt']);
});

// A Mongoose 7.22 program that serves packed files: mg_packed_files[] (and the
// older mg_unpack()/mg_unlist()) come from `packer -M`, and it builds against the
// amalgamated distribution alone with no build option
for (const extra of [[], ['-b']]) test(`packer -M ${extra.join(' ')}: a Mongoose program serves mg_packed_files through mg_fs_packed`, (t) => {
  const dir = scratch(t, 'packer-mongoose');
  const dist = path.join(dir, 'dist');
  const am = spawnSync('tools/amalgamate.sh', [dist]);
  assert.equal(am.status, 0, am.stderr.toString());
  const index = '<!DOCTYPE html><html><body>' + 'packed, Mongoose style '.repeat(300) + '</body></html>\n';
  write(dir, 'web_root/index.html', index);  // Compressible, yet stored as is for mg_unpack
  write(dir, 'web_root/css/style.css', 'body { color: red }\n');
  write(dir, 'certs/ca.pem', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  const gen = path.join(dir, 'packed_fs.c');
  // Run from the scratch directory: table paths keep the directory as named
  const r = spawnSync(path.resolve(BIN_PACKER), ['-M', ...extra, '-q', '-o', gen, 'web_root', './certs/'], { cwd: dir });
  assert.equal(r.status, 0, r.stderr.toString());
  assert.match(fs.readFileSync(gen, 'utf8'), /^const struct mg_mem_file mg_packed_files\[\] = \{$/m);
  assert.match(fs.readFileSync(gen, 'utf8'), /^const char \*mg_unpack\(const char \*path, size_t \*size, time_t \*mtime\) \{$/m);
  const exe = path.join(dir, 'mongoose-packed');
  const c = spawnSync(CC, [...STRICT, ...SAN, `-I${dist}`, 'test/integration/packer_mongoose.c',
    gen, path.join(dist, 'meerkat.c'), '-o', exe]);
  assert.equal(c.status, 0, `${CC} failed:\n${c.stderr}`);
  const run = spawnSync(exe, ['/', '/css/style.css', '/missing.txt', '/../certs/ca.pem'], { cwd: dir, timeout: 20000 });
  const out = run.stdout.toString();
  assert.doesNotMatch(out + run.stderr, /ERROR: (LeakSanitizer|AddressSanitizer)|runtime error:/, out + run.stderr);
  assert.equal(run.status, 0, `exit ${run.status}:\n${out}${run.stderr}`);
  const lines = out.split('\n');
  // mg_unlist names every file once, in the table's order, then NULL
  assert.deepEqual(lines.filter((l) => l.startsWith('unlist\t')),
    ['unlist\t/certs/ca.pem', 'unlist\t/web_root/css/style.css', 'unlist\t/web_root/index.html']);
  assert.deepEqual(lines.filter((l) => l.startsWith('packed\t')),
    ['packed\t/certs/ca.pem', 'packed\t/web_root/css/style.css', 'packed\t/web_root/index.html']);
  assert.equal(lines.filter((l) => l.startsWith('unpacked\t/certs/ca.pem\t0\tnull')).length, 1, 'empty until mg_mem_files is set');
  assert.ok(lines.includes(`unpacked\t/certs/ca.pem\t${fs.statSync(path.join(dir, 'certs/ca.pem')).size}\tnul`));
  assert.ok(lines.includes('unpacked\t/nope\t0\tnull'));
  const got = (i) => lines.find((l) => l.startsWith(`get\t${i}\t`)).split('\t');
  assert.equal(got(0)[2], '200');
  assert.equal(fs.readFileSync(path.join(dir, 'body0')).toString(), index, 'index.html of the directory');
  assert.equal(got(1)[2], '200');
  assert.equal(fs.readFileSync(path.join(dir, 'body1')).toString(), 'body { color: red }\n');
  assert.equal(got(1)[3], 'text/css; charset=utf-8');
  assert.equal(got(2)[2], '404');
  assert.notEqual(got(3)[2], '200', 'nothing outside root_dir');
});
