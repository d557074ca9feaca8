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
 * This library stores F32 only. Loading never evaluates code. The decoder does not
 * use JSON.parse on the header: a small strict parser reads exactly the grammar above,
 * so every error names the byte, nothing nests, and sizes are checked against the real
 * byte length before anything is allocated.
 */
import { FormatError, WasmCnnError } from '../errors.js';

/** Largest header accepted (as the reference implementation): 100 MB. */
export const SAFETENSORS_MAX_HEADER = 100_000_000;
/** Largest tensor rank accepted. */
export const SAFETENSORS_MAX_RANK = 64;
/** Largest `config` metadata string accepted by configFromMetadata (characters). */
export const MAX_CONFIG_LENGTH = 1 << 20;

/** All dtypes of the safetensors spec (only F32 is accepted here). */
const KNOWN_DTYPES = new Set([
  'BOOL', 'U8', 'I8', 'U16', 'I16', 'F16', 'BF16', 'U32', 'I32', 'F32', 'F64', 'U64', 'I64',
  'C64', 'F8_E5M2', 'F8_E4M3', 'F8_E8M0', 'F6_E2M3', 'F6_E3M2', 'F4',
]);

export interface SafetensorsTensor {
  name: string;
  shape: readonly number[];
  data: Float32Array;
}

export interface DecodedTensor {
  shape: number[];
  /** A fresh, aligned copy of the values. */
  data: Float32Array;
}

export interface DecodedSafetensors {
  /** In the order of the data section. */
  tensors: Map<string, DecodedTensor>;
  metadata: Record<string, string>;
}

export interface DecodeOptions {
  /** Names the file in error messages (e.g. its path); default "safetensors file". */
  name?: string;
}

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
// Header parser: the safetensors grammar only, over bytes, with byte offsets.

interface Entry {
  name: string;
  /** Byte of the entry's name in the file. */
  at: number;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
  /** Byte of data_offsets in the file. */
  offsetsAt: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

class HeaderParser {
  pos: number;

  constructor(
    readonly b: Uint8Array,
    start: number,
    readonly end: number,
    readonly name: string,
  ) {
    this.pos = start;
  }

  fail(msg: string, at = this.pos): never {
    throw new FormatError(`${this.name}: ${msg} at byte ${at}`);
  }

  describe(at = this.pos): string {
    if (at >= this.end) return 'the end of the header';
    const c = this.b[at]!;
    if (c >= 0x21 && c < 0x7f) return `'${String.fromCharCode(c)}'`;
    return `byte 0x${c.toString(16).padStart(2, '0')}${c >= 0x80 ? ' (not JSON here; is the header valid UTF-8?)' : ''}`;
  }

  ws(): void {
    while (this.pos < this.end && isWs(this.b[this.pos]!)) this.pos++;
  }

  peek(): number {
    return this.pos < this.end ? this.b[this.pos]! : -1;
  }

  expect(ch: string, context: string): void {
    if (this.peek() !== ch.charCodeAt(0)) this.fail(`expected '${ch}' ${context}, got ${this.describe()}`);
    this.pos++;
  }

  /** What kind of JSON value starts here (for messages). */
  kindHere(): string {
    const c = this.peek();
    if (c === 0x7b) return 'an object';
    if (c === 0x5b) return 'an array';
    if (c === 0x22) return 'a string';
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return 'a number';
    if (c === 0x74 || c === 0x66) return 'a boolean';
    if (c === 0x6e) return 'null';
    return this.describe();
  }

  /** A JSON string, validating UTF-8 and escapes. */
  str(context: string): string {
    const start = this.pos;
    if (this.peek() !== 0x22) this.fail(`expected a string ${context}, got ${this.kindHere()}`);
    this.pos++;
    const b = this.b;
    let out = '';
    let seg = this.pos;
    for (;;) {
      if (this.pos >= this.end) this.fail(`unterminated string (opened at byte ${start})`);
      const c = b[this.pos]!;
      if (c === 0x22) {
        out += utf8.decode(b.subarray(seg, this.pos));
        this.pos++;
        return out;
      }
      if (c === 0x5c) {
        out += utf8.decode(b.subarray(seg, this.pos));
        out += this.escape();
        seg = this.pos;
      } else if (c < 0x20) {
        this.fail(`control character 0x${c.toString(16).padStart(2, '0')} inside a string (must be escaped)`);
      } else if (c < 0x80) {
        this.pos++;
      } else {
        this.pos += this.utf8Sequence();
      }
    }
  }

