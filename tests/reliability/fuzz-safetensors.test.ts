// Fuzzing parameter files (seeded, repeatable): 10,000 mutations of a real model's
// safetensors file per backend, loaded through the model's loadParams and through
// modelFromSafetensors. Mutations: byte flips, truncation, extension, insertion and
// deletion; header-length edits (huge, off by a few); header edits that keep the length
// prefix right (dtype, shape and data_offsets replaced, huge, negative, fractional,
// overlapping, out of range; fields and tensors dropped, duplicated, renamed; metadata and
// the model config replaced, huge or deeply nested); non-UTF-8 bytes; deeply nested JSON.
// Every case either loads correctly or throws the library's error with a message naming the
// problem, and a refused load leaves the model's parameters byte-identical and the backend's
// memory as it was. "Correctly" is judged without the library's parser: a loaded model holds,
// for each tensor, the f32 values that a DataView reads from the final bytes at the
// data_offsets the test wrote into the header, after the length in bytes 0-7.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { createBackend } from '../../src/backend/create.js';
import type { Backend, BackendName } from '../../src/backend/backend.js';
import { FormatError, WasmCnnError } from '../../src/errors.js';
import { configDiff } from '../../src/models/params-file.js';
import { modelFromSafetensors, type SimpleConvNet } from '../../src/models/index.js';
import { BACKENDS } from '../helpers/harness.js';
import { FUZZ_SEED, expectLibError, paramBytes, sameBits, sameBytes, tinyNet } from './helpers.js';
import { applyMutations, concat, mutation, type Mutation } from './mutations.js';

const RUNS = 10_000;
const SLOW_MS = 1000;

// ---- the file as editable parts -------------------------------------------------

interface Parts {
  /** Raw JSON of the __metadata__ value, or null to leave it out. */
  meta: string | null;
  /** Tensor entries: raw JSON key and raw JSON fields (name -> value text), in order. */
  tensors: { key: string; fields: [string, string][] }[];
  /** Raw text that replaces the whole header (deep nesting and the like). */
  whole?: string;
  data: Uint8Array;
}

function split(file: Uint8Array): Parts {
  const n = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + n))) as Record<string, Record<string, unknown>>;
  const tensors = Object.entries(header)
    .filter(([k]) => k !== '__metadata__')
    .map(([k, v]) => ({ key: JSON.stringify(k), fields: Object.entries(v).map(([f, x]) => [JSON.stringify(f), JSON.stringify(x)] as [string, string]) }));
  return { meta: JSON.stringify(header.__metadata__), tensors, data: file.subarray(8 + n) };
}

function join(p: Parts, pad: boolean): Uint8Array {
  const text = p.whole ?? `{${[
    ...(p.meta === null ? [] : [`"__metadata__":${p.meta}`]),
    ...p.tensors.map((t) => `${t.key}:{${t.fields.map(([f, v]) => `${f}:${v}`).join(',')}}`),
  ].join(',')}}`;
  const h = new TextEncoder().encode(text);
  const len = pad ? Math.ceil(h.length / 8) * 8 : h.length;
  const head = new Uint8Array(8 + len).fill(0x20);
  new DataView(head.buffer).setBigUint64(0, BigInt(len), true);
  head.set(h, 8);
  return concat(head, p.data);
}

// ---- header edits -----------------------------------------------------------------

const DEEP = 100_000;
const deepArray = '['.repeat(DEEP) + ']'.repeat(DEEP);
const deepObject = '{"a":'.repeat(DEEP / 2) + '1' + '}'.repeat(DEEP / 2);
const huge = ['4294967296', '9007199254740991', '9007199254740993', '18446744073709551615', '1' + '0'.repeat(400), '1e400'];
const OFFSET_VALUES = ['0', '4', '108', '120', '476', '480', '1000000', ...huge, '-4', '4.5', '1e3', '"12"', 'null', 'true', '012'];
const offsetsPool = fc.oneof(
  fc.tuple(fc.constantFrom(...OFFSET_VALUES), fc.constantFrom(...OFFSET_VALUES)).map(([a, b]) => `[${a},${b}]`),
  fc.tuple(fc.nat({ max: 600 }), fc.nat({ max: 600 })).map(([a, b]) => `[${a},${b}]`),
  fc.constantFrom('[]', '[0]', '[0,4,8]', '{}', '"0,108"', 'null', deepArray, '[[0,108]]'),
);
const SHAPES = ['[]', '[0]', '[3]', '[4]', '[27]', '[3,9]', '[3,1,3,3]', '[12,5]', '[5,4]', '[1,1,1,1,1,1,1,1,3,1,3,3]',
  `[${Array(65).fill(1).join(',')}]`, '[4294967296]', '[4294967295,4294967295]', '[65536,65536,65536]', '[-3]', '[1.5]', '["3"]', '[null]',
  '[[3]]', '[3,]', '[,3]', '3', 'null', deepArray, `[${huge[3]}]`];
