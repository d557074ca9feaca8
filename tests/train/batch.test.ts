import { describe, it, expect, beforeAll } from 'vitest';
import { createBackend } from '../../src/backend/create.js';
import type { Backend } from '../../src/backend/backend.js';
import { tensor } from '../../src/tensor.js';
import { BatchGatherer } from '../../src/data/batch.js';
import type { ByteImages } from '../../src/data/dataset.js';

describe('BatchGatherer', () => {
  let backend: Backend;
  beforeAll(async () => { backend = await createBackend('js'); });

  // 5 samples of shape (1, 2, 3): sample i holds i*10 + k
  const N = 5, D = 6;
  const raw = Uint8Array.from({ length: N * D }, (_, j) => Math.floor(j / D) * 10 + (j % D));
  const bytes: ByteImages = { kind: 'bytes', data: raw, shape: [N, 1, 2, 3], scale: 1 / 255 };

  it('gathers byte images as byte * scale, with index labels', () => {
    const g = new BatchGatherer(backend, bytes, Uint8Array.from([4, 3, 2, 1, 0]), 3);
    expect(g.x.shape).toEqual([3, 1, 2, 3]);
    expect(g.gather(Int32Array.from([2, 0, 4]))).toBe(3);
    const want = [2, 0, 4].flatMap((i) => Array.from({ length: D }, (_, k) => Math.fround((i * 10 + k) * (1 / 255))));
    expect(Array.from(g.x.data)).toEqual(want);
    expect(Array.from(g.t)).toEqual([2, 4, 0]);
    g.dispose();
  });

  it('gathers float rows, with one-hot labels argmaxed, reusing one buffer', () => {
    const floats = tensor(Array.from(raw, (v) => v + 0.5), [N, 1, 2, 3]);
    const onehot = tensor([0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 1, 0, 1, 0, 0], [N, 3]);
    const g = new BatchGatherer(backend, floats, onehot, 2);
    const ptr = g.x.ptr;
    const used = backend.memoryStats().used;
    g.gather([3, 1]);
    expect(Array.from(g.x.data)).toEqual([...Array.from({ length: D }, (_, k) => 30 + k + 0.5), ...Array.from({ length: D }, (_, k) => 10 + k + 0.5)]);
    expect(Array.from(g.t)).toEqual([1, 0]);
    g.gather([4, 2]);
    expect(g.x.ptr).toBe(ptr);
    expect(backend.memoryStats().used).toBe(used);
    expect(Array.from(g.t)).toEqual([0, 2]);
    g.dispose();
  });

  it('reshapes samples to a given sample shape with the same size', () => {
    const flat: ByteImages = { ...bytes, shape: [N, D] };
    const g = new BatchGatherer(backend, flat, null, 2, { sampleShape: [1, 2, 3] });
    expect(g.x.shape).toEqual([2, 1, 2, 3]);
    g.dispose();
    expect(() => new BatchGatherer(backend, flat, null, 2, { sampleShape: [1, 28, 28] }))
      .toThrow(/samples of shape \(6\) \(6 values\) cannot be used as \(1, 28, 28\) \(784 values\)/);
  });

  it('pads a short tail with copies of the last sample and returns the real count', () => {
    const g = new BatchGatherer(backend, bytes, Int32Array.from([0, 1, 2, 3, 4]), 4);
    expect(g.gatherRange(3)).toBe(2);
    const d = g.x.data;
    for (let r = 0; r < 4; r++) expect(d[r * D] * 255).toBeCloseTo(r === 0 ? 30 : 40, 4);
    expect(Array.from(g.t)).toEqual([3, 4, 4, 4]);
    expect(g.gather([1, 2, 3], 2)).toBe(1);
    expect(Array.from(g.t)).toEqual([3, 3, 3, 3]);
    g.dispose();
  });

  it('rejects bad input', () => {
    expect(() => new BatchGatherer(backend, bytes, Int32Array.from([0, 1]), 2)).toThrow(/2 labels for 5 inputs/);
    expect(() => new BatchGatherer(backend, bytes, Int32Array.from([0, 1, 2, 3, 9]), 2, { classes: 5 })).toThrow(/label 9 at index 4 is out of range: expected a class index in 0\.\.4/);
    expect(() => new BatchGatherer(backend, { ...bytes, data: raw.subarray(1) }, null, 2)).toThrow(/need 30 bytes, got 29/);
    expect(() => new BatchGatherer(backend, bytes, null, 0)).toThrow(/batch size must be a positive integer/);
    const g = new BatchGatherer(backend, bytes, null, 2);
    expect(() => g.gather([0, 5])).toThrow(/sample index 5 outside \[0, 5\)/);
    expect(() => g.gather([0, 1], 2)).toThrow(/no samples to gather/);
    g.dispose();
  });
});
