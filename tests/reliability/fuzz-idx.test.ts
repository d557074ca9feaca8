// Fuzzing the IDX reader (seeded, repeatable): 10,000 mutations each of a valid image file
// and a valid label file (flipped bytes, truncation, extension, insertion, deletion, magic
// and dimension edits with huge declared sizes). Every case either parses into a result
// that is consistent with the bytes, or throws FormatError naming the file, the problem
// and the byte. The same mutations go through the MNIST loaders (mnistFromIdx, mnistBytes),
// which either throw the library's error or return exactly what the test reads itself from
// the bytes at the offsets encodeIdx wrote: dimensions at bytes 4.., pixel i = byte 16 + i
// over 255, label i = byte 8 + i.
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
/** Where the values start: 4 magic bytes + 4 per dimension (3 for images, 1 for labels). */
const IMAGES_AT = 16;
const LABELS_AT = 8;

/** The u32 big-endian dimensions at bytes 4.. of an IDX file, read by the test. */
function dimsOf(bytes: Uint8Array, count: number): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: count }, (_, i) => view.getUint32(4 + 4 * i, false));
}

/** Index of the first i where got[i] !== want(i), or -1 (one assertion per array, not per value). */
function firstMismatch(got: ArrayLike<number>, n: number, want: (i: number) => number): number {
  if (got.length !== n) return -2;
  for (let i = 0; i < n; i++) if (got[i] !== want(i)) return i;
  return -1;
}

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
  expect(r.dims).toEqual(dimsOf(bytes, expect_ === IDX_IMAGES ? 3 : 1));
  const size = r.dims.reduce((a, d) => a * d, 1);
  const header = 4 + 4 * r.dims.length;
  expect(r.data.length).toBe(size);
  expect(header + size).toBe(bytes.length);
  expect(r.data.buffer).toBe(bytes.buffer);
  expect(r.data.byteOffset).toBe(bytes.byteOffset + header);
}

/** True when the loaders accepted the files (and returned what the test expects). */
function checkLoaded(images: Uint8Array, labels: Uint8Array): boolean {
  let m: ReturnType<typeof mnistFromIdx>;
  try {
    m = mnistFromIdx(images, labels, IMAGES, LABELS, { flatten: false });
  } catch (e) {
    expectLibError(e, WasmCnnError);
    expect(e.message).toMatch(/^(train|test) (images|labels): |^MNIST train split: /);
    return false;
  }
  // the shape the test reads from the image file's dimensions, the values it reads at the
  // offsets encodeIdx wrote
  const [n, h, w] = dimsOf(images, 3) as [number, number, number];
  expect(m.xTrain.shape).toEqual([n, 1, h, w]);
  expect(dimsOf(labels, 1)).toEqual([n]);
  const pixel = (file: Uint8Array) => (i: number) => Math.fround(file[IMAGES_AT + i]! / 255);
  const label = (file: Uint8Array) => (i: number) => file[LABELS_AT + i]!;
  expect(m.tTrain).toBeInstanceOf(Int32Array);
  expect(firstMismatch(m.xTrain.data, n * h * w, pixel(images)), 'train pixel = byte / 255').toBe(-1);
  expect(firstMismatch(m.tTrain as Int32Array, n, label(labels)), 'train label = byte').toBe(-1);
  expect(firstMismatch(m.xTest.data, 48, pixel(IMAGES)), 'test pixel = byte / 255').toBe(-1);
  expect(firstMismatch(m.tTest as Int32Array, 3, label(LABELS)), 'test label = byte').toBe(-1);
  // and the byte loader: views of the same bytes, scale 1/255
  const b = mnistBytes(images, labels, IMAGES, LABELS);
  expect(b.train.images.shape).toEqual([n, 1, h, w]);
  expect(b.train.images.scale).toBe(1 / 255);
  expect(firstMismatch(b.train.images.data, n * h * w, (i) => images[IMAGES_AT + i]!), 'train image bytes').toBe(-1);
  expect(firstMismatch(b.train.labels, n, label(labels)), 'train label bytes').toBe(-1);
  return true;
}

const differs = (a: Uint8Array, b: Uint8Array) => a.length !== b.length || a.some((x, i) => x !== b[i]);

/** Runs one case (which fails on anything but a result or the library's error) and fails on a hang. */
function timed<T>(f: () => T): T {
  const t0 = performance.now();
  const r = f();
  const ms = performance.now() - t0;
  if (ms > SLOW_MS) throw new Error(`one 64-byte case took ${ms.toFixed(0)} ms`);
  return r;
}

describe('fuzzing IDX files (fast-check, seeded)', () => {
  it('the valid files parse and load', () => {
    expect(parseIdx(IMAGES, { expect: IDX_IMAGES }).dims).toEqual([3, 4, 4]);
    expect(parseIdx(LABELS, { expect: IDX_LABELS }).dims).toEqual([3]);
    expect(mnistFromIdx(IMAGES, LABELS, IMAGES, LABELS).tTrain).toEqual(Int32Array.of(7, 0, 9));
  });

  it(`${RUNS} mutations of an image file: a consistent result or FormatError naming the file and byte`, () => {
    let refused = 0;
    let changedLoads = 0;
    fc.assert(fc.property(fc.array(idxMutation(3), { minLength: 1, maxLength: 4 }), (ms) => {
      const bytes = applyMutations(IMAGES, ms);
      timed(() => checkParsed(bytes, IDX_IMAGES));
      if (timed(() => checkLoaded(bytes, LABELS)) && differs(bytes, IMAGES)) changedLoads++;
      try {
        parseIdx(bytes);
      } catch {
        refused++;
      }
    }), { numRuns: RUNS, seed: FUZZ_SEED });
    // most mutations break the file; some (a flipped pixel) leave a valid one, whose values
    // checkLoaded compared with the mutated bytes
    expect(refused).toBeGreaterThan(RUNS / 2);
    expect(changedLoads).toBeGreaterThan(0);
  });

  it(`${RUNS} mutations of a label file: a consistent result or FormatError naming the file and byte`, () => {
    let refused = 0;
    let changedLoads = 0;
    fc.assert(fc.property(fc.array(idxMutation(1), { minLength: 1, maxLength: 4 }), (ms) => {
      const bytes = applyMutations(LABELS, ms);
      timed(() => checkParsed(bytes, IDX_LABELS));
      if (timed(() => checkLoaded(IMAGES, bytes)) && differs(bytes, LABELS)) changedLoads++;
      try {
        mnistFromIdx(IMAGES, bytes, IMAGES, LABELS);
      } catch {
        refused++;
      }
    }), { numRuns: RUNS, seed: FUZZ_SEED + 1 });
    expect(refused).toBeGreaterThan(RUNS / 2);
    expect(changedLoads).toBeGreaterThan(0);
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