const shapePool = fc.oneof(fc.constantFrom(...SHAPES), fc.array(fc.nat({ max: 40 }), { maxLength: 5 }).map((a) => `[${a.join(',')}]`));
const dtypePool = fc.constantFrom('"F32"', '"F16"', '"BF16"', '"F64"', '"I32"', '"U8"', '"BOOL"', '"f32"', '"F32 "', '""', '"FLOAT"', '32', 'null', '["F32"]');
const NAMES = ['"W9"', '"w1"', '"W1"', '"b1"', '"__proto__"', '"constructor"', '"toString"', '"hasOwnProperty"', '"__metadata__"', '""',
  '"\\u0000"', '"W1\\u0000"', '"\\ud800"', '"\\udc00"', '"\\uD83D\\uDE00"', '"a\\"b"', '"\\x41"', '"W1', 'W1', '1', 'null', '"${process.exit(1)}"'];

const configJson = '{"type":"SimpleConvNet","inputDim":[1,7,7],"convParam":{"filterNum":3,"filterSize":3,"pad":0,"stride":1},"hiddenSize":5,"outputSize":4,"weightInitStd":0.3,"seed":7}';
const CONFIG_PATHS = ['type', 'inputDim', 'inputDim.0', 'inputDim.1', 'convParam', 'convParam.filterNum', 'convParam.filterSize', 'convParam.pad',
  'convParam.stride', 'convParam.__proto__', 'hiddenSize', 'outputSize', 'weightInitStd', 'seed', 'layers', '__proto__', 'constructor'];
const CONFIG_VALUES: unknown[] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 100, -1, 1.5, 1e9, 2 ** 31, 2 ** 53, 1e308, -0, '5', '', 'Sequential', 'ResNet',
  'he', null, true, [], [1], [1, 7, 7], [1, 4096, 4096], [3, 7, 7], {}, { filterNum: 1e9 }, { polluted: true }];
const configPool = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...CONFIG_PATHS), fc.constantFrom(...CONFIG_VALUES)).map(([path, v]) => {
    const c = JSON.parse(configJson) as Record<string, unknown>;
    const keys = path.split('.');
    let o = c as Record<string, unknown>;
    for (const k of keys.slice(0, -1)) {
      if (typeof o[k] !== 'object' || o[k] === null) o[k] = {};
      o = o[k] as Record<string, unknown>;
    }
    if (keys[keys.length - 1] === '__proto__') Object.defineProperty(o, '__proto__', { value: v, enumerable: true, configurable: true, writable: true });
    else o[keys[keys.length - 1]] = v;
    return JSON.stringify(c);
  }) },
  { weight: 1, arbitrary: fc.constantFrom(deepArray, deepObject, '{', '', 'null', '[]', '"SimpleConvNet"', '{"type":"SimpleConvNet"', configJson.replace('}', ',}'),
    '{"type":"Sequential","inputDim":[1,7,7],"layers":[{"type":"Affine","outputSize":1000000000}],"weightInitStd":"he","seed":0}',
    '{"type":"Sequential","inputDim":[1,7,7],"layers":"Affine"}', '{"type":"Sequential","inputDim":[1,7,7],"layers":[' + Array(5000).fill('{"type":"Relu"}').join(',') + ']}') },
);
const metaPool = fc.oneof(
  configPool.map((c) => JSON.stringify({ format: 'wasm-cnn', config: c })),
  fc.constantFrom('null', '{}', '[]', '"wasm-cnn"', '5', deepObject, '{"format":"wasm-cnn"}', `{"config":${JSON.stringify(configJson)}}`,
    `{"format":"other","config":${JSON.stringify(configJson)}}`, `{"format":"wasm-cnn","config":5}`, `{"format":"wasm-cnn","config":{"type":"SimpleConvNet"}}`,
    `{"format":"wasm-cnn","config":${JSON.stringify(configJson)},"__proto__":"x","constructor":"y"}`,
    `{"format":"wasm-cnn","config":${JSON.stringify(configJson)},"format":"wasm-cnn"}`,
    `{"format":"wasm-cnn","config":${JSON.stringify(configJson)},"note":null}`),
);

