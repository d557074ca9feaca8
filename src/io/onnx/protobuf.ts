/**
 * The protobuf wire format (https://protobuf.dev/programming-guides/encoding/), just what
 * the ONNX messages need: varints (int32/int64/enum, two's complement for negatives),
 * fixed32 floats, and length-delimited fields (strings, bytes, sub-messages, packed
 * repeated values). Groups (wire types 3 and 4) are refused; unknown fields are skipped.
 *
 * Reading never allocates from a size it has not checked: every length is compared with
 * the bytes that remain in the enclosing message first, and bytes/sub-messages are views.
 */
import { FormatError } from '../../errors.js';

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

const TWO_32 = 2 ** 32;
const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

/** A cursor over one message: [pos, end) of `bytes`; `path` names the message in errors. */
export class ProtoReader {
  pos: number;

  constructor(readonly bytes: Uint8Array, start: number, readonly end: number, readonly path: string, readonly where: string) {
    this.pos = start;
  }

  /** A FormatError naming the byte and the message being read. */
  fail(message: string, at = this.pos): never {
    throw new FormatError(`${this.where}: malformed ONNX file: byte ${at} (${this.path}): ${message}`);
  }

  done(): boolean {
    return this.pos >= this.end;
  }

  /** The next field's number and wire type. */
  tag(): { field: number; wire: number; at: number } {
    const at = this.pos;
    const v = this.uint64();
    const wire = v % 8;
    const field = Math.floor(v / 8);
    if (field < 1 || field > 0x1fffffff) this.fail(`field number ${field} is out of range`, at);
    if (wire !== WIRE_VARINT && wire !== WIRE_FIXED64 && wire !== WIRE_LEN && wire !== WIRE_FIXED32) {
      this.fail(`field ${field} has wire type ${wire}${wire === 3 || wire === 4 ? ' (a group, not supported)' : ' (not a protobuf wire type)'}`, at);
    }
    return { field, wire, at };
  }

  /** The low and high 32 bits of the next varint (at most 10 bytes). */
  private varint64(): [number, number] {
    const b = this.bytes;
    let lo = 0;
    let hi = 0;
    const at = this.pos;
    for (let i = 0; ; i++) {
      if (this.pos >= this.end) this.fail(i === 0 ? 'a varint is missing (the message ends)' : 'a varint runs past the end of the message', at);
      if (i >= 10) this.fail('a varint is longer than 10 bytes', at);
      const x = b[this.pos++];
      const bits = x & 0x7f;
      if (i < 4) lo |= bits << (7 * i);
      else if (i === 4) {
        lo |= (bits & 0x0f) << 28;
        hi |= bits >> 4;
      } else hi |= bits << (7 * i - 32);
      if (!(x & 0x80)) break;
    }
    return [lo >>> 0, hi >>> 0];
  }

  /** An unsigned varint as a number (inexact above 2^53; callers check Number.isSafeInteger). */
  uint64(): number {
    const [lo, hi] = this.varint64();
    return hi * TWO_32 + lo;
  }

  /** A signed int64/int32/enum varint (two's complement) as a number (inexact beyond +-2^53). */
  int64(): number {
    const [lo, hi] = this.varint64();
    if (hi < 0x80000000) return hi * TWO_32 + lo;
    const nlo = (~lo + 1) >>> 0;
    const nhi = (~hi + (nlo === 0 ? 1 : 0)) >>> 0;
    return -(nhi * TWO_32 + nlo);
  }