  /** Length of the valid UTF-8 sequence at pos (RFC 3629), or a FormatError. */
  utf8Sequence(): number {
    const b = this.b;
    const p = this.pos;
    const c = b[p]!;
    const cont = (i: number, lo = 0x80, hi = 0xbf) => p + i < this.end && b[p + i]! >= lo && b[p + i]! <= hi;
    let n = 0;
    if (c >= 0xc2 && c <= 0xdf) n = cont(1) ? 2 : 0;
    else if (c === 0xe0) n = cont(1, 0xa0) && cont(2) ? 3 : 0;
    else if ((c >= 0xe1 && c <= 0xec) || c === 0xee || c === 0xef) n = cont(1) && cont(2) ? 3 : 0;
    else if (c === 0xed) n = cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
    else if (c === 0xf0) n = cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
    else if (c >= 0xf1 && c <= 0xf3) n = cont(1) && cont(2) && cont(3) ? 4 : 0;
    else if (c === 0xf4) n = cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
    if (n === 0) this.fail(`the header is not valid UTF-8: invalid byte sequence starting with 0x${c.toString(16)}`);
    return n;
  }

  hex4(): number {
    let v = 0;
    for (let i = 0; i < 4; i++) {
      const c = this.peek();
      const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
      if (d < 0) this.fail(`expected a hex digit in a \\u escape, got ${this.describe()}`);
      v = v * 16 + d;
      this.pos++;
    }
    return v;
  }

  escape(): string {
    const at = this.pos;
    this.pos++; // backslash
    const c = this.peek();
    this.pos++;
    switch (c) {
      case 0x22: return '"';
      case 0x5c: return '\\';
      case 0x2f: return '/';
      case 0x62: return '\b';
      case 0x66: return '\f';
      case 0x6e: return '\n';
      case 0x72: return '\r';
      case 0x74: return '\t';
      case 0x75: {
        const u = this.hex4();
        if (u >= 0xdc00 && u <= 0xdfff) this.fail('lone low surrogate in a \\u escape', at);
        if (u >= 0xd800 && u <= 0xdbff) {
          if (this.peek() !== 0x5c || this.b[this.pos + 1] !== 0x75) this.fail('lone high surrogate in a \\u escape', at);
          this.pos += 2;
          const lo = this.hex4();
          if (lo < 0xdc00 || lo > 0xdfff) this.fail('high surrogate not followed by a low surrogate', at);
          return String.fromCharCode(u, lo);
        }
        return String.fromCharCode(u);
      }
      default:
        this.pos--;
        return this.fail(`invalid escape \\${this.describe()} in a string`, at);
    }
  }

  /** A non-negative integer written as plain digits (what safetensors writers emit). */
  uint(context: string): number {
    const start = this.pos;
    const b = this.b;
    if (this.peek() === 0x2d) this.fail(`${context} must be a non-negative integer, got a negative number`);
    while (this.pos < this.end && b[this.pos]! >= 0x30 && b[this.pos]! <= 0x39) this.pos++;
    const len = this.pos - start;
    if (len === 0) this.fail(`expected a non-negative integer ${context}, got ${this.kindHere()}`, start);
    const next = this.peek();
    if (next === 0x2e || next === 0x65 || next === 0x45) this.fail(`${context} must be an integer (no fraction or exponent)`, start);
    if (len > 1 && b[start] === 0x30) this.fail(`${context}: a number must not have leading zeros`, start);
    if (len > 16) this.fail(`${context} is too large (${len} digits)`, start);
    let v = 0;
    for (let i = start; i < this.pos; i++) v = v * 10 + (b[i]! - 0x30);
    if (!Number.isSafeInteger(v)) this.fail(`${context} is too large (${v})`, start);
    return v;
  }

  uintArray(context: string, maxLen: number): number[] {
    this.expect('[', `to open ${context}`);
    const out: number[] = [];
    this.ws();
    if (this.peek() === 0x5d) {
      this.pos++;
      return out;
    }
    for (;;) {
      this.ws();
      if (out.length >= maxLen) this.fail(`${context} has more than ${maxLen} elements`);
      out.push(this.uint(`each element of ${context}`));
      this.ws();
      const c = this.peek();
      this.pos++;
      if (c === 0x5d) return out;
      if (c !== 0x2c) this.fail(`expected ',' or ']' in ${context}, got ${this.describe(this.pos - 1)}`, this.pos - 1);
    }
  }

