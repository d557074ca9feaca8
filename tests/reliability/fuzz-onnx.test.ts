// Fuzzing ONNX files (seeded, repeatable): 10,000 mutations of a real exported model per
// backend, imported with modelFromOnnx. Mutations: byte flips, sets, truncation, extension,
// insertion and deletion; varints spliced in (huge lengths, 10-byte and over-long varints,
// groups and bad wire types); and edits of the decoded messages re-encoded (dims, data types,
// attribute values, op types, node inputs and outputs, initializers dropped or duplicated,
// the input's shape, the opset). Every case either imports a model that runs (finite logits
// of the declared shape) or throws the library's error starting with "modelFromOnnx: ", and
// a refused import leaves the backend's memory as it was. Huge declared sizes are refused
// quickly without allocating.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { createBackend } from '../../src/backend/create.js';
import type { Backend, BackendName } from '../../src/backend/backend.js';
import { FormatError, WasmCnnError } from '../../src/errors.js';
import { Sequential } from '../../src/models/index.js';
import { modelFromOnnx, modelToOnnx } from '../../src/io/onnx/index.js';
import { ATTR, decodeModel, encodeModel, type OnnxModel } from '../../src/io/onnx/onnx-proto.js';
import { tensor } from '../../src/tensor.js';
import { BACKENDS } from '../helpers/harness.js';
import { FUZZ_SEED, expectLibError, sameBytes } from './helpers.js';
import { applyMutations, concat, mutation, type Mutation } from './mutations.js';

const RUNS = 10_000;
const SLOW_MS = 1000;

/** A small model with every layer kind: 1x7x7 -> conv 3x3x3 pad 1 - BN - relu - avg pool - max pool - affine 6 - sigmoid - dropout - affine 4. */
function fuzzNet(backend: Backend): Sequential {
  return new Sequential({ backend, inputDim: [1, 7, 7], seed: 4, layers: [
    { type: 'Convolution', filterNum: 3, filterSize: 3, pad: 1 }, { type: 'BatchNormalization' }, { type: 'Relu' },
    { type: 'Pooling', size: 2, stride: 1, mode: 'avg' }, { type: 'Pooling', size: 2, pad: 1 },
    { type: 'Affine', outputSize: 6 }, { type: 'Sigmoid' }, { type: 'Dropout', ratio: 0.25 }, { type: 'Affine', outputSize: 4 },
  ] });
}

// ---- message edits -------------------------------------------------------------------

const INTS = [-(2 ** 53), -1e6, -2, -1, 0, 1, 2, 3, 4, 7, 8, 1000, 2 ** 31, 2 ** 40, 2 ** 53 - 1];
const OPS = ['Conv', 'Relu', 'Sigmoid', 'MaxPool', 'AveragePool', 'Gemm', 'MatMul', 'Add', 'Mul', 'Flatten', 'Reshape', 'Transpose',
  'BatchNormalization', 'Dropout', 'Identity', 'Softmax', 'Constant', 'GlobalAveragePool', 'LSTM', '', 'conv', 'Loop'];
type Edit =
  | { kind: 'dims'; t: number; dims: number[] }
  | { kind: 'dataType'; t: number; v: number }
  | { kind: 'dropInit'; t: number }
  | { kind: 'dupInit'; t: number }
  | { kind: 'attrInts'; n: number; a: number; ints: number[] }
  | { kind: 'attrInt'; n: number; a: number; v: number }
  | { kind: 'attrFloat'; n: number; a: number; v: number }
  | { kind: 'attrType'; n: number; a: number; v: number }
  | { kind: 'dropAttr'; n: number; a: number }
  | { kind: 'op'; n: number; op: string }
  | { kind: 'input'; n: number; i: number; to: number }
  | { kind: 'dropNode'; n: number }
  | { kind: 'swapNodes'; n: number; m: number }
  | { kind: 'inputShape'; dims: (number | string | null)[] }
  | { kind: 'opset'; v: number };
