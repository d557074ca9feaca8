// Fuzzing the IDX reader (seeded, repeatable): 10,000 mutations each of a valid image file
// and a valid label file (flipped bytes, truncation, extension, insertion, deletion, magic
// and dimension edits with huge declared sizes). Every case either parses into a result
// that is consistent with the bytes, or throws FormatError naming the file, the problem
// and the byte. The same mutations go through the MNIST loader (mnistFromIdx), which
// either returns well-formed tensors or throws the library's error.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FormatError, WasmCnnError } from '../../src/errors.js';
import { encodeIdx, parseIdx, IDX_IMAGES, IDX_LABELS, type IdxMagic } from '../../src/data/idx.js';
import { mnistBytes, mnistFromIdx } from '../../src/data/mnist.js';
import { FUZZ_SEED, expectLibError } from './helpers.js';
import { applyMutations, mutation, type Mutation } from './mutations.js';

const RUNS = 10_000;
/** A case that takes this long is a hang for a 64-byte file. */
const SLOW_MS = 1000;

const IMAGES = encodeIdx([3, 4, 4], Uint8Array.from({ length: 48 }, (_, i) => (i * 37) & 0xff));
const LABELS = encodeIdx([3], Uint8Array.of(7, 0, 9));

/** Magic/type/ndims bytes, the gzip signature, and the dimension fields of each file. */
const idxMutation = (dims: number) => fc.oneof(
  { weight: 4, arbitrary: mutation({ u32At: Array.from({ length: dims }, (_, i) => 4 + 4 * i) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('set' as const), pos: fc.integer({ min: 0, max: 3 }), value: fc.constantFrom(0, 1, 3, 8, 9, 0x0b, 0x0d, 0x0e, 0x1f, 0x8b, 0xff) }) },
) as fc.Arbitrary<Mutation>;

function checkParsed(bytes: Uint8Array, expect_: IdxMagic): void {
  let r: ReturnType<typeof parseIdx>;
  try {
    r = parseIdx(bytes, { name: 'fuzz.idx', expect: expect_ });
  } catch (e) {
    expectLibError(e, FormatError);
    expect(e.message.startsWith('fuzz.idx: ')).toBe(true);
    expect(e.message).toMatch(/byte/); // says where
    expect(e.message.length).toBeGreaterThan(40); // and what
    return;
  }
  // a correct result: the header describes exactly these bytes
  expect(r.magic).toBe(expect_);
  expect(r.dims.length).toBe(expect_ === IDX_IMAGES ? 3 : 1);
  const size = r.dims.reduce((a, d) => a * d, 1);
  const header = 4 + 4 * r.dims.length;
  expect(r.data.length).toBe(size);
  expect(header + size).toBe(bytes.length);
  expect(r.data.buffer).toBe(bytes.buffer);
  expect(r.data.byteOffset).toBe(bytes.byteOffset + header);
}

function checkLoaded(images: Uint8Array, labels: Uint8Array): void {
  let m: ReturnType<typeof mnistFromIdx>;
  try {
    m = mnistFromIdx(images, labels, IMAGES, LABELS, { flatten: false });
  } catch (e) {
    expectLibError(e, WasmCnnError);
    expect(e.message).toMatch(/^(train|test) (images|labels): |^MNIST train split: /);
    return;
  }
  const [n, c, h, w] = m.xTrain.shape;
  expect(c).toBe(1);
  expect(m.tTrain).toBeInstanceOf(Int32Array);
  expect((m.tTrain as Int32Array).length).toBe(n);
  expect(m.xTrain.data.length).toBe(n * h * w);
  for (const v of m.xTrain.data) expect(v >= 0 && v <= 1).toBe(true);
  for (const t of m.tTrain as Int32Array) expect(t >= 0 && t <= 9).toBe(true);
  // and the byte loader agrees
  const b = mnistBytes(images, labels, IMAGES, LABELS);
  expect(b.train.images.shape).toEqual([n, 1, h, w]);
  expect(b.train.labels.length).toBe(n);
}

/** Runs one case (which fails on anything but a result or the library's error) and fails on a hang. */
function timed(f: () => void): void {
  const t0 = performance.now();
  f();
  const ms = performance.now() - t0;
  if (ms > SLOW_MS) throw new Error(`one 64-byte case took ${ms.toFixed(0)} ms`);
}

describe('fuzzing IDX files (fast-check, seeded)', () => {
  it('the valid files parse and load', () => {
    expect(parseIdx(IMAGES, { expect: IDX_IMAGES }).dims).toEqual([3, 4, 4]);
    expect(parseIdx(LABELS, { expect: IDX_LABELS }).dims).toEqual([3]);
    expect(mnistFromIdx(IMAGES, LABELS, IMAGES, LABELS).tTrain).toEqual(Int32Array.of(7, 0, 9));
  });

  it(`${RUNS} mutations of an image file: a consistent result or FormatError naming the file and byte`, () => {
    let refused = 0;
    fc.assert(fc.property(fc.array(idxMutation(3), { minLength: 1, maxLength: 4 }), (ms) => {
      const bytes = applyMutations(IMAGES, ms);
      timed(() => checkParsed(bytes, IDX_IMAGES));
      timed(() => checkLoaded(bytes, LABELS));
      try {
        parseIdx(bytes);
      } catch {
        refused++;
      }
    }), { numRuns: RUNS, seed: FUZZ_SEED });
    // most mutations break the file; some (a flipped pixel) leave a valid one
    expect(refused).toBeGreaterThan(RUNS / 2);
    expect(refused).toBeLessThan(RUNS);
  });

  it(`${RUNS} mutations of a label file: a consistent result or FormatError naming the file and byte`, () => {
    let refused = 0;
    fc.assert(fc.property(fc.array(idxMutation(1), { minLength: 1, maxLength: 4 }), (ms) => {
      const bytes = applyMutations(LABELS, ms);
      timed(() => checkParsed(bytes, IDX_LABELS));
      timed(() => checkLoaded(IMAGES, bytes));
      try {
        mnistFromIdx(IMAGES, bytes, IMAGES, LABELS);
      } catch {
        refused++;
      }
    }), { numRuns: RUNS, seed: FUZZ_SEED + 1 });
    expect(refused).toBeGreaterThan(RUNS / 2);
    expect(refused).toBeLessThan(RUNS);
  });

  it('huge declared sizes are checked against the real length before anything is allocated', () => {
    const cases: [number[], number][] = [
      [[0xffffffff, 0xffffffff, 0xffffffff], IDX_IMAGES],
      [[0x7fffffff, 28, 28], IDX_IMAGES],
      [[3, 0x10000, 0x10000], IDX_IMAGES],
      [[0xffffffff], IDX_LABELS],
    ];
    for (const [dims, magic] of cases) {
      const b = magic === IDX_IMAGES ? new Uint8Array(IMAGES) : new Uint8Array(LABELS);
      const view = new DataView(b.buffer);
      dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
      const before = process.memoryUsage().arrayBuffers;
      const t0 = performance.now();
      let e: unknown;
      try {
        if (magic === IDX_IMAGES) mnistFromIdx(b, LABELS, IMAGES, LABELS);
        else mnistFromIdx(IMAGES, b, IMAGES, LABELS);
      } catch (err) {
        e = err;
      }
      expectLibError(e, FormatError, /truncated: dimensions \(/, /declare \d+ data bytes/, /but it is \d+/);
      expect(performance.now() - t0).toBeLessThan(SLOW_MS);
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 << 20);
    }
  });
});
