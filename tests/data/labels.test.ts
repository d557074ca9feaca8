// The one label module: class indices from the labels a user gives (indices, arrays, one-hot
// tensors) and from scores (argmax), used by the layers, the models, the Trainer and the gatherer.
import { describe, expect, it } from 'vitest';
import { argmaxRows, labelIndices } from '../../src/data/labels.js';
import { ShapeError, WasmCnnError } from '../../src/errors.js';
import { tensor } from '../../src/tensor.js';

describe('labelIndices', () => {
  it('returns Int32Array / Uint8Array indices as they are and converts arrays and rank-1 tensors', () => {
    const i32 = Int32Array.of(2, 0, 1);
    expect(labelIndices('t', i32, { count: 3, classes: 3 })).toBe(i32);
    const u8 = Uint8Array.of(9, 0);
    expect(labelIndices('t', u8, { classes: 10 })).toBe(u8);
    expect(Array.from(labelIndices('t', [1, 0, 2]))).toEqual([1, 0, 2]);
    expect(Array.from(labelIndices('t', tensor([3, 1]), { classes: 4 }))).toEqual([3, 1]);
  });

  it('turns one-hot rows into their hot column and refuses rows that are not one-hot', () => {
    expect(Array.from(labelIndices('t', tensor([0, 0, 1, 1, 0, 0], [2, 3]), { count: 2, classes: 3 }))).toEqual([2, 0]);
    // soft or multi-hot rows are refused, not argmax'd: they are not the course's labels
    expect(() => labelIndices('t', tensor([0, 0.9, 0.1, 1, 0, 0], [2, 3]))).toThrow(/row 0 of the one-hot labels is not one-hot/);
    expect(() => labelIndices('t', tensor([1, 0, 0, 1, 1, 0], [2, 3]))).toThrow(/row 1 of the one-hot labels is not one-hot/);
    expect(() => labelIndices('t', tensor([0, 0, 0], [1, 3]))).toThrow(/row 0/);
  });

  it('checks counts, classes and values, naming where, the index and the value', () => {
    expect(() => labelIndices('Trainer: tTrain', tensor([0, 1, 1, 0], [2, 2]), { classes: 10 }))
      .toThrow(/Trainer: tTrain: one-hot labels must have shape \(2, 10\) for 2 inputs and 10 classes, got \(2, 2\)/);
    expect(() => labelIndices('t', Int32Array.of(1, 2), { count: 3 })).toThrow(ShapeError);
    expect(() => labelIndices('t', Int32Array.of(1, 12), { classes: 10 })).toThrow(/label 12 at index 1 is out of range: expected a class index in 0\.\.9/);
    expect(() => labelIndices('t', [0, 1.5])).toThrow(/label 1.5 at index 1 is not a class index/);
    expect(() => labelIndices('t', tensor(new Float32Array(8), [2, 2, 2]))).toThrow(/got a tensor of shape \(2, 2, 2\)/);
    expect(() => labelIndices('t', null as never)).toThrow(WasmCnnError);
  });
});

describe('argmaxRows', () => {
  it('gives the first maximum of each row, like numpy.argmax, into an offset of `out`', () => {
    const scores = Float32Array.of(0, 3, 3, -1, -5, -2, -7, -2);
    expect(Array.from(argmaxRows(scores, 2, 4))).toEqual([1, 1]);
    const out = new Int32Array(4).fill(-1);
    argmaxRows(Float32Array.of(1, 2, 9, 0), 2, 2, out, 1);
    expect(Array.from(out)).toEqual([-1, 1, 0, -1]);
  });
});