const small = fc.nat({ max: 40 });
const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('dims' as const), t: small, dims: fc.array(fc.oneof(fc.constantFrom(...INTS), fc.nat({ max: 12 })), { maxLength: 5 }) }),
  fc.record({ kind: fc.constant('dataType' as const), t: small, v: fc.constantFrom(0, 1, 2, 6, 7, 10, 11, 16, 99, -1) }),
  fc.record({ kind: fc.constant('dropInit' as const), t: small }),
  fc.record({ kind: fc.constant('dupInit' as const), t: small }),
  fc.record({ kind: fc.constant('attrInts' as const), n: small, a: small, ints: fc.array(fc.oneof(fc.constantFrom(...INTS), fc.nat({ max: 5 })), { maxLength: 5 }) }),
  fc.record({ kind: fc.constant('attrInt' as const), n: small, a: small, v: fc.oneof(fc.constantFrom(...INTS), fc.nat({ max: 4 })) }),
  fc.record({ kind: fc.constant('attrFloat' as const), n: small, a: small, v: fc.constantFrom(0, -1, 1e-30, 0.5, 1, 2, NaN, Infinity, 1e30) }),
  fc.record({ kind: fc.constant('attrType' as const), n: small, a: small, v: fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 7, 8, 99) }),
  fc.record({ kind: fc.constant('dropAttr' as const), n: small, a: small }),
  fc.record({ kind: fc.constant('op' as const), n: small, op: fc.constantFrom(...OPS) }),
  fc.record({ kind: fc.constant('input' as const), n: small, i: fc.nat({ max: 5 }), to: small }),
  fc.record({ kind: fc.constant('dropNode' as const), n: small }),
  fc.record({ kind: fc.constant('swapNodes' as const), n: small, m: small }),
  fc.record({ kind: fc.constant('inputShape' as const), dims: fc.array(fc.oneof(fc.constantFrom<number | string | null>('N', null, 0, -1, 1, 7, 2 ** 40, 65536), fc.nat({ max: 9 })), { maxLength: 5 }) }),
  fc.record({ kind: fc.constant('opset' as const), v: fc.constantFrom(1, 6, 7, 9, 11, 12, 13, 17, 21, 1000) }),
);

function applyEdits(base: Uint8Array, edits: readonly Edit[]): Uint8Array {
  if (edits.length === 0) return base;
  const m: OnnxModel = decodeModel(base, 'fuzz');
  const g = m.graph!;
  const pick = <T>(a: T[], i: number): T | undefined => (a.length ? a[i % a.length] : undefined);
  const names = [...g.initializers.map((t) => t.name), ...g.nodes.flatMap((n) => n.outputs), 'input', 'nope', ''];
  for (const e of edits) {
    switch (e.kind) {
      case 'dims': { const t = pick(g.initializers, e.t); if (t) t.dims = e.dims; break; }
      case 'dataType': { const t = pick(g.initializers, e.t); if (t) t.dataType = e.v; break; }
      case 'dropInit': if (g.initializers.length) g.initializers.splice(e.t % g.initializers.length, 1); break;
      case 'dupInit': { const t = pick(g.initializers, e.t); if (t) g.initializers.push({ ...t }); break; }
      case 'attrInts': { const a = pick(pick(g.nodes, e.n)?.attributes ?? [], e.a); if (a) { a.ints = e.ints; a.type = ATTR.INTS; } break; }
      case 'attrInt': { const a = pick(pick(g.nodes, e.n)?.attributes ?? [], e.a); if (a) { a.i = e.v; a.ints = []; a.type = ATTR.INT; } break; }
      case 'attrFloat': { const a = pick(pick(g.nodes, e.n)?.attributes ?? [], e.a); if (a) { a.f = e.v; a.ints = []; a.i = undefined; a.type = ATTR.FLOAT; } break; }
      case 'attrType': { const a = pick(pick(g.nodes, e.n)?.attributes ?? [], e.a); if (a) a.type = e.v; break; }
      case 'dropAttr': { const n = pick(g.nodes, e.n); if (n?.attributes.length) n.attributes.splice(e.a % n.attributes.length, 1); break; }
      case 'op': { const n = pick(g.nodes, e.n); if (n) n.opType = e.op; break; }
      case 'input': { const n = pick(g.nodes, e.n); if (n) n.inputs[e.i % (n.inputs.length + 1)] = names[e.to % names.length]; break; }
      case 'dropNode': if (g.nodes.length) g.nodes.splice(e.n % g.nodes.length, 1); break;
      case 'swapNodes': if (g.nodes.length) { const a = e.n % g.nodes.length; const b = e.m % g.nodes.length; [g.nodes[a], g.nodes[b]] = [g.nodes[b], g.nodes[a]]; } break;
      case 'inputShape': g.inputs[0].shape = e.dims; break;
      case 'opset': m.opsets[0].version = e.v; break;
    }
  }
  try {
    return encodeModel(m);
  } catch {
    return base; // an edit the encoder cannot write (a NaN integer): the file stays valid
  }
}

/** Varints and keys that stress the decoder: huge lengths, 10-byte and over-long varints, groups, bad wire types. */
const VARINTS = [
  [0xff, 0xff, 0xff, 0xff, 0x0f], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01],
  [0x3a, 0xff, 0xff, 0xff, 0xff, 0x07], [0x0a, 0xe8, 0x07], [0x0b], [0x0c], [0x0e], [0x0f], [0x00], [0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
  [0x42, 0x80, 0x80, 0x80, 0x80, 0x10], [0x4a, 0x7f],
];
const byteEdit: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: mutation() },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('insert' as const), pos: fc.nat({ max: 4096 }), bytes: fc.constantFrom(...VARINTS).map((b) => Uint8Array.from(b)) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('flip' as const), pos: fc.nat({ max: 4096 }), xor: fc.constantFrom(0x01, 0x02, 0x04, 0x07, 0x08, 0x80, 0xff) }) },
);

