// What a firmware update reckons without the device: an image file's version and
// id from its header, versions compared, where a cut upload resumes, the rate of
// bytes. No Preact, no network (the browser-free tests import it).

// The image header (core/ota/ota_image.h): magic "MKOT" at 0, the version as three
// little-endian uint16 at 8, 10, 12, the payload's SHA-256 at 32..63, 128 bytes in all
export const IMAGE_HEADER_LEN = 128;
const RATE_WINDOW_MS = 5000;  // a rate shown is the mean of the last 5 s

// { magic, version, id } of the file's first bytes: version "1.2.4" (null without the
// magic), id the lowercase hex of bytes 32..63, as GET api/ota names an upload.
export function readImageHeader(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = bytes.length >= 14 && String.fromCharCode(...bytes.subarray(0, 4)) === 'MKOT';
  const id = bytes.length >= 64 ? Array.from(bytes.subarray(32, 64), (b) => b.toString(16).padStart(2, '0')).join('') : null;
  return { magic, version: magic ? [8, 10, 12].map((at) => view.getUint16(at, true)).join('.') : null, id };
}

// -1, 0 or 1 as version a is older, the same or newer than b (major.minor.patch; a
// build suffix such as "+3f2c1a" is ignored); null when either has no such numbers.
export function compareVersions(a, b) {
  const parse = (v) => /^(\d+)\.(\d+)\.(\d+)/.exec(v || '')?.slice(1).map(Number);
  const [x, y] = [parse(a), parse(b)];
  if (!x || !y) return null;
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
  return 0;
}

export const contentRange = (start, total) => `bytes ${start}-${total - 1}/${total}`;

// Where an upload of this file resumes: the bytes the device holds of it (its
// upload record names the same image id and size), or 0 to send it all.
export function resumeOffset(info, size, image) {
  const u = info?.upload;
  if (!u || !image?.id || u.id !== image.id || Number(u.total) !== size) return 0;
  const received = Number(u.received);
  return received > 0 && received < size ? received : 0;
}

// Bytes per second over the last window of (time ms, bytes) samples: steady
// enough to read, quick to follow a link that changes speed. 0 until it has
// half a second of samples.
export function rateMeter(windowMs = RATE_WINDOW_MS) {
  const samples = [];
  return {
    add(t, bytes) {
      samples.push([t, bytes]);
      while (samples.length > 2 && t - samples[1][0] >= windowMs) samples.shift();
    },
    rate() {
      if (samples.length < 2) return 0;
      const [[t0, b0], [t1, b1]] = [samples[0], samples[samples.length - 1]];
      return t1 - t0 >= 500 ? ((b1 - b0) * 1000) / (t1 - t0) : 0;
    },
  };
}
