// Byte-level mutations for the fuzz suites: flipped and overwritten bytes, truncation,
// extension, insertion, deletion, and u32 / u64 fields set to edge or huge values.
import fc from 'fast-check';

export type Mutation =
  | { kind: 'flip'; pos: number; xor: number }
  | { kind: 'set'; pos: number; value: number }
  | { kind: 'truncate'; len: number }
  | { kind: 'extend'; bytes: Uint8Array }
  | { kind: 'insert'; pos: number; bytes: Uint8Array }
  | { kind: 'delete'; pos: number; count: number }
  | { kind: 'u32be'; pos: number; value: number }
  | { kind: 'u64le'; pos: number; value: bigint }
  | { kind: 'splice'; pos: number; text: string };

/** Edge and huge values for size fields. */
export const EDGE_U32 = [0, 1, 2, 3, 4, 5, 7, 8, 255, 256, 0x7fff, 0xffff, 0x10000, 0xffffff, 0x1000000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
export const EDGE_U64 = [0n, 1n, 2n, 7n, 8n, 255n, 0x7fffffffn, 0xffffffffn, 0x100000000n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n];

const pos = fc.nat({ max: 4096 });
const smallBytes = fc.uint8Array({ minLength: 1, maxLength: 24 });

/** A mutation whose positions are taken modulo the file length when applied. */
export function mutation(opts: { u32At?: number[]; u64At?: number[]; texts?: string[] } = {}): fc.Arbitrary<Mutation> {
  const arbs: fc.Arbitrary<Mutation>[] = [
    fc.record({ kind: fc.constant('flip' as const), pos, xor: fc.integer({ min: 1, max: 255 }) }),
    fc.record({ kind: fc.constant('set' as const), pos, value: fc.constantFrom(0, 1, 0x20, 0x22, 0x2c, 0x30, 0x39, 0x5b, 0x5d, 0x7b, 0x7d, 0x7f, 0x80, 0xc0, 0xed, 0xff) }),
    fc.record({ kind: fc.constant('truncate' as const), len: pos }),
    fc.record({ kind: fc.constant('extend' as const), bytes: smallBytes }),
    fc.record({ kind: fc.constant('insert' as const), pos, bytes: smallBytes }),
    fc.record({ kind: fc.constant('delete' as const), pos, count: fc.integer({ min: 1, max: 16 }) }),
  ];
  if (opts.u32At?.length) {
    arbs.push(fc.record({
      kind: fc.constant('u32be' as const), pos: fc.constantFrom(...opts.u32At),
      value: fc.oneof(fc.constantFrom(...EDGE_U32), fc.nat({ max: 0xffffffff })),
    }));
  }
  if (opts.u64At?.length) {
    arbs.push(fc.record({
      kind: fc.constant('u64le' as const), pos: fc.constantFrom(...opts.u64At),
      value: fc.oneof(fc.constantFrom(...EDGE_U64), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.bigInt({ min: 0n, max: 4096n })),
    }));
  }
  if (opts.texts?.length) {
    arbs.push(fc.record({ kind: fc.constant('splice' as const), pos, text: fc.constantFrom(...opts.texts) }));
  }
  return fc.oneof(...arbs);
}

/** Applies mutations in order to a copy of `bytes`. */
export function applyMutations(bytes: Uint8Array, ms: readonly Mutation[]): Uint8Array {
  let b: Uint8Array = new Uint8Array(bytes);
  for (const m of ms) {
    const at = (p: number, len = b.length) => (len === 0 ? 0 : p % len);
    switch (m.kind) {
      case 'flip':
        if (b.length) b[at(m.pos)] ^= m.xor;
        break;
      case 'set':
        if (b.length) b[at(m.pos)] = m.value;
        break;
      case 'truncate':
        b = b.slice(0, at(m.len, b.length + 1));
        break;
      case 'extend':
        b = concat(b, m.bytes);
        break;
      case 'insert': {
        const p = at(m.pos, b.length + 1);
        b = concat(b.subarray(0, p), m.bytes, b.subarray(p));
        break;
      }
      case 'delete': {
        const p = at(m.pos, b.length + 1);
        b = concat(b.subarray(0, p), b.subarray(Math.min(b.length, p + m.count)));
        break;
      }
      case 'u32be':
        if (m.pos + 4 <= b.length) new DataView(b.buffer, b.byteOffset).setUint32(m.pos, m.value, false);
        break;
      case 'u64le':
        if (m.pos + 8 <= b.length) new DataView(b.buffer, b.byteOffset).setBigUint64(m.pos, m.value, true);
        break;
      case 'splice': {
        const p = at(m.pos, b.length + 1);
        b = concat(b.subarray(0, p), new TextEncoder().encode(m.text), b.subarray(p));
        break;
      }
    }
  }
  return b;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