type Edit =
  | { kind: 'field'; tensor: number; field: string; value: string }
  | { kind: 'dropField'; tensor: number; field: number }
  | { kind: 'addField'; tensor: number; text: [string, string] }
  | { kind: 'rename'; tensor: number; name: string }
  | { kind: 'dropTensor'; tensor: number }
  | { kind: 'dupTensor'; tensor: number }
  | { kind: 'swapOffsets'; a: number; b: number }
  | { kind: 'meta'; value: string | null }
  | { kind: 'whole'; text: string };

const t = fc.nat({ max: 5 });
const edit: fc.Arbitrary<Edit> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('field' as const), tensor: t, field: fc.constant('"data_offsets"'), value: offsetsPool }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('field' as const), tensor: t, field: fc.constant('"shape"'), value: shapePool }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('field' as const), tensor: t, field: fc.constant('"dtype"'), value: dtypePool }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('dropField' as const), tensor: t, field: fc.nat({ max: 2 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('addField' as const), tensor: t, text: fc.constantFrom<[string, string]>(['"extra"', '1'], ['"dtype"', '"F32"'], ['"shape"', '[3]'], ['"data_offsets"', '[0,108]'], ['"__proto__"', '{}']) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('rename' as const), tensor: t, name: fc.constantFrom(...NAMES) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('dropTensor' as const), tensor: t }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('dupTensor' as const), tensor: t }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('swapOffsets' as const), a: t, b: t }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('meta' as const), value: fc.oneof(metaPool, fc.constant(null)) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('whole' as const), text: fc.constantFrom(deepArray, deepObject, '{}', '[]', '', ' ', '{"a":', '{"W1":' + deepArray + '}', '{"__metadata__":' + deepObject + '}') }) },
);

function applyEdits(base: Parts, edits: readonly Edit[]): Parts {
  const p: Parts = { meta: base.meta, tensors: base.tensors.map((x) => ({ key: x.key, fields: x.fields.map((f) => [...f] as [string, string]) })), data: base.data };
  const pick = (i: number) => p.tensors[i % Math.max(p.tensors.length, 1)];
  for (const e of edits) {
    switch (e.kind) {
      case 'field': {
        const tt = pick(e.tensor);
        if (!tt) break;
        const f = tt.fields.find(([k]) => k === e.field);
        if (f) f[1] = e.value;
        else tt.fields.push([e.field, e.value]);
        break;
      }
      case 'dropField': {
        const tt = pick(e.tensor);
        if (tt && tt.fields.length) tt.fields.splice(e.field % tt.fields.length, 1);
        break;
      }
      case 'addField':
        pick(e.tensor)?.fields.push([...e.text]);
        break;
      case 'rename': {
        const tt = pick(e.tensor);
        if (tt) tt.key = e.name;
        break;
      }
      case 'dropTensor':
        if (p.tensors.length) p.tensors.splice(e.tensor % p.tensors.length, 1);
        break;
      case 'dupTensor': {
        const tt = pick(e.tensor);
        if (tt) p.tensors.push({ key: tt.key, fields: tt.fields.map((f) => [...f] as [string, string]) });
        break;
      }
      case 'swapOffsets': {
        const a = pick(e.a)?.fields.find(([k]) => k === '"data_offsets"');
        const b = pick(e.b)?.fields.find(([k]) => k === '"data_offsets"');
        if (a && b) [a[1], b[1]] = [b[1], a[1]];
        break;
      }
      case 'meta':
        p.meta = e.value;
        break;
      case 'whole':
        p.whole = e.text;
        break;
    }
  }
  return p;
}

/** Bytes that are not valid UTF-8 (overlong, surrogates, truncated, stray continuation, > U+10FFFF) and other troublemakers. */
const BAD_TEXT = ['\uFEFF', '\u0000', '\u0001', '\\', '\\u12', '"', '\n', ',', '}', ']', ':'];
const BAD_UTF8 = [[0xff], [0xfe], [0xc0, 0x80], [0xc1, 0xbf], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf], [0xf4, 0x90, 0x80, 0x80],
  [0xf5, 0x80, 0x80, 0x80], [0x80], [0xbf], [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xc3]];
const byteEdit: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 6, arbitrary: mutation({ u64At: [0], texts: BAD_TEXT }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('insert' as const), pos: fc.integer({ min: 8, max: 700 }), bytes: fc.constantFrom(...BAD_UTF8).map((b) => Uint8Array.from(b)) }) },
  // flips inside the header's strings and numbers
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('flip' as const), pos: fc.integer({ min: 8, max: 607 }), xor: fc.integer({ min: 1, max: 255 }) }) },
  // and in the data section (values change, the file stays valid unless a value becomes NaN/Infinity)
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('flip' as const), pos: fc.integer({ min: 608, max: 1083 }), xor: fc.integer({ min: 1, max: 255 }) }) },
);