  float32(): number {
    if (this.end - this.pos < 4) this.fail('a 4-byte float runs past the end of the message');
    const v = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.pos, 4).getFloat32(0, true);
    this.pos += 4;
    return v;
  }

  /** The next length-delimited field's bytes (a view), its length checked against what remains. */
  bytesView(): Uint8Array {
    const at = this.pos;
    const n = this.uint64();
    const left = this.end - this.pos;
    if (n > left) this.fail(`a length-delimited field declares ${n} bytes, but only ${left} remain in the message`, at);
    const v = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  string(): string {
    const at = this.pos;
    const v = this.bytesView();
    try {
      return utf8.decode(v);
    } catch {
      return this.fail('a string is not valid UTF-8', at);
    }
  }

  /** A reader over the next length-delimited field, a sub-message named `path`. */
  message(path: string): ProtoReader {
    const v = this.bytesView();
    return new ProtoReader(this.bytes, v.byteOffset - this.bytes.byteOffset, v.byteOffset - this.bytes.byteOffset + v.length, path, this.where);
  }

  /** Skips a field of the given wire type. */
  skip(wire: number): void {
    switch (wire) {
      case WIRE_VARINT: this.varint64(); break;
      case WIRE_FIXED64:
        if (this.end - this.pos < 8) this.fail('an 8-byte field runs past the end of the message');
        this.pos += 8;
        break;
      case WIRE_FIXED32:
        if (this.end - this.pos < 4) this.fail('a 4-byte field runs past the end of the message');
        this.pos += 4;
        break;
      default: this.bytesView();
    }
  }

  /** Appends a repeated int64 field, packed (wire type 2) or not (wire type 0), to `out`. */
  int64s(wire: number, out: number[], field: string): void {
    if (wire === WIRE_VARINT) out.push(this.int64());
    else if (wire === WIRE_LEN) {
      const r = this.message(this.path);
      while (!r.done()) out.push(r.int64());
      this.pos = r.end;
    } else this.fail(`${field} has wire type ${wire}, expected 0 or 2`);
  }

  /** Appends a repeated float field, packed or not, to `out` (packed runs as views). */
  floats(wire: number, out: (number | Uint8Array)[], field: string): void {
    if (wire === WIRE_FIXED32) out.push(this.float32());
    else if (wire === WIRE_LEN) {
      const at = this.pos;
      const v = this.bytesView();
      if (v.length % 4 !== 0) this.fail(`packed ${field} has ${v.length} bytes, not a multiple of 4`, at);
      out.push(v);
    } else this.fail(`${field} has wire type ${wire}, expected 5 or 2`);
  }

  /** Fails unless the field has the expected wire type. */
  expect(wire: number, expected: number, field: string, at: number): void {
    if (wire !== expected) this.fail(`${field} has wire type ${wire}, expected ${expected}`, at);
  }
}

/** Builds one message; sub-messages are built by their own writers and embedded. */
export class ProtoWriter {
  private buf = new Uint8Array(256);
  private len = 0;

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
  }

  private rawVarint(v: number): void {
    this.room(10);
    if (v < 0) {
      // two's complement in 64 bits, always 10 bytes
      let x = BigInt.asUintN(64, BigInt(v));
      for (let i = 0; i < 10; i++) {
        const bits = Number(x & 0x7fn);
        x >>= 7n;
        this.buf[this.len++] = x === 0n ? bits : bits | 0x80;
        if (x === 0n) break;
      }
      return;
    }
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.len++] = v;
  }

  private key(field: number, wire: number): void {
    this.rawVarint(field * 8 + wire);
  }

  /** An int32/int64/enum field (safe integers; negatives as 10-byte two's complement). */
  int(field: number, v: number): this {
    if (!Number.isSafeInteger(v)) throw new RangeError(`protobuf field ${field}: ${v} is not a safe integer`);
    this.key(field, WIRE_VARINT);
    this.rawVarint(v);
    return this;
  }

  float(field: number, v: number): this {
    this.key(field, WIRE_FIXED32);
    this.room(4);
    new DataView(this.buf.buffer, this.len, 4).setFloat32(0, v, true);
    this.len += 4;
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.key(field, WIRE_LEN);
    this.rawVarint(b.length);
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, utf8Encoder.encode(s));
  }

  message(field: number, m: ProtoWriter): this {
    return this.bytes(field, m.finish());
  }

  /** A packed repeated int64 field (written even when empty only if `always`). */
  packedInts(field: number, values: readonly number[]): this {
    const w = new ProtoWriter();
    for (const v of values) {
      if (!Number.isSafeInteger(v)) throw new RangeError(`protobuf field ${field}: ${v} is not a safe integer`);
      w.rawVarint(v);
    }
    return this.bytes(field, w.finish());
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}