  /** `{ "k": "v", ... }` or null. */
  metadata(): Record<string, string> {
    const at = this.pos;
    if (this.peek() === 0x6e) {
      if (this.b[at + 1] === 0x75 && this.b[at + 2] === 0x6c && this.b[at + 3] === 0x6c) {
        this.pos += 4;
        return {};
      }
    }
    if (this.peek() !== 0x7b) this.fail(`__metadata__ must be an object of strings, got ${this.kindHere()}`);
    this.pos++;
    const entries: [string, string][] = [];
    const keys = new Set<string>();
    this.ws();
    if (this.peek() === 0x7d) {
      this.pos++;
      return {};
    }
    for (;;) {
      this.ws();
      const keyAt = this.pos;
      const key = this.str('as a __metadata__ key');
      if (keys.has(key)) this.fail(`__metadata__ key "${key}" appears twice`, keyAt);
      keys.add(key);
      this.ws();
      this.expect(':', `after __metadata__ key "${key}"`);
      this.ws();
      if (this.peek() !== 0x22) {
        this.fail(`__metadata__ "${key}" is ${this.kindHere()}; safetensors allows only string values there`);
      }
      entries.push([key, this.str('')]);
      this.ws();
      const c = this.peek();
      this.pos++;
      if (c === 0x7d) return Object.fromEntries(entries);
      if (c !== 0x2c) this.fail(`expected ',' or '}' in __metadata__, got ${this.describe(this.pos - 1)}`, this.pos - 1);
    }
  }

  /** `{"dtype": .., "shape": [..], "data_offsets": [b, e]}` */
  entry(name: string, at: number): Entry {
    const t = `tensor "${name}"`;
    if (this.peek() !== 0x7b) this.fail(`${t}: expected an object {dtype, shape, data_offsets}, got ${this.kindHere()}`);
    this.pos++;
    let dtype: string | undefined;
    let shape: number[] | undefined;
    let offsets: number[] | undefined;
    let offsetsAt = -1;
    this.ws();
    if (this.peek() === 0x7d) this.fail(`${t} has no dtype, shape or data_offsets`);
    for (;;) {
      this.ws();
      const keyAt = this.pos;
      const key = this.str(`as a field name of ${t}`);
      this.ws();
      this.expect(':', `after "${key}" of ${t}`);
      this.ws();
      const valueAt = this.pos;
      const dup = () => this.fail(`${t}: field "${key}" appears twice`, keyAt);
      if (key === 'dtype') {
        if (dtype !== undefined) dup();
        dtype = this.str(`as the dtype of ${t}`);
        if (dtype !== 'F32') {
          this.fail(
            KNOWN_DTYPES.has(dtype)
              ? `${t} has dtype "${dtype}"; wasm-cnn stores and reads only F32`
              : `${t} has unknown dtype "${dtype}" (wasm-cnn reads only F32)`,
            valueAt,
          );
        }
      } else if (key === 'shape') {
        if (shape !== undefined) dup();
        shape = this.uintArray(`the shape of ${t}`, SAFETENSORS_MAX_RANK);
      } else if (key === 'data_offsets') {
        if (offsets !== undefined) dup();
        offsetsAt = valueAt;
        offsets = this.uintArray(`the data_offsets of ${t}`, 2);
        if (offsets.length !== 2) this.fail(`${t}: data_offsets must be [begin, end], got ${offsets.length} numbers`, valueAt);
      } else {
        this.fail(`${t} has unknown field "${key}" (expected dtype, shape, data_offsets)`, keyAt);
      }
      this.ws();
      const c = this.peek();
      this.pos++;
      if (c === 0x7d) break;
      if (c !== 0x2c) this.fail(`expected ',' or '}' in ${t}, got ${this.describe(this.pos - 1)}`, this.pos - 1);
    }
    if (dtype === undefined) this.fail(`${t} has no "dtype"`, at);
    if (shape === undefined) this.fail(`${t} has no "shape"`, at);
    if (offsets === undefined) this.fail(`${t} has no "data_offsets"`, at);
    return { name, at, dtype, shape, begin: offsets[0]!, end: offsets[1]!, offsetsAt };
  }

