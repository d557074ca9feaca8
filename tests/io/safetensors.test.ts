import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { FormatError, WasmCnnError } from '../../src/errors.js';
import {
  configFromMetadata,
  decodeSafetensors,
  encodeSafetensors,
  setHostEndiannessForTesting,
  SAFETENSORS_MAX_HEADER,
  type SafetensorsTensor,
} from '../../src/io/safetensors.js';

const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0));
const u64le = (n: number) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
  return [...b];
};

/** A file from a header string (padded with spaces to a multiple of 8) and raw data bytes. */
function raw(header: string, data: ArrayLike<number> = [], pad = true): Uint8Array {
  const h = new TextEncoder().encode(header);
  const n = pad ? Math.ceil(h.length / 8) * 8 : h.length;
  const out = new Uint8Array(8 + n + data.length).fill(0x20);
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
  out.set(h, 8);
  out.set(Array.from(data), 8 + n);
  return out;
}

/** Little-endian bytes of f32 values. */
function f32le(...v: number[]): number[] {
  const b = new Uint8Array(4 * v.length);
  const d = new DataView(b.buffer);
  v.forEach((x, i) => d.setFloat32(4 * i, x, true));
  return [...b];
}

function errorOf(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

/** Expects a FormatError whose message matches every pattern. */
function rejects(bytes: Uint8Array, ...patterns: RegExp[]): string {
  const e = errorOf(() => decodeSafetensors(bytes));
  if (!(e instanceof FormatError)) throw new Error(`expected FormatError, got ${e.name}: ${e.message}`);
  for (const p of patterns) expect(e.message).toMatch(p);
  return e.message;
}

afterEach(() => setHostEndiannessForTesting(undefined));

describe('safetensors byte layout', () => {
  it('matches a hand-made file byte for byte (one tensor, no metadata)', () => {
    // header: 54 bytes of JSON + 2 spaces = 56 = 0x38
    const handMade = new Uint8Array([
      0x38, 0, 0, 0, 0, 0, 0, 0,
      ...ascii('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'),
      0x20, 0x20,
      0x00, 0x00, 0x80, 0x3f, // 1.0f little-endian
      0x00, 0x00, 0x00, 0xc0, // -2.0f
    ]);
    const enc = encodeSafetensors([{ name: 'a', shape: [2], data: new Float32Array([1, -2]) }]);
    expect([...enc]).toEqual([...handMade]);
    const dec = decodeSafetensors(handMade);
    expect([...dec.tensors.keys()]).toEqual(['a']);
    expect(dec.tensors.get('a')!.shape).toEqual([2]);
    expect([...dec.tensors.get('a')!.data]).toEqual([1, -2]);
    expect(dec.metadata).toEqual({});
  });

  it('matches a hand-made file with __metadata__, two tensors and a scalar', () => {
    const header =
      '{"__metadata__":{"config":"{\\"k\\":1}"},' +
      '"w":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]},' +
      '"b":{"dtype":"F32","shape":[],"data_offsets":[8,12]}}';
    expect(header.length).toBe(147); // padded to 152 = 0x98
    const handMade = new Uint8Array([
      0x98, 0, 0, 0, 0, 0, 0, 0,
      ...ascii(header),
      0x20, 0x20, 0x20, 0x20, 0x20,
      0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0, // w = [1, -2]
      0x00, 0x00, 0x00, 0x3f, // b = 0.5
    ]);
    const enc = encodeSafetensors(
      [
        { name: 'w', shape: [1, 2], data: new Float32Array([1, -2]) },
        { name: 'b', shape: [], data: new Float32Array([0.5]) },
      ],
      { config: '{"k":1}' },
    );
    expect([...enc]).toEqual([...handMade]);
    const dec = decodeSafetensors(handMade);
    expect(dec.metadata).toEqual({ config: '{"k":1}' });
    expect(dec.tensors.get('b')).toEqual({ shape: [], data: new Float32Array([0.5]) });
  });

  it('reads a header of any length (not padded: the data section starts at file byte 116, not 8-aligned)', () => {
    const header = '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}';
    expect(header.length).toBe(108);
    const file = raw(header, f32le(1.5, -2, 3.25), false);
    expect(Number(new DataView(file.buffer).getBigUint64(0, true))).toBe(header.length);
    const dec = decodeSafetensors(file);
    expect([...dec.tensors].map(([k, t]) => [k, [...t.data]])).toEqual([['a', [1.5]], ['b', [-2, 3.25]]]);
    setHostEndiannessForTesting(false);
    expect([...decodeSafetensors(file).tensors.get('b')!.data]).toEqual([-2, 3.25]);
  });

  it('header length is a multiple of 8 and the data section starts 8-aligned', () => {
    for (let len = 0; len < 20; len++) {
      const enc = encodeSafetensors([{ name: 'x'.repeat(len), shape: [1], data: new Float32Array([3]) }]);
      const n = Number(new DataView(enc.buffer).getBigUint64(0, true));
      expect(n % 8).toBe(0);
      expect(enc[8]).toBe(0x7b);
      expect([...enc.subarray(8 + n)]).toEqual(f32le(3));
    }
  });

  it('the portable (big-endian host) path writes and reads the same bytes', () => {
    const ts: SafetensorsTensor[] = [
      { name: 'p', shape: [3], data: new Float32Array([1.5, -0, NaN]) },
      { name: 'q', shape: [2, 2], data: new Float32Array([1e-40, Infinity, -3.25, 7]) },
    ];
    const fast = encodeSafetensors(ts);
    setHostEndiannessForTesting(false);
    const slow = encodeSafetensors(ts);
    expect([...slow]).toEqual([...fast]);
    const dec = decodeSafetensors(fast);
    expect(new Uint8Array(dec.tensors.get('q')!.data.buffer)).toEqual(new Uint8Array(ts[1]!.data.buffer));
    expect(Object.is(dec.tensors.get('p')!.data[1], -0)).toBe(true);
  });
});

describe('safetensors round trip', () => {
  it('keeps names, order, shapes, metadata and exact bits (NaN, -0, subnormals, empty tensors)', () => {
    const ts: SafetensorsTensor[] = [
      { name: 'W1', shape: [2, 1, 2, 2], data: Float32Array.from({ length: 8 }, (_, i) => i / 7 - 0.5) },
      { name: 'b1', shape: [2], data: new Float32Array([NaN, -0]) },
      { name: 'empty', shape: [3, 0], data: new Float32Array(0) },
      { name: 'ünïcødé 名前 🙂', shape: [1], data: new Float32Array([1.4e-45]) },
      { name: '', shape: [], data: new Float32Array([Infinity]) },
      { name: '0', shape: [1], data: new Float32Array([-Infinity]) },
    ];
    const meta = { config: JSON.stringify({ type: 'SimpleConvNet', hiddenSize: 100 }), note: 'quote " and \\ and \n' };
    const dec = decodeSafetensors(encodeSafetensors(ts, meta));
    expect([...dec.tensors.keys()]).toEqual(ts.map((t) => t.name));
    for (const t of ts) {
      const d = dec.tensors.get(t.name)!;
      expect(d.shape).toEqual(t.shape);
      expect(new Uint8Array(d.data.buffer)).toEqual(new Uint8Array(t.data.buffer));
    }
    expect(dec.metadata).toEqual(meta);
  });

  it('reads from an unaligned view and copies the data out', () => {
    const enc = encodeSafetensors([{ name: 'x', shape: [2], data: new Float32Array([1, 2]) }]);
    const big = new Uint8Array(enc.length + 3);
    big.set(enc, 3);
    const view = big.subarray(3);
    const dec = decodeSafetensors(view);
    const x = dec.tensors.get('x')!.data;
    expect([...x]).toEqual([1, 2]);
    expect(x.buffer).not.toBe(big.buffer);
    big.fill(0);
    expect([...x]).toEqual([1, 2]);
  });

  it('fast-check: random tensors and metadata round trip exactly', () => {
    const tensorArb = fc.record({
      name: fc.string({ maxLength: 12 }),
      shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 4 }),
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(tensorArb, { selector: (t) => t.name, maxLength: 6 }).map((arr) => arr.filter((t) => t.name !== '__metadata__')),
        fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 16 }), { maxKeys: 4 }),
        fc.integer(),
        (specs, meta, seed) => {
          let s = seed;
          const ts = specs.map(({ name, shape }) => {
            const n = shape.reduce((a, d) => a * d, 1);
            const data = Float32Array.from({ length: n }, () => ((s = (s * 1103515245 + 12345) | 0) / 2 ** 31) * 100);
            return { name, shape, data };
          });
          const dec = decodeSafetensors(encodeSafetensors(ts, meta));
          expect([...dec.tensors.keys()]).toEqual(ts.map((t) => t.name));
          for (const t of ts) expect(dec.tensors.get(t.name)).toEqual({ shape: t.shape, data: t.data });
          expect(dec.metadata).toEqual({ ...meta });
        },
      ),
      { numRuns: 300, seed: 20261128 },
    );
  });

  it('a "__proto__" name or metadata key is an ordinary key (no prototype pollution)', () => {
    const enc = encodeSafetensors([{ name: '__proto__', shape: [1], data: new Float32Array([1]) }], JSON.parse('{"__proto__":"x"}'));
    const dec = decodeSafetensors(enc);
    expect(dec.tensors.get('__proto__')!.data[0]).toBe(1);
    expect(Object.getPrototypeOf(dec.metadata)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(dec.metadata, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('encoder rejects bad input with WasmCnnError', () => {
    const d = new Float32Array(2);
    expect(() => encodeSafetensors([{ name: 'a', shape: [3], data: d }])).toThrow(/shape \(3\) holds 3 values, but data has 2/);
    expect(() => encodeSafetensors([{ name: 'a', shape: [2], data: d }, { name: 'a', shape: [2], data: d }])).toThrow(/appears twice/);
    expect(() => encodeSafetensors([{ name: '__metadata__', shape: [2], data: d }])).toThrow(/reserved/);
    expect(() => encodeSafetensors([{ name: 'a', shape: [-2], data: d }])).toThrow(WasmCnnError);
    expect(() => encodeSafetensors([], { n: 1 as unknown as string })).toThrow(/only string values/);
    expect(() => encodeSafetensors([{ name: '\ud800', shape: [2], data: d }])).toThrow(/well-formed/);
  });
});

describe('safetensors rejects corrupt files with FormatError', () => {
  const good = () =>
    encodeSafetensors(
      [
        { name: 'a', shape: [2], data: new Float32Array([1, 2]) },
        { name: 'b', shape: [1], data: new Float32Array([3]) },
      ],
      { config: '{}' },
    );
  const entry = (name: string, shape: number[], b: number, e: number, dtype = 'F32') =>
    `"${name}":{"dtype":"${dtype}","shape":${JSON.stringify(shape)},"data_offsets":[${b},${e}]}`;

  it('too short for the length field', () => {
    rejects(new Uint8Array(0), /0 bytes/, /8-byte header length/);
    rejects(new Uint8Array(7), /7 bytes/);
  });

  it('a header length beyond the file (2^40, 2^64-1) is a FormatError, not RangeError or OOM', () => {
    for (const n of [2 ** 40, 2 ** 53, 1e19]) {
      const b = good();
      new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
      rejects(b, /header length \d+ \(bytes 0-7/, /larger than the \d+ bytes that follow/);
    }
    const b = good();
    new DataView(b.buffer).setBigUint64(0, 0xffffffffffffffffn, true);
    rejects(b, /18446744073709551615/);
  });

  it('a header length above the 100 MB limit is rejected before reading it', () => {
    const n = SAFETENSORS_MAX_HEADER + 8;
    const b = new Uint8Array(8 + n);
    new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
    b[8] = 0x7b;
    rejects(b, /exceeds the 100000000-byte limit/);
  });

  it('an empty or tiny header', () => {
    rejects(new Uint8Array(8), /header length 0/);
    rejects(raw('{', [], false), /header length 1/);
    rejects(raw('', []), /header length 0/);
  });

  it('a header that does not start with {', () => {
    rejects(raw(' {}'), /must start with '\{'/, /byte 8/);
    rejects(raw('[]'), /must start with '\{', got '\['/);
    const b = good();
    b[8] = 0;
    rejects(b, /must start with/, /byte 8/);
  });

  it('a flipped byte in the header names the byte', () => {
    const b = good();
    const header = new TextDecoder().decode(b.subarray(8, 60));
    const colon = 8 + header.indexOf(':');
    b[colon] = 0x3b; // ';'
    rejects(b, /the header is not valid JSON: /, new RegExp(`at byte ${colon}$`));
    const c = good();
    const q = 8 + header.indexOf('"config"') + 3;
    c[q] = 0x22; // an extra quote ends the key early
    rejects(c, /at byte \d+$/);
  });

  it('truncated data', () => {
    const b = good();
    rejects(b.subarray(0, b.length - 4), /tensor "b"/, /reach past the end of the data section, which has 8 bytes/);
    rejects(b.subarray(0, b.length - 1), /reach past the end/);
    // truncated inside the header
    rejects(b.subarray(0, 20), /header length \d+ .* larger than the 12 bytes that follow/);
  });

  it('shape and data_offsets that disagree', () => {
    rejects(raw(`{${entry('w', [3], 0, 8)}}`, f32le(1, 2)), /tensor "w"/, /shape \(3\) of F32 needs 12 bytes, but data_offsets \[0, 8\) hold 8/);
    rejects(raw(`{${entry('w', [2, 2], 0, 8)}}`, f32le(1, 2)), /\(2, 2\) of F32 needs 16 bytes/);
    rejects(raw(`{${entry('w', [2 ** 40, 2 ** 40, 2 ** 40], 0, 8)}}`, f32le(1, 2)), /needs \d+ bytes/);
  });

  it('unknown or unsupported dtypes name the dtype and the tensor', () => {
    rejects(raw(`{${entry('w', [2], 0, 8, 'F16')}}`, f32le(1, 2)), /tensor "w" has dtype "F16"; wasm-cnn stores and reads only F32 \(entry at byte 9\)$/);
    rejects(raw(`{${entry('w', [2], 0, 8, 'F33')}}`, f32le(1, 2)), /tensor "w" has unknown dtype "F33"/);
    rejects(raw(`{"w":{"dtype":32,"shape":[2],"data_offsets":[0,8]}}`, f32le(1, 2)), /expected a string as the dtype of tensor "w", got a number/);
  });

  it('overlapping offsets', () => {
    rejects(raw(`{${entry('a', [2], 0, 8)},${entry('b', [2], 4, 12)}}`, f32le(1, 2, 3)), /tensor "b" data_offsets \[4, 12\) overlap tensor "a" \[0, 8\)/);
    rejects(raw(`{${entry('a', [2], 0, 8)},${entry('b', [2], 0, 8)}}`, f32le(1, 2)), /overlap/);
    rejects(raw(`{${entry('a', [3], 0, 12)},${entry('z', [0], 4, 4)}}`, f32le(1, 2, 3)), /tensor "z" .* overlap/);
  });

  it('gaps and uncovered bytes (the data section must be fully covered)', () => {
    rejects(raw(`{${entry('a', [2], 0, 8)},${entry('b', [1], 12, 16)}}`, f32le(1, 2, 3, 4)), /data bytes \[8, 12\)/, /belong to no tensor: a gap before tensor "b"/);
    rejects(raw(`{${entry('a', [1], 4, 8)}}`, f32le(1, 2)), /gap before tensor "a"/);
    rejects(raw(`{${entry('a', [1], 0, 4)}}`, f32le(1, 2)), /4 bytes at the end of the data section .* belong to no tensor/);
    rejects(raw('{}', [1, 2, 3]), /3 bytes at the end/);
  });

  it('bad data_offsets', () => {
    const h = (o: string) => raw(`{"a":{"dtype":"F32","shape":[1],"data_offsets":${o}}}`, f32le(1));
    rejects(h('[4,0]'), /end before they begin/);
    rejects(h('[0,4,8]'), /data_offsets must be \[begin, end\], got 3 numbers/);
    rejects(h('[0]'), /data_offsets must be \[begin, end\], got 1 numbers/);
    rejects(h('[-1,4]'), /a negative number at byte 56; shapes and data_offsets are non-negative integers/);
    rejects(h('[0.5,4]'), /a number with a fraction at byte 57/);
    rejects(h('[0,4e0]'), /a number with an exponent at byte 59/);
    rejects(h('[0,4E0]'), /exponent/);
    rejects(h('[00,4]'), /not valid JSON: .* at byte 57$/); // leading zeros
    rejects(h('[0,100000000000000000000000000000]'), /an element of the data_offsets of tensor "a" is too large \(above 2\^53 - 1\)/);
    rejects(h('[0,9007199254740993]'), /too large/);
    rejects(h('"0-4"'), /the data_offsets of tensor "a" must be an array of non-negative integers, got a string/);
    rejects(h('[0,null]'), /got null/);
  });

  it('wrong entry structure', () => {
    rejects(raw('{"a":[1,2]}'), /tensor "a": expected an object \{dtype, shape, data_offsets\}, got an array \(entry at byte 9\)/);
    rejects(raw('{"a":{}}'), /tensor "a" has no dtype, shape or data_offsets/);
    rejects(raw('{"a":{"dtype":"F32","shape":[1]}}', f32le(1)), /tensor "a" has no "data_offsets"/);
    rejects(raw('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"extra":1}}', f32le(1)), /unknown field "extra"/);
    rejects(raw('{"a":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}', f32le(1)), /tensor "a": field "dtype" appears twice \(bytes 14 and 28\)/);
    rejects(raw(`{${entry('a', [1], 0, 4)},${entry('a', [1], 4, 8)}}`, f32le(1, 2)), /"a" appears twice in the header \(bytes 9 and 62\)/);
    rejects(raw('{"a":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}}', f32le(1)), /a number with a fraction at byte 38/);
    rejects(raw(`{"a":{"dtype":"F32","shape":[${Array(65).fill(1)}],"data_offsets":[0,4]}}`, f32le(1)), /an array in the header has more than 64 elements at byte 164/);
    expect(decodeSafetensors(raw(`{"a":{"dtype":"F32","shape":[${Array(64).fill(1)}],"data_offsets":[0,4]}}`, f32le(1))).tensors.get('a')!.shape).toHaveLength(64);
    rejects(raw(`{${entry('a', [1], 0, 4)},}`, f32le(1)), /not valid JSON: .* at byte 62$/);
    rejects(raw(`{${entry('a', [1], 0, 4)}} x`, f32le(1)), /not valid JSON: .* at byte 63$/);
    rejects(raw(`{${entry('a', [1], 0, 4)}}{}`, f32le(1)), /not valid JSON: .* at byte 62$/);
    rejects(raw(`{${entry('a', [1], 0, 4)}`, f32le(1)), /not valid JSON/);
    // a name that is not well-formed Unicode, and prototype names as plain tensors
    rejects(raw(`{${entry('\\ud800', [1], 0, 4)}}`, f32le(1)), /tensor name "\\ud800" is not well-formed Unicode/);
    rejects(raw(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"__proto__":{}}}`, f32le(1)), /unknown field "__proto__"/);
    const proto = decodeSafetensors(raw(`{${entry('constructor', [1], 0, 4)},${entry('__proto__', [1], 4, 8)}}`, f32le(1, 2)));
    expect([...proto.tensors].map(([k, t]) => [k, [...t.data]])).toEqual([['constructor', [1]], ['__proto__', [2]]]);
    rejects(raw(`{${entry('__proto__', [1], 0, 4)},${entry('__proto__', [1], 4, 8)}}`, f32le(1, 2)), /"__proto__" appears twice in the header/);
    // equal keys written differently are still duplicates
    rejects(raw(`{${entry('a', [1], 0, 4)},${entry('\\u0061', [1], 4, 8)}}`, f32le(1, 2)), /"a" appears twice in the header \(bytes 9 and 62\)/);
  });

  it('metadata with non-string values, or not an object', () => {
    rejects(raw('{"__metadata__":{"epochs":20}}'), /__metadata__ "epochs" is a number; safetensors allows only string values there$/);
    rejects(raw('{"__metadata__":{"c":{"a":"b"}}}'), /__metadata__ "c" is an object/);
    rejects(raw('{"__metadata__":{"c":true}}'), /is a boolean/);
    rejects(raw('{"__metadata__":{"c":null}}'), /is null/);
    rejects(raw('{"__metadata__":["x"]}'), /__metadata__ must be an object of strings, got an array/);
    rejects(raw('{"__metadata__":"x"}'), /got a string/);
    rejects(raw('{"__metadata__":{"a":"1","a":"2"}}'), /__metadata__ key "a" appears twice \(bytes 25 and 33\)/);
    expect(decodeSafetensors(raw('{"__metadata__":null}')).metadata).toEqual({});
  });

  it('a header that is not UTF-8', () => {
    const utf8Bad = (bytes: number[]) => {
      const b = raw('{"__metadata__":{"k":"XXXX"}}');
      const at = 8 + 22;
      b.set(bytes, at);
      return rejects(b, /not valid UTF-8: invalid byte sequence starting with 0x/, new RegExp(`at byte ${at}$`));
    };
    utf8Bad([0xff]);
    utf8Bad([0xc0, 0x80]); // overlong
    utf8Bad([0xed, 0xa0, 0x80]); // surrogate
    utf8Bad([0xf4, 0x90, 0x80, 0x80]); // > U+10FFFF
    utf8Bad([0xe2, 0x82]); // truncated sequence
    // outside strings
    rejects(raw('{\xff}'.replace('\xff', ' ')).map((x, i) => (i === 9 ? 0xff : x)), /not valid UTF-8: invalid byte sequence starting with 0xff at byte 9$/);
    // a genuine U+FFFD before the bad byte is not mistaken for it
    const fffd = raw('{"__metadata__":{"k":"\ufffdé\ufffdXXXX"}}');
    fffd[8 + 30] = 0xff;
    rejects(fffd, /invalid byte sequence starting with 0xff at byte 38$/);
    // escapes that are not Unicode
    rejects(raw('{"__metadata__":{"k":"\\ud800"}}'), /__metadata__ "k" is not well-formed Unicode \(a lone surrogate escape\)/);
    rejects(raw('{"__metadata__":{"k":"\\udc00"}}'), /lone surrogate/);
    rejects(raw('{"__metadata__":{"\\udc00x":"v"}}'), /lone surrogate/);
    rejects(raw('{"__metadata__":{"k":"\\x41"}}'), /not valid JSON: .* at byte 31$/); // an invalid escape
    rejects(raw('{"__metadata__":{"k":"a\tb"}}'), /not valid JSON: .* at byte 31$/); // a raw control character
    rejects(raw('{"__metadata__":{"k":"abc}}'), /not valid JSON/); // an unterminated string
    // byte positions after multi-byte characters
    rejects(raw('{"__metadata__":{"é😀":"v";}}'), /not valid JSON: .* at byte 37$/);
    // valid escapes decode
    expect(decodeSafetensors(raw('{"__metadata__":{"k":"\\u00e9\\ud83d\\ude00\\n\\/"}}')).metadata.k).toBe('é😀\n/');
  });

  it('deeply nested JSON is refused before JSON.parse, at the first bracket past depth 3', () => {
    const deep = '{"a":' + '['.repeat(1_000_000) + ']'.repeat(1_000_000) + '}';
    rejects(raw(deep), /the header nests deeper than 3 levels at byte 15 /);
    const deepMeta = '{"__metadata__":{"k":' + '{"k":'.repeat(100_000) + '"v"' + '}'.repeat(100_001) + '}';
    rejects(raw(deepMeta), /nests deeper than 3 levels at byte 34 /);
    rejects(raw('['.repeat(1_000_000)), /must start with '\{'/);
    // brackets inside strings do not count
    expect(decodeSafetensors(raw('{"__metadata__":{"k":"[[[[{{{{\\"]]]]"}}')).metadata.k).toBe('[[[[{{{{"]]]]');
  });

  it('a large but valid header is fine, and a bogus one of 100,000 empty entries is refused at the first', () => {
    const meta: Record<string, string> = {};
    for (let i = 0; i < 20000; i++) meta[`k${i}`] = 'v'.repeat(50);
    expect(Object.keys(decodeSafetensors(encodeSafetensors([], meta)).metadata)).toHaveLength(20000);
    // 1 MB of empty entries: JSON.parse builds them all (time and memory linear in the header,
    // which is at most 100 MB), the validator stops at the first
    const bogus = '{' + Array.from({ length: 100_000 }, (_, i) => `"${i}":{}`).join(',') + '}';
    const t0 = performance.now();
    rejects(raw(bogus), /tensor "0" has no dtype, shape or data_offsets/);
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it('fast-check: thousands of random mutations either decode or throw FormatError, never anything else', () => {
    const base = encodeSafetensors(
      [
        { name: 'W1', shape: [2, 1, 2, 2], data: Float32Array.from({ length: 8 }, (_, i) => i) },
        { name: 'b1', shape: [2], data: new Float32Array([0.5, -0.5]) },
        { name: 'e', shape: [0], data: new Float32Array(0) },
      ],
      { config: '{"type":"SimpleConvNet","convParam":{"filterNum":2}}', v: '1' },
    );
    const headerEnd = 8 + Number(new DataView(base.buffer).getBigUint64(0, true));
    const special = ascii('{}[]":,0123456789-.eE \\u"ñ').concat([0x00, 0x80, 0xc3, 0xff, 0xed]);
    const mutation = fc.oneof(
      // any byte anywhere
      fc.record({ kind: fc.constant('set' as const), at: fc.nat(base.length - 1), v: fc.integer({ min: 0, max: 255 }) }),
      // a JSON-ish byte inside the header
      fc.record({ kind: fc.constant('set' as const), at: fc.integer({ min: 8, max: headerEnd - 1 }), v: fc.constantFrom(...special) }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat(base.length), v: fc.constant(0) }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.integer({ min: 8, max: base.length }), v: fc.constantFrom(...special) }),
      fc.record({ kind: fc.constant('delete' as const), at: fc.integer({ min: 8, max: base.length - 1 }), v: fc.constant(0) }),
      // the length field
      fc.record({ kind: fc.constant('length' as const), at: fc.constant(0), v: fc.oneof(fc.nat(base.length + 16), fc.integer({ min: 0, max: 2 ** 31 })) }),
      fc.record({ kind: fc.constant('hilength' as const), at: fc.integer({ min: 4, max: 7 }), v: fc.integer({ min: 1, max: 255 }) }),
    );
    const apply = (b: Uint8Array, m: { kind: string; at: number; v: number }): Uint8Array => {
      switch (m.kind) {
        case 'set': {
          const c = b.slice();
          if (m.at < c.length) c[m.at] = m.v;
          return c;
        }
        case 'truncate':
          return b.slice(0, m.at);
        case 'insert': {
          if (m.at > b.length) return b;
          const c = new Uint8Array(b.length + 1);
          c.set(b.subarray(0, m.at));
          c[m.at] = m.v;
          c.set(b.subarray(m.at), m.at + 1);
          return c;
        }
        case 'delete':
          return m.at < b.length ? Uint8Array.from([...b.subarray(0, m.at), ...b.subarray(m.at + 1)]) : b;
        case 'length': {
          const c = b.slice();
          if (c.length >= 8) new DataView(c.buffer).setBigUint64(0, BigInt(m.v), true);
          return c;
        }
        default: {
          const c = b.slice();
          if (m.at < c.length) c[m.at] = m.v;
          return c;
        }
      }
    };
    // what the test wrote: the tensors in data-section order, their shapes and data_offsets
    const layout = [
      { shape: [2, 1, 2, 2], begin: 0, end: 32 },
      { shape: [2], begin: 32, end: 40 },
      { shape: [0], begin: 40, end: 40 },
    ];
    const original = [Float32Array.from({ length: 8 }, (_, i) => i), new Float32Array([0.5, -0.5]), new Float32Array(0)];
    let changed = 0;
    let rejected = 0;
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (ms) => {
        const bytes = ms.reduce(apply, base);
        let d: ReturnType<typeof decodeSafetensors>;
        try {
          d = decodeSafetensors(bytes);
        } catch (e) {
          if (!(e instanceof FormatError)) throw e;
          expect(e.message).toMatch(/^safetensors file: .*\S/);
          rejected++;
          return;
        }
        // a file that decodes holds the test's tensors (names may have changed inside their
        // strings) and their values are the mutated bytes at the offsets the test wrote, read
        // here with a DataView after the length field
        const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        const dataStart = 8 + Number(view.getBigUint64(0, true));
        expect(bytes.length - dataStart).toBe(40);
        const got = [...d.tensors.values()];
        expect(got.map((t) => t.shape)).toEqual(layout.map((l) => l.shape));
        let differs = false;
        got.forEach((t, i) => {
          const { begin, end } = layout[i]!;
          const want = Array.from({ length: (end - begin) / 4 }, (_, k) => view.getFloat32(dataStart + begin + 4 * k, true));
          expect(t.data.length).toBe(want.length);
          want.forEach((w, k) => expect(Object.is(t.data[k], w), `tensor ${i} value ${k}: ${t.data[k]} vs ${w}`).toBe(true));
          if (want.some((w, k) => !Object.is(w, original[i]![k]))) differs = true;
        });
        if (differs) changed++;
      }),
      { numRuns: 4000, seed: 20261128 },
    );
    expect(rejected).toBeGreaterThan(1000);
    // the value check saw files whose data the mutations changed
    expect(changed).toBeGreaterThan(0);
  });
});

describe('the model config in __metadata__', () => {
  it('configFromMetadata rejects bad config JSON safely', () => {
    expect(configFromMetadata({})).toBeUndefined();
    expect(() => configFromMetadata({ config: '{bad' })).toThrow(/__metadata__.config is not valid JSON/);
    expect(() => configFromMetadata({ config: '[1]' })).toThrow(/must be a JSON object/);
    expect(() => configFromMetadata({ config: '"x"' })).toThrow(FormatError);
    expect(() => configFromMetadata({ config: '['.repeat(100) + ']'.repeat(100) })).toThrow(/nests deeper than 32/);
    expect(() => configFromMetadata({ config: ' '.repeat(2 << 20) })).toThrow(/characters; at most/);
    expect(configFromMetadata({ config: '{"a":"[[[[{{{{"}' })).toEqual({ a: '[[[[{{{{' });
  });
});
