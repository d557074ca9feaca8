/**
 * IDX files (the MNIST format of LeCun et al.): a 4-byte big-endian magic number
 * `00 00 <type> <ndims>`, then ndims big-endian u32 dimensions, then the values.
 * Only the unsigned-byte type (0x08) with 1 dimension (labels, magic 2049) or
 * 3 dimensions (images, magic 2051) is accepted, which is what MNIST uses.
 *
 * Parsing is synchronous and zero-copy; it does not gunzip. Gzip input is detected
 * by `isGzip` and inflated by the loaders (Node: zlib; browser: DecompressionStream).
 */
import { FormatError, ShapeError, WasmCnnError, describeValue } from '../errors.js';

/** Magic numbers this parser accepts: 2049 = labels (1 dim), 2051 = images (3 dims). */
export type IdxMagic = 2049 | 2051;

export const IDX_LABELS = 2049 as const;
export const IDX_IMAGES = 2051 as const;

/** A parsed IDX file: its magic (images or labels), dimensions and bytes. */
export interface IdxFile {
  magic: IdxMagic;
  /** e.g. [60000] for labels, [60000, 28, 28] for images. */
  dims: number[];
  /** The values: a view of the input bytes (no copy), product(dims) bytes. */
  data: Uint8Array;
}

/** Options of parseIdx (the expected kind, a name for messages). */
export interface ParseIdxOptions {
  /** Names the file in error messages (a path or URL); default "IDX file". */
  name?: string;
  /** Rejects a valid file of the other kind (e.g. labels where images were expected). */
  expect?: IdxMagic;
}

const TYPE_NAMES: Record<number, string> = {
  0x08: 'unsigned byte',
  0x09: 'signed byte',
  0x0b: 'short',
  0x0c: 'int',
  0x0d: 'float',
  0x0e: 'double',
};

const KIND: Record<IdxMagic, string> = { 2049: 'labels (1 dimension)', 2051: 'images (3 dimensions)' };

/** True when the bytes start with the gzip signature 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function hex(b: number): string {
  return '0x' + b.toString(16).padStart(2, '0');
}

/**
 * Parses and validates an (uncompressed) IDX file. Throws FormatError naming the
 * file, what is wrong and at which byte.
 */
export function parseIdx(bytes: Uint8Array, options: ParseIdxOptions = {}): IdxFile {
  const name = options.name ?? 'IDX file';
  const fail = (msg: string): never => {
    throw new FormatError(`${name}: ${msg}`);
  };
  if (!(bytes instanceof Uint8Array)) fail(`expected a Uint8Array, got ${Object.prototype.toString.call(bytes)}`);
  if (options.expect !== undefined && options.expect !== IDX_LABELS && options.expect !== IDX_IMAGES) {
    throw new WasmCnnError(`parseIdx: expect must be 2049 (labels) or 2051 (images), got ${describeValue(options.expect)}`);
  }
  if (isGzip(bytes)) {
    fail('the data is gzip-compressed (bytes 0-1 are 1f 8b); gunzip it first (loadMnist and loadMnistFromUrls do)');
  }
  if (bytes.length < 4) {
    fail(`the file is ${bytes.length} bytes, too short for the 4-byte magic number at byte 0`);
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    fail(
      `bad magic number at byte 0: bytes 0-1 must be 00 00, got ${hex(bytes[0]!)} ${hex(bytes[1]!)} ` +
        `(not an IDX file)`,
    );
  }
  const type = bytes[2]!;
  if (type !== 0x08) {
    const tn = TYPE_NAMES[type];
    fail(
      `data type byte at byte 2 is ${hex(type)}${tn ? ` (${tn})` : ' (not an IDX type)'}; ` +
        `only 0x08 (unsigned byte) is supported`,
    );
  }
  const ndims = bytes[3]!;
  const magic = 0x0800 + ndims;
  if (magic !== IDX_LABELS && magic !== IDX_IMAGES) {
    fail(
      `magic number ${magic} (0x${magic.toString(16).padStart(8, '0')}) at byte 0 declares ${ndims} dimensions ` +
        `(byte 3); expected 2049 (labels, 1 dimension) or 2051 (images, 3 dimensions)`,
    );
  }
  if (options.expect !== undefined && magic !== options.expect) {
    fail(
      `magic number at byte 0 is ${magic} (${KIND[magic as IdxMagic]}), ` +
        `but ${options.expect} (${KIND[options.expect]}) was expected`,
    );
  }
  const headerLen = 4 + 4 * ndims;
  if (bytes.length < headerLen) {
    fail(
      `truncated header: ${ndims} dimensions need a ${headerLen}-byte header, ` +
        `but the file ends at byte ${bytes.length}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let size = 1;
  for (let i = 0; i < ndims; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    size *= d; // exact up to 2^53; beyond that it can never match a real length anyway
  }
  const expected = headerLen + size;
  const dimText = `(${dims.join(', ')})`;
  // exact figures in messages, also past 2^53 (e.g. three dimensions of 2^32 - 1)
  const exact = Number.isSafeInteger(expected);
  const sizeText = exact ? String(size) : String(dims.reduce((a, d) => a * BigInt(d), 1n));
  const expectedText = exact ? String(expected) : String(BigInt(headerLen) + BigInt(sizeText));
  if (bytes.length < expected) {
    fail(
      `truncated: dimensions ${dimText} at bytes 4-${headerLen - 1} declare ${sizeText} data bytes, ` +
        `so the file should be ${expectedText} bytes, but it is ${bytes.length} (data ends early at byte ${bytes.length}, ` +
        `${exact ? expected - bytes.length : String(BigInt(expectedText) - BigInt(bytes.length))} bytes missing)`,
    );
  }
  if (bytes.length > expected) {
    fail(
      `${bytes.length - expected} unexpected bytes after the data, starting at byte ${expected}: ` +
        `dimensions ${dimText} declare ${size} data bytes, so the file should be ${expected} bytes, but it is ${bytes.length}`,
    );
  }
  return { magic: magic as IdxMagic, dims, data: bytes.subarray(headerLen, expected) };
}

/** Builds an IDX file (type 0x08) from dimensions and bytes; the inverse of parseIdx. */
export function encodeIdx(dims: readonly number[], data: Uint8Array): Uint8Array {
  if (dims.length !== 1 && dims.length !== 3) {
    throw new ShapeError(`encodeIdx: expected 1 or 3 dimensions, got ${dims.length}`);
  }
  let size = 1;
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0 || d > 0xffffffff) {
      throw new ShapeError(`encodeIdx: dimensions must be u32 integers, got ${JSON.stringify(dims)}`);
    }
    size *= d;
  }
  if (size !== data.length) {
    throw new ShapeError(`encodeIdx: dimensions (${dims.join(', ')}) hold ${size} bytes, but data has ${data.length}`);
  }
  const headerLen = 4 + 4 * dims.length;
  const out = new Uint8Array(headerLen + size);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0x0800 + dims.length, false);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, headerLen);
  return out;
}