  /** The whole header. */
  header(): { entries: Entry[]; metadata: Record<string, string> } {
    if (this.peek() !== 0x7b) this.fail(`the header must start with '{', got ${this.describe()}`);
    this.pos++;
    const entries: Entry[] = [];
    let metadata: Record<string, string> | undefined;
    const names = new Set<string>();
    this.ws();
    if (this.peek() === 0x7d) {
      this.pos++;
    } else {
      for (;;) {
        this.ws();
        const keyAt = this.pos;
        const key = this.str('as a tensor name');
        if (names.has(key)) this.fail(`"${key}" appears twice in the header`, keyAt);
        names.add(key);
        this.ws();
        this.expect(':', `after "${key}"`);
        this.ws();
        if (key === '__metadata__') metadata = this.metadata();
        else entries.push(this.entry(key, keyAt));
        this.ws();
        const c = this.peek();
        this.pos++;
        if (c === 0x7d) break;
        if (c !== 0x2c) this.fail(`expected ',' or '}' after "${key}", got ${this.describe(this.pos - 1)}`, this.pos - 1);
      }
    }
    this.ws();
    if (this.pos < this.end) this.fail(`unexpected ${this.describe()} after the header object (only space padding may follow)`);
    return { entries, metadata: metadata ?? {} };
  }
}

// ---------------------------------------------------------------------------------
// Decoder

/**
 * Reads and validates a safetensors file of F32 tensors. Throws FormatError (what is
 * wrong, at which byte) on anything malformed; allocates only after the header has
 * been checked against the real byte length.
 */
export function decodeSafetensors(bytes: Uint8Array, opts: DecodeOptions = {}): DecodedSafetensors {
  const name = opts.name ?? 'safetensors file';
  const fail = (msg: string): never => {
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

  const { entries, metadata } = new HeaderParser(bytes, 8, dataStart, name).header();

  // Offsets and sizes, all before any allocation.
  for (const e of entries) {
    const t = `tensor "${e.name}" (header byte ${e.offsetsAt})`;
    if (e.begin > e.end) fail(`${t}: data_offsets [${e.begin}, ${e.end}) end before they begin`);
    if (e.end > dataLen) {
      fail(`${t}: data_offsets [${e.begin}, ${e.end}) reach past the end of the data section, which has ${dataLen} bytes (file bytes [${dataStart}, ${bytes.length})); the file is truncated or the offsets are wrong`);
    }
    const need = 4n * e.shape.reduce((a, d) => a * BigInt(d), 1n);
    if (need !== BigInt(e.end - e.begin)) {
      fail(`${t}: shape ${fmt(e.shape)} of F32 needs ${need} bytes, but data_offsets [${e.begin}, ${e.end}) hold ${e.end - e.begin}`);
    }
  }
  const order = entries.slice().sort((a, b) => a.begin - b.begin || a.end - b.end);
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

export interface ParamLike {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** A parameter file: the tensors in the given order, `config` as JSON in __metadata__.config. */
export function encodeParams(
  params: Record<string, ParamLike>,
  config?: Record<string, unknown>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const meta: Record<string, string> = { ...metadata };
  if (config !== undefined) meta.config = JSON.stringify(config);
  const tensors = Object.entries(params).map(([name, p]) => ({ name, shape: p.shape, data: p.data }));
  return encodeSafetensors(tensors, meta);
}

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

export interface DecodedParams {
  /** Values by parameter name, in the order of the file. */
  values: Record<string, Float32Array>;
  shapes: Record<string, number[]>;
  /** The model config from __metadata__.config, if present. */
  config: Record<string, unknown> | undefined;
  metadata: Record<string, string>;
}

/**
 * Decodes a parameter file and, when `expected` is given, checks that it holds exactly
 * those parameters with those shapes. Use it before touching a model: it throws
 * FormatError and returns nothing on any mismatch.
 */
export function decodeParams(
  bytes: Uint8Array,
  expected?: Record<string, readonly number[]>,
  opts: DecodeOptions = {},
): DecodedParams {
  const name = opts.name ?? 'safetensors file';
  const { tensors, metadata } = decodeSafetensors(bytes, opts);
  if (expected) {
    const want = Object.keys(expected);
    for (const k of want) {
      const t = tensors.get(k);
      if (!t) {
        throw new FormatError(
          `${name}: no tensor "${k}" (the model expects shape ${fmt(expected[k]!)}); the file holds ${[...tensors.keys()].map((s) => `"${s}"`).join(', ') || 'no tensors'}`,
        );
      }
      const s = expected[k]!;
      if (t.shape.length !== s.length || t.shape.some((d, i) => d !== s[i])) {
        throw new FormatError(`${name}: tensor "${k}" has shape ${fmt(t.shape)} in the file, but the model expects ${fmt(s)}`);
      }
    }
    for (const k of tensors.keys()) {
      if (!Object.prototype.hasOwnProperty.call(expected, k)) {
        throw new FormatError(`${name}: tensor "${k}" is not a parameter of the model (expected ${want.map((s) => `"${s}"`).join(', ')})`);
      }
    }
  }
  const config = configFromMetadata(metadata, name);
  return {
    values: Object.fromEntries([...tensors].map(([k, t]) => [k, t.data])),
    shapes: Object.fromEntries([...tensors].map(([k, t]) => [k, t.shape])),
    config,
    metadata,
  };
}