interface Plan { edits: Edit[]; pad: boolean; bytes: Mutation[] }
const plan: fc.Arbitrary<Plan> = fc.record({
  edits: fc.array(edit, { maxLength: 3 }),
  pad: fc.boolean(),
  bytes: fc.array(byteEdit, { maxLength: 3 }),
}).filter((p) => p.edits.length + p.bytes.length > 0);

// ---- the oracle: what a loaded model must hold ------------------------------------------

/**
 * The values of tensor `name` by the test's own reading of `bytes`: the one entry of `parts`
 * with that key, its data_offsets as the test wrote them, the data section after the length
 * field. Undefined when the test's header has no single such tensor with offsets [begin, end]
 * inside the file (a file the model must not load).
 */
function expectedValues(parts: Parts, bytes: Uint8Array, name: string): Float32Array | undefined {
  const entries = parts.tensors.filter((x) => x.key === JSON.stringify(name));
  const offsets = entries.length === 1 ? entries[0]!.fields.filter(([f]) => f === '"data_offsets"') : [];
  if (offsets.length !== 1 || parts.whole !== undefined) return undefined;
  let range: unknown;
  try {
    range = JSON.parse(offsets[0]![1]);
  } catch {
    return undefined;
  }
  if (!Array.isArray(range) || range.length !== 2 || !range.every((x) => Number.isSafeInteger(x) && x >= 0)) return undefined;
  const [begin, end] = range as [number, number];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const start = 8 + Number(view.getBigUint64(0, true)) + begin;
  if (end < begin || (end - begin) % 4 !== 0 || start + end - begin > bytes.length) return undefined;
  return Float32Array.from({ length: (end - begin) / 4 }, (_, k) => view.getFloat32(start + 4 * k, true));
}

/** Asserts that every parameter of `model` holds the test's expected values for this file. */
function expectFileValues(model: { params: Record<string, { toArray(): Float32Array }> }, parts: Parts, bytes: Uint8Array, what: string): void {
  for (const [name, p] of Object.entries(model.params)) {
    const want = expectedValues(parts, bytes, name);
    expect(want, `${what}: tensor ${name} of a file that loaded is not one the test wrote`).toBeDefined();
    expect(sameBits(p.toArray(), want!), `${what}: tensor ${name} differs from the file's bytes at the test's offsets`).toBe(true);
  }
}

// ---- the property ---------------------------------------------------------------------

const MESSAGE = /byte|header|tensor|shape|dtype|data_offsets|__metadata__|config|architecture|parameter|values|file/;

interface Stats { loaded: number; changed: number; refused: number; kinds: Set<string> }

/** Loads `bytes`, made from `parts`, into `net` (and as a new model); checks the outcome. */
function check(net: SimpleConvNet, backend: Backend, bytes: Uint8Array, parts: Parts, original: Uint8Array, stats: Stats): void {
  const before = paramBytes(net);
  const used = backend.memoryStats().used;
  const t0 = performance.now();
  let error: unknown;
  try {
    net.loadParams(bytes);
  } catch (e) {
    error = e;
  }
  if (error === undefined) {
    stats.loaded++;
    expectFileValues(net, parts, bytes, 'loadParams');
    if (!sameBytes(paramBytes(net), original)) stats.changed++;
  } else {
    stats.refused++;
    expectLibError(error, WasmCnnError);
    expect(error.message.startsWith('SimpleConvNet.loadParams: ')).toBe(true);
    expect(error.message.slice('SimpleConvNet.loadParams: '.length)).toMatch(MESSAGE);
    stats.kinds.add(error.message.replace(/\d+/g, 'N').slice(0, 90));
    expect(sameBytes(paramBytes(net), before), `refused load changed the model: ${error.message}`).toBe(true);
  }
  // the same bytes as a new model
  let model: ReturnType<typeof modelFromSafetensors> | undefined;
  try {
    model = modelFromSafetensors(bytes, { backend: backend });
  } catch (e) {
    expectLibError(e, WasmCnnError);
    // the config is refused by modelFromSafetensors itself, the tensors by the new model's loadParams
    expect(e.message).toMatch(/^(modelFromSafetensors|SimpleConvNet\.loadParams|Sequential\.loadParams): /);
    expect(backend.memoryStats().used, `memory left behind by a refused modelFromSafetensors: ${e.message}`).toBe(used);
  }
  if (model) {
    // the file's own architecture: the same as net's (then net loaded it too), or another one
    // with parameters of the same shapes (e.g. inputDim [1, 6, 7] instead of [1, 7, 7])
    if (error !== undefined) expect(configDiff(model.config(), net.config(), '')).not.toBeNull();
    expectFileValues(model, parts, bytes, 'modelFromSafetensors');
    model.dispose();
    expect(backend.memoryStats().used).toBe(used);
  }
  const ms = performance.now() - t0;
  if (ms > SLOW_MS) throw new Error(`one case took ${ms.toFixed(0)} ms`);
}