interface Plan { edits: Edit[]; bytes: Mutation[] }
const plan: fc.Arbitrary<Plan> = fc.record({ edits: fc.array(edit, { maxLength: 3 }), bytes: fc.array(byteEdit, { maxLength: 3 }) })
  .filter((p) => p.edits.length + p.bytes.length > 0);

interface Stats { loaded: number; refused: number; kinds: Set<string> }

function check(backend: Backend, bytes: Uint8Array, stats: Stats): void {
  const used = backend.memoryStats().used;
  const t0 = performance.now();
  let model: Sequential | undefined;
  try {
    model = modelFromOnnx(bytes, { backend });
  } catch (e) {
    stats.refused++;
    expectLibError(e, WasmCnnError, /^modelFromOnnx: /);
    stats.kinds.add(e.message.replace(/\d+/g, 'N').slice(0, 100));
    expect(backend.memoryStats().used, `memory left behind by a refused import: ${e.message}`).toBe(used);
  }
  if (model) {
    stats.loaded++;
    const per = model.inputDim.reduce((a, d) => a * d, 1);
    if (per <= 1 << 16) {
      const y = model.predict(tensor(new Float32Array(2 * per).fill(0.5), [2, ...model.inputDim]));
      expect(y.shape).toEqual([2, model.outputSize]);
      expect(y.data.every(Number.isFinite)).toBe(true);
    }
    model.dispose();
  }
  const ms = performance.now() - t0;
  if (ms > SLOW_MS) throw new Error(`one case took ${ms.toFixed(0)} ms`);
}

describe.each(BACKENDS)('fuzzing ONNX files through modelFromOnnx (%s backend)', (name: BackendName) => {
  let backend: Backend;
  let valid: Uint8Array;
  beforeAll(async () => {
    backend = await createBackend(name);
    const net = fuzzNet(backend);
    valid = modelToOnnx(net);
    net.dispose();
  });

  it('the valid file decodes, re-encodes byte for byte and imports', () => {
    expect(sameBytes(encodeModel(decodeModel(valid, 'test')), valid)).toBe(true);
    const stats: Stats = { loaded: 0, refused: 0, kinds: new Set() };
    check(backend, valid, stats);
    expect(stats.loaded).toBe(1);
  });

  it(`${RUNS} mutations: each imports a model that runs or throws the library's error, leaving memory as it was`, () => {
    const stats: Stats = { loaded: 0, refused: 0, kinds: new Set() };
    fc.assert(fc.property(plan, (p) => {
      check(backend, applyMutations(applyEdits(valid, p.edits), p.bytes), stats);
    }), { numRuns: RUNS, seed: FUZZ_SEED + (name === 'wasm' ? 30 : 40) });
    if (process.env.WASM_CNN_FUZZ_STATS) console.log(name, stats.loaded, stats.refused, stats.kinds.size, [...stats.kinds].join('\n'));
    // the fuzzer reaches past the wire format: imports that succeed, and many distinct refusals
    expect(stats.loaded).toBeGreaterThan(100);
    expect(stats.refused).toBeGreaterThan(RUNS / 2);
    expect(stats.kinds.size).toBeGreaterThan(100);
  });

  it('huge declared sizes are refused before anything is allocated', () => {
    const m = decodeModel(valid, 'test');
    const g = m.graph!;
    const variants: ((x: OnnxModel) => void)[] = [
      (x) => { x.graph!.inputs[0].shape = ['N', 1, 65536, 65536]; },
      (x) => { x.graph!.inputs[0].shape = ['N', 1, 2 ** 40, 1]; },
      (x) => { x.graph!.initializers[0].dims = [1e9, 1, 3, 3]; },
      (x) => { x.graph!.initializers[0].dims = [2 ** 26, 2 ** 26]; },
      (x) => { x.graph!.initializers.find((t) => t.dims.length === 2)!.dims = [4096 * 4096, 6]; },
    ];
    const cases = variants.map((f) => { const x = decodeModel(valid, 'test'); f(x); return encodeModel(x); });
    // a length varint of 2^40 - 1 bytes in place of the graph's length
    const huge = concat(Uint8Array.of(0x3a, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f), valid.subarray(4));
    cases.push(huge);
    expect(g.nodes.length).toBeGreaterThan(5);
    for (const bytes of cases) {
      const mem = process.memoryUsage().arrayBuffers;
      const capacity = backend.memoryStats().capacity;
      const t0 = performance.now();
      let e: unknown;
      try {
        modelFromOnnx(bytes, { backend });
      } catch (err) {
        e = err;
      }
      expectLibError(e, FormatError, /^modelFromOnnx: /);
      expect(performance.now() - t0).toBeLessThan(SLOW_MS);
      expect(process.memoryUsage().arrayBuffers - mem).toBeLessThan(16 << 20);
      expect(backend.memoryStats().capacity).toBe(capacity);
    }
  });
});
