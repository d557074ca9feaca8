/**
 * safetensors (https://github.com/huggingface/safetensors), the parameter file format:
 *
 *   bytes 0..7       N, the header length, u64 little-endian
 *   bytes 8..8+N-1   UTF-8 JSON header, starting with '{', padded with spaces (0x20)
 *                    {"__metadata__": {"config": "<json>"},
 *                     "W1": {"dtype": "F32", "shape": [30, 1, 5, 5], "data_offsets": [0, 3000]}, ...}
 *   bytes 8+N..      the data section: raw little-endian values; data_offsets are
 *                    [begin, end) relative to its start and must cover it exactly
 *
 * This library stores F32 only. Loading never evaluates code. The header length is
 * checked against the real byte length before anything is read; a scan of the header's
 * bytes bounds its nesting and array lengths before JSON.parse builds anything; a
 * validator then checks keys (no duplicates), dtypes, shapes and offsets before any
 * tensor is allocated.
 */
import { FormatError, WasmCnnError } from '../errors.js';

/** Largest header accepted (as the reference implementation): 100 MB. */
export const SAFETENSORS_MAX_HEADER = 100_000_000;
/** Largest tensor rank accepted. */
export const SAFETENSORS_MAX_RANK = 64;
/** Largest `config` metadata string accepted by configFromMetadata (characters). */
export const MAX_CONFIG_LENGTH = 1 << 20;

/** A tensor to write: name, shape and float32 values. */
export interface SafetensorsTensor {
  name: string;
  shape: readonly number[];
  data: Float32Array;
}

/** A tensor read from a file: its shape and its values as float32. */
export interface DecodedTensor {
  shape: number[];
  /** A fresh, aligned copy of the values. */
  data: Float32Array;
}

/** A decoded safetensors file: tensors by name, in file order, and the string metadata. */
export interface DecodedSafetensors {
  /** In the order of the data section. */
  tensors: Map<string, DecodedTensor>;
  metadata: Record<string, string>;
}

export interface DecodeOptions {
  /** Names the file in error messages (e.g. its path); default "safetensors file". */
  name?: string;
  /**
   * Tensors to check (dtype, shape, offsets) but leave out of the result. They may have any
   * dtype of whole bytes (e.g. the I64 num_batches_tracked of a PyTorch BatchNorm).
   */
  ignore?: (name: string) => boolean;
}

/** Bytes per value of the dtypes an ignored tensor may have. */
const DTYPE_BYTES: Record<string, number> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, F8_E8M0: 1, U16: 2, I16: 2, F16: 2, BF16: 2,
  U32: 4, I32: 4, F32: 4, U64: 8, I64: 8, F64: 8, C64: 8,
};
/** All dtypes of the safetensors spec (only F32 is loaded): the whole-byte ones above and the packed sub-byte ones. */
const KNOWN_DTYPES = new Set([...Object.keys(DTYPE_BYTES), 'F6_E2M3', 'F6_E3M2', 'F4']);

let hostLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** @internal Tests force the portable (DataView) byte-order path with `false`; `undefined` restores detection. */
export function setHostEndiannessForTesting(littleEndian: boolean | undefined): void {
  hostLittleEndian = littleEndian ?? new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function fmt(shape: readonly number[]): string {
  return `(${shape.join(', ')})`;
}

// ---------------------------------------------------------------------------------
// Encoder

/**
 * Builds a safetensors file: tensors are stored in the given order as F32,
 * metadata (string values only) under `__metadata__`.
 */
export function encodeSafetensors(tensors: readonly SafetensorsTensor[], metadata?: Record<string, string>): Uint8Array {
  const where = 'encodeSafetensors';
  const parts: string[] = [];
  if (metadata !== undefined) {
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
      throw new WasmCnnError(`${where}: metadata must be an object of strings`);
    }
    const m: string[] = [];
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') {
        throw new WasmCnnError(`${where}: metadata "${k}" is a ${typeof v}; safetensors allows only string values`);
      }
      if (LONE_SURROGATE.test(k) || LONE_SURROGATE.test(v)) {
        throw new WasmCnnError(`${where}: metadata "${k}" is not well-formed Unicode (lone surrogate)`);
      }
      m.push(`${JSON.stringify(k)}:${JSON.stringify(v)}`);
    }
    parts.push(`"__metadata__":{${m.join(',')}}`);
  }
  const seen = new Set<string>();
  let offset = 0;
  for (const t of tensors) {
    const { name, shape, data } = t;
    if (typeof name !== 'string') throw new WasmCnnError(`${where}: a tensor name must be a string`);
    if (name === '__metadata__') throw new WasmCnnError(`${where}: "__metadata__" is reserved and cannot name a tensor`);
    if (LONE_SURROGATE.test(name)) throw new WasmCnnError(`${where}: tensor name ${JSON.stringify(name)} is not well-formed Unicode`);
    if (seen.has(name)) throw new WasmCnnError(`${where}: tensor "${name}" appears twice`);
    seen.add(name);
    if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || d < 0) || shape.length > SAFETENSORS_MAX_RANK) {
      throw new WasmCnnError(`${where}: tensor "${name}": shape must be at most ${SAFETENSORS_MAX_RANK} non-negative integers, got ${JSON.stringify(shape)}`);
    }
    if (!(data instanceof Float32Array)) throw new WasmCnnError(`${where}: tensor "${name}": data must be a Float32Array`);
    const size = shape.reduce((a, d) => a * d, 1);
    if (size !== data.length) {
      throw new WasmCnnError(`${where}: tensor "${name}": shape ${fmt(shape)} holds ${size} values, but data has ${data.length}`);
    }
    const end = offset + 4 * size;
    parts.push(`${JSON.stringify(name)}:{"dtype":"F32","shape":[${shape.join(',')}],"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const n = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + n + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, n % 0x100000000, true);
  view.setUint32(4, Math.floor(n / 0x100000000), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + n);
  let pos = 8 + n;
  for (const { data } of tensors) {
    if (hostLittleEndian) {
      out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), pos);
    } else {
      for (let i = 0; i < data.length; i++) view.setFloat32(pos + 4 * i, data[i]!, true);
    }
    pos += data.byteLength;
  }
  return out;
}

// ---------------------------------------------------------------------------------
// Decoder: the length field, a scan of the header's structure, JSON.parse, a validator.

type Fail = (msg: string) => never;

/** Deepest nesting of a valid header: {name: {field: [n, ...]}}. */
const MAX_DEPTH = 3;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Lenient = new TextDecoder('utf-8');

/**
 * Walks the header's bytes outside strings before JSON.parse sees them, so that nothing
 * it builds is deep or huge: nesting at most MAX_DEPTH, arrays of at most
 * SAFETENSORS_MAX_RANK elements, numbers without sign, fraction or exponent (the only
 * numbers of the schema are sizes and offsets). Does not check the JSON grammar
 * (JSON.parse does). Returns the number of object members; `onKey` sees each member's
 * key (byte range with quotes), the id of its object (ids in order of the '{') and its depth.
 */
function scanHeader(b: Uint8Array, start: number, end: number, fail: Fail,
  onKey?: (object: number, depth: number, from: number, to: number) => void): number {
  const open: number[] = []; // per open bracket: -1 for an object, else the array's commas so far
  const objects: number[] = [];
  let nextObject = 0;
  let members = 0;
  let keyFrom = -1;
  let keyTo = -1;
  let prev = 0;
  for (let i = start; i < end; i++) {
    const c = b[i]!;
    if (c === 0x22) {
      keyFrom = i;
      for (i++; i < end && b[i] !== 0x22; i++) if (b[i] === 0x5c) i++;
      keyTo = i + 1;
    } else if (c === 0x7b || c === 0x5b) {
      if (open.length === MAX_DEPTH) {
        fail(`the header nests deeper than ${MAX_DEPTH} levels at byte ${i} (it is {name: {"dtype": .., "shape": [..], "data_offsets": [..]}})`);
      }
      open.push(c === 0x7b ? -1 : 0);
      if (c === 0x7b) objects.push(nextObject++);
    } else if (c === 0x7d || c === 0x5d) {
      if (open.pop() === -1) objects.pop();
    } else if (c === 0x2c) {
      const top = open.length - 1;
      if (top >= 0 && open[top]! >= 0 && ++open[top]! >= SAFETENSORS_MAX_RANK) {
        fail(`an array in the header has more than ${SAFETENSORS_MAX_RANK} elements at byte ${i}`);
      }
    } else if (c === 0x3a) {
      members++;
      onKey?.(objects[objects.length - 1] ?? -1, open.length, keyFrom, keyTo);
    } else if (c === 0x2d) {
      fail(`a negative number at byte ${i}; shapes and data_offsets are non-negative integers`);
    } else if (c === 0x2e || ((c === 0x65 || c === 0x45) && prev >= 0x30 && prev <= 0x39)) {
      fail(`a number with ${c === 0x2e ? 'a fraction' : 'an exponent'} at byte ${i}; shapes and data_offsets are integers written as plain digits`);
    }
    prev = c;
  }
  return members;
}

/** UTF-8 length of s[from, to) (s as produced by a UTF-8 decoder: surrogates come in pairs). */
function utf8Length(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    n += c < 0x80 ? 1 : c < 0x800 || (c >= 0xd800 && c <= 0xdfff) ? 2 : 3;
  }
  return n;
}

/** The header as text; on invalid UTF-8, fails naming the first bad byte. */
function decodeUtf8(b: Uint8Array, start: number, end: number, fail: Fail): string {
  try {
    return utf8.decode(b.subarray(start, end));
  } catch {
    // the lenient decoder puts U+FFFD where the first bad sequence starts; real U+FFFD are EF BF BD
    const s = utf8Lenient.decode(b.subarray(start, end));
    let at = start;
    let from = 0;
    for (let i = s.indexOf('\ufffd'); i >= 0; i = s.indexOf('\ufffd', i + 1)) {
      at += utf8Length(s, from, i);
      from = i;
      if (b[at] !== 0xef || b[at + 1] !== 0xbf || b[at + 2] !== 0xbd) break;
    }
    return fail(`the header is not valid UTF-8: invalid byte sequence starting with 0x${b[at]!.toString(16).padStart(2, '0')} at byte ${at}`);
  }
}

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

interface Entry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
  /** Left out of the result (DecodeOptions.ignore). */
  ignored: boolean;
}

function uints(v: unknown, what: string, fail: Fail): number[] {
  if (!Array.isArray(v)) fail(`${what} must be an array of non-negative integers, got ${kind(v)}`);
  for (const x of v as unknown[]) {
    if (typeof x !== 'number') fail(`each element of ${what} must be a non-negative integer, got ${kind(x)}`);
    if ((x as number) > Number.MAX_SAFE_INTEGER) fail(`an element of ${what} is too large (above 2^53 - 1)`);
    if (!Number.isInteger(x) || (x as number) < 0) fail(`each element of ${what} must be a non-negative integer, got ${x}`);
  }
  return v as number[];
}

function readEntry(name: string, v: unknown, fail: Fail, ignored: boolean): Entry {
  const t = `tensor "${name}"`;
  if (LONE_SURROGATE.test(name)) fail(`the tensor name ${JSON.stringify(name)} is not well-formed Unicode (lone surrogate)`);
  if (!isObject(v)) fail(`${t}: expected an object {dtype, shape, data_offsets}, got ${kind(v)}`);
  const fields = Object.entries(v as Record<string, unknown>);
  if (fields.length === 0) fail(`${t} has no dtype, shape or data_offsets`);
  const known = ['dtype', 'shape', 'data_offsets'];
  for (const [k] of fields) if (!known.includes(k)) fail(`${t} has unknown field "${k}" (expected dtype, shape, data_offsets)`);
  for (const k of known) if (!fields.some(([f]) => f === k)) fail(`${t} has no "${k}"`);
  const field = (k: string) => fields.find(([f]) => f === k)![1];
  const dtype = field('dtype');
  if (typeof dtype !== 'string') fail(`expected a string as the dtype of ${t}, got ${kind(dtype)}`);
  if (dtype !== 'F32' && !(ignored && Object.prototype.hasOwnProperty.call(DTYPE_BYTES, dtype as string))) {
    fail(KNOWN_DTYPES.has(dtype as string)
      ? `${t} has dtype "${dtype}"; wasm-cnn stores and reads only F32`
      : `${t} has unknown dtype ${JSON.stringify(dtype)} (wasm-cnn reads only F32)`);
  }
  const shape = uints(field('shape'), `the shape of ${t}`, fail);
  const offsets = uints(field('data_offsets'), `the data_offsets of ${t}`, fail);
  if (offsets.length !== 2) fail(`${t}: data_offsets must be [begin, end], got ${offsets.length} numbers`);
  return { name, dtype: dtype as string, shape: [...shape], begin: offsets[0]!, end: offsets[1]!, ignored };
}

function readMetadata(v: unknown, fail: Fail): Record<string, string> {
  if (v === null) return {};
  if (!isObject(v)) fail(`__metadata__ must be an object of strings, got ${kind(v)}`);
  const entries = Object.entries(v as Record<string, unknown>);
  for (const [k, x] of entries) {
    if (typeof x !== 'string') fail(`__metadata__ "${k}" is ${kind(x)}; safetensors allows only string values there`);
    if (LONE_SURROGATE.test(k) || LONE_SURROGATE.test(x as string)) {
      fail(`__metadata__ "${k}" is not well-formed Unicode (a lone surrogate escape)`);
    }
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

/**
 * Reads and validates a safetensors file of F32 tensors. Throws FormatError (what is
 * wrong, at which byte or in which tensor) on anything malformed; allocates only after
 * the header has been checked against the real byte length.
 */
export function decodeSafetensors(bytes: Uint8Array, opts: DecodeOptions = {}): DecodedSafetensors {
  const name = opts.name ?? 'safetensors file';
  const fail: Fail = (msg) => {
    throw new FormatError(`${name}: ${msg}`);
  };
  if (!(bytes instanceof Uint8Array)) fail(`expected a Uint8Array, got ${Object.prototype.toString.call(bytes)}`);
  if (bytes.length < 8) fail(`the file is ${bytes.length} bytes; it must start with an 8-byte header length (bytes 0-7)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = view.getBigUint64(0, true);
  const avail = bytes.length - 8;
  if (n64 > BigInt(avail)) {
    fail(`header length ${n64} (bytes 0-7, u64 little-endian) is larger than the ${avail} bytes that follow (file is ${bytes.length} bytes; truncated or not safetensors)`);
  }
  const n = Number(n64);
  if (n > SAFETENSORS_MAX_HEADER) fail(`header length ${n} (bytes 0-7) exceeds the ${SAFETENSORS_MAX_HEADER}-byte limit`);
  if (n < 2) fail(`header length ${n} (bytes 0-7) is too small for a JSON object`);
  const dataStart = 8 + n;
  const dataLen = bytes.length - dataStart;

  const first = bytes[8]!;
  if (first !== 0x7b) {
    const got = first > 0x20 && first < 0x7f ? `'${String.fromCharCode(first)}'` : `byte 0x${first.toString(16).padStart(2, '0')}`;
    fail(`the header must start with '{', got ${got} at byte 8`);
  }
  const members = scanHeader(bytes, 8, dataStart, fail);
  const text = decodeUtf8(bytes, 8, dataStart, fail);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    const msg = (e as Error).message.replace(/(?: in JSON)? at position (\d+)(?: \(line \d+ column \d+\))?/,
      (_, p: string) => ` at byte ${8 + utf8Length(text, 0, Number(p))}`);
    return fail(`the header is not valid JSON: ${msg}`);
  }
  // Keys of the header's objects, by byte; only needed for messages.
  const keys = (): { object: number; depth: number; key: string; at: number }[] => {
    const out: { object: number; depth: number; key: string; at: number }[] = [];
    scanHeader(bytes, 8, dataStart, fail, (object, depth, from, to) => {
      const quoted = utf8Lenient.decode(bytes.subarray(from, to));
      out.push({ object, depth, key: JSON.parse(quoted) as string, at: from });
    });
    return out;
  };
  let names: Map<string, number> | undefined;
  const byteOf = (key: string) => (names ??= new Map(keys().filter((k) => k.depth === 1).map((k) => [k.key, k.at]))).get(key)!;
  let metadata: Record<string, string> = {};
  let hasMetadata = false;
  const entries: Entry[] = [];
  for (const key of Object.keys(header)) {
    if (key === '__metadata__') {
      metadata = readMetadata(header[key], fail);
      hasMetadata = true;
    } else {
      entries.push(readEntry(key, header[key], (msg) => fail(`${msg} (entry at byte ${byteOf(key)})`), opts.ignore?.(key) ?? false));
    }
  }
  // JSON.parse keeps one of two equal keys: a valid header has 4 members per tensor
  // (name, dtype, shape, data_offsets) and 1 + one per key for __metadata__
  const parsed = 4 * entries.length + (hasMetadata ? 1 + Object.keys(metadata).length : 0);
  if (parsed !== members) {
    const seen = new Map<string, number>();
    let tensor = '';
    for (const k of keys()) {
      if (k.depth === 1) tensor = k.key;
      const id = `${k.object}\u0000${k.key}`;
      const before = seen.get(id);
      if (before !== undefined) {
        fail(k.depth === 1 ? `"${k.key}" appears twice in the header (bytes ${before} and ${k.at})`
          : tensor === '__metadata__' ? `__metadata__ key "${k.key}" appears twice (bytes ${before} and ${k.at})`
            : `tensor "${tensor}": field "${k.key}" appears twice (bytes ${before} and ${k.at})`);
      }
      seen.set(id, k.at);
    }
    fail(`the header has ${members} keys, of which ${parsed} are distinct`);
  }

  // Offsets and sizes, all before any allocation.
  for (const e of entries) {
    const t = `tensor "${e.name}"`;
    if (e.begin > e.end) fail(`${t}: data_offsets [${e.begin}, ${e.end}) end before they begin`);
    if (e.end > dataLen) {
      fail(`${t}: data_offsets [${e.begin}, ${e.end}) reach past the end of the data section, which has ${dataLen} bytes (file bytes [${dataStart}, ${bytes.length})); the file is truncated or the offsets are wrong`);
    }
    const need = BigInt(DTYPE_BYTES[e.dtype]!) * e.shape.reduce((a, d) => a * BigInt(d), 1n);
    if (need !== BigInt(e.end - e.begin)) {
      fail(`${t}: shape ${fmt(e.shape)} of ${e.dtype} needs ${need} bytes, but data_offsets [${e.begin}, ${e.end}) hold ${e.end - e.begin}`);
    }
  }
  // the data section's order; tensors at the same offsets (empty ones) in the header's order
  const order = entries.slice().sort((a, b) => a.begin - b.begin || a.end - b.end || byteOf(a.name) - byteOf(b.name));
  let cursor = 0;
  let prev: Entry | undefined;
  for (const e of order) {
    if (e.begin < cursor) {
      fail(`tensor "${e.name}" data_offsets [${e.begin}, ${e.end}) overlap tensor "${prev!.name}" [${prev!.begin}, ${prev!.end}) (file byte ${dataStart + e.begin})`);
    }
    if (e.begin > cursor) {
      fail(`data bytes [${cursor}, ${e.begin}) (file bytes [${dataStart + cursor}, ${dataStart + e.begin})) belong to no tensor: a gap before tensor "${e.name}"`);
    }
    cursor = e.end;
    prev = e;
  }
  if (cursor !== dataLen) {
    fail(`${dataLen - cursor} bytes at the end of the data section (from file byte ${dataStart + cursor}) belong to no tensor`);
  }

  const tensors = new Map<string, DecodedTensor>();
  for (const e of order) {
    if (e.ignored) continue;
    const count = (e.end - e.begin) / 4;
    const data = new Float32Array(count);
    const at = dataStart + e.begin;
    if (hostLittleEndian) {
      new Uint8Array(data.buffer).set(bytes.subarray(at, at + 4 * count));
    } else {
      for (let i = 0; i < count; i++) data[i] = view.getFloat32(at + 4 * i, true);
    }
    tensors.set(e.name, { shape: e.shape, data });
  }
  return { tensors, metadata };
}

// ---------------------------------------------------------------------------------
// Model parameter files: tensors by name plus the model config in __metadata__.config.

/** The model config stored in __metadata__.config (undefined when there is none). */
export function configFromMetadata(metadata: Record<string, string>, name = 'safetensors file'): Record<string, unknown> | undefined {
  if (!Object.prototype.hasOwnProperty.call(metadata, 'config')) return undefined;
  const text = metadata.config!;
  const fail = (msg: string): never => {
    throw new FormatError(`${name}: __metadata__.config ${msg}`);
  };
  if (text.length > MAX_CONFIG_LENGTH) fail(`is ${text.length} characters; at most ${MAX_CONFIG_LENGTH} are accepted`);
  // Bound the nesting before parsing (configs are a few levels deep).
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > 32) fail(`nests deeper than 32 levels (at character ${i})`);
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    fail(`is not valid JSON (${(e as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('must be a JSON object');
  return value as Record<string, unknown>;
}