describe.each(BACKENDS)('fuzzing safetensors files through a real model (%s backend)', (name: BackendName) => {
  let backend: Backend;
  let net: SimpleConvNet;
  let valid: Uint8Array;
  let original: Uint8Array;
  let base: Parts;
  beforeAll(async () => {
    backend = await createBackend(name);
    net = tinyNet(backend);
    valid = net.saveParams();
    original = paramBytes(net);
    base = split(valid);
  });

  it('the valid file round-trips through the editable parts', () => {
    expect(sameBytes(join(base, true), valid)).toBe(true);
  });

  it(`${RUNS} mutations: each loads correctly or throws the library's error, and a refused load changes nothing`, () => {
    const stats: Stats = { loaded: 0, changed: 0, refused: 0, kinds: new Set() };
    fc.assert(fc.property(plan, (p) => {
      const parts = applyEdits(base, p.edits);
      const bytes = applyMutations(join(parts, p.pad), p.bytes);
      check(net, backend, bytes, parts, original, stats);
    }), { numRuns: RUNS, seed: FUZZ_SEED + (name === 'wasm' ? 10 : 20) });
    if (process.env.WASM_CNN_FUZZ_STATS) console.log(name, stats.loaded, stats.changed, stats.refused, stats.kinds.size, [...stats.kinds].slice(0, 400).join("\n"));
    // the fuzzer reaches far past the length prefix: loads that succeed (some with values the
    // mutations changed, checked against the bytes), and many distinct refusals
    expect(stats.loaded).toBeGreaterThan(50);
    expect(stats.changed).toBeGreaterThan(0);
    expect(stats.refused).toBeGreaterThan(RUNS / 2);
    expect(stats.kinds.size).toBeGreaterThan(100);
  });

  it('huge declared sizes are refused before anything is allocated', () => {
    const cases: Edit[][] = [
      [{ kind: 'field', tensor: 0, field: '"shape"', value: '[1000000000]' }, { kind: 'field', tensor: 0, field: '"data_offsets"', value: '[0,4000000000]' }],
      [{ kind: 'field', tensor: 2, field: '"shape"', value: '[4294967295,4294967295]' }],
      [{ kind: 'field', tensor: 1, field: '"data_offsets"', value: '[0,18446744073709551615]' }],
      [{ kind: 'meta', value: JSON.stringify({ format: 'wasm-cnn', config: configJson.replace('"hiddenSize":5', '"hiddenSize":100000000') }) }],
      [{ kind: 'meta', value: JSON.stringify({ format: 'wasm-cnn', config: configJson.replace('"inputDim":[1,7,7]', '"inputDim":[1,70000,70000]') }) }],
    ];
    for (const edits of cases) {
      const bytes = join(applyEdits(base, edits), true);
      const mem = process.memoryUsage().arrayBuffers;
      const capacity = backend.memoryStats().capacity;
      const t0 = performance.now();
      for (const load of [() => net.loadParams(bytes), () => modelFromSafetensors(bytes, { backend: backend })]) {
        let e: unknown;
        try {
          load();
        } catch (err) {
          e = err;
        }
        expectLibError(e, WasmCnnError);
      }
      expect(performance.now() - t0).toBeLessThan(SLOW_MS);
      expect(process.memoryUsage().arrayBuffers - mem).toBeLessThan(16 << 20);
      expect(backend.memoryStats().capacity).toBe(capacity);
    }
    // and the u64 header length itself
    for (const n of [2n ** 64n - 1n, 2n ** 53n + 1n, 2n ** 40n, BigInt(valid.length)]) {
      const b = new Uint8Array(valid);
      new DataView(b.buffer).setBigUint64(0, n, true);
      let e: unknown;
      try {
        net.loadParams(b);
      } catch (err) {
        e = err;
      }
      expectLibError(e, FormatError, /header length \d+ \(bytes 0-7, u64 little-endian\) is larger than the \d+ bytes that follow/);
    }
  });
});
