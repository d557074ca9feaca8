// Every layer's backprop against central differences of L = sum(forward(x) * dout), on
// both backends, plus the course's worked example, buffer reuse and shape errors.
import { describe, it, expect, beforeAll } from 'vitest';
import { createBackend } from '../../src/backend/create.js';
import type { Backend } from '../../src/backend/backend.js';
import { Tensor, tensor } from '../../src/tensor.js';
import { ShapeError, WasmCnnError } from '../../src/errors.js';
import {
  Convolution, Pooling, Affine, Relu, Sigmoid, Dropout, BatchNormalization, SoftmaxWithLoss, type Layer,
} from '../../src/layers/index.js';
import { BACKENDS, randomF32 } from '../helpers/harness.js';
import { ulp32 } from '../models/gradient-bound.js';
import { convAlgo, convGeom } from '../../src/ops/conv.js';

/** Values in [-1, 1) kept at least `gap` away from 0 (so ReLU kinks are not crossed). */
function awayFromZero(n: number, seed: number, gap = 0.05): Float32Array {
  return randomF32(n, seed).map((v) => (v < 0 ? v - gap : v + gap));
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Central differences of f over the values of `target` (a device tensor, perturbed in place). */
function numeric(target: Tensor, f: () => number, h: number): Float64Array {
  const g = new Float64Array(target.size);
  for (let i = 0; i < target.size; i++) {
    const v = target.data[i];
    const up = Math.fround(v + h);
    const down = Math.fround(v - h);
    target.data[i] = up;
    const a = f();
    target.data[i] = down;
    const b = f();
    target.data[i] = v;
    g[i] = (a - b) / (up - down);
  }
  return g;
}

/** max |a - b|. */
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

interface CheckOptions {
  train?: boolean;
  /** Step of the central differences (default 1e-2). */
  h?: number;
  /** Bound on |d3L/dv3| / 6 along one input value (truncation); 0 (default): L is linear in each single value. */
  curvature?: number;
  /** Changes the backprop gradients before they are compared (to show that a wrong one is caught). */
  tamper?: (analytic: Record<string, Float32Array>, shapes: Record<string, readonly number[]>) => void;
}

interface LayerError {
  /** max |backprop - numeric| */
  err: number;
  /** what float32 central differences allow for it */
  bound: number;
  /** max |numeric| */
  maxGrad: number;
}

/**
 * Backprop against central differences of L = sum(y * dout) for dx and every parameter
 * gradient of `layer` at device input x: per tensor, the largest |backprop - numeric| and
 * the bound float32 allows for it,
 *   bound = 2 * E / (2h) + curvature * h^2.
 * Noise: each output y_j is a float32 result, which a perturbed forward may round
 * differently by up to ~ulp(y_j), so L(v + h) - L(v - h) carries up to
 * E = sum_j |dout_j| ulp(y_j) of rounding, and the quotient E / (2h) (measured: at most
 * 0.6 E / (2h) on every layer below and both backends, so 2 leaves a 3x margin).
 * Truncation: the central difference is exact for a function linear in the perturbed value
 * (convolution, affine, pooling, ReLU and dropout, away from kinks and argmax changes)
 * and off by h^2 |L'''| / 6 otherwise (`curvature`).
 */
function layerErrors(layer: Layer, x: Tensor, opts: CheckOptions = {}): Record<string, LayerError> {
  const train = opts.train ?? true;
  const h = opts.h ?? 1e-2;
  const y0 = layer.forward(x, train);
  const dout = randomF32(y0.size, 99);
  const y = y0.toArray();
  let E = 0;
  for (let j = 0; j < y.length; j++) E += Math.abs(dout[j]) * ulp32(y[j]);
  const bound = (2 * E) / (2 * h) + (opts.curvature ?? 0) * h * h;
  const L = () => dot(layer.forward(x, train).data, dout);
  layer.forward(x, train);
  const dx = layer.backward(tensor(dout, y0.shape))!;
  expect(dx.shape).toEqual(x.shape);
  const analytic: Record<string, Float32Array> = { x: dx.toArray() };
  const shapes: Record<string, readonly number[]> = { x: x.shape };
  for (const [k, g] of Object.entries(layer.grads)) {
    analytic[k] = g.toArray();
    shapes[k] = g.shape;
  }
  opts.tamper?.(analytic, shapes);
  const out: Record<string, LayerError> = {};
  for (const [k, t] of [['x', x], ...Object.entries(layer.params)] as [string, Tensor][]) {
    const num = numeric(t, L, h);
    out[k] = { err: maxDiff(analytic[k], num), bound, maxGrad: Math.max(...Array.from(num, Math.abs)) };
  }
  return out;
}

/** Checks dx and every parameter gradient of `layer` against central differences (layerErrors). */
function checkLayer(b: Backend, layer: Layer, x: Tensor, opts: CheckOptions = {}) {
  for (const [k, r] of Object.entries(layerErrors(layer, x, opts))) {
    expect(r.err, `${k}: |backprop - numeric| (largest gradient ${r.maxGrad})`).toBeLessThanOrEqual(r.bound);
  }
}

/**
 * |L'''| / 6 along one input value of the batch normalizations below (batches of 4-5, where
 * one value moves the batch mean and variance): measured about 1.2 (dx of the 4-D case,
 * h = 1e-2); 4 leaves a 3x margin.
 */
const BN_CURVATURE = 4;

/** The values of a row-major (rows, cols) matrix laid out as its transpose (cols, rows). */
function transposed(a: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(a.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j];
  return t;
}

describe.each(BACKENDS)('layers on %s', (name) => {
  let b: Backend;
  beforeAll(async () => {
    b = await createBackend(name);
  });

  it("Convolution: the course's worked example (4x4 input, 3x3 filter, bias 3)", () => {
    const x = tensor([1, 2, 3, 0, 0, 1, 2, 3, 3, 0, 1, 2, 2, 3, 0, 1], [1, 1, 4, 4]);
    const conv = new Convolution(b, tensor([2, 0, 1, 0, 1, 2, 1, 0, 2], [1, 1, 3, 3]), tensor([3]));
    expect([...conv.forward(x).data]).toEqual([18, 19, 9, 18]);
    const padded = new Convolution(b, tensor([2, 0, 1, 0, 1, 2, 1, 0, 2], [1, 1, 3, 3]), tensor([0]), { pad: 1 });
    expect(padded.forward(x).shape).toEqual([1, 1, 4, 4]);
    expect(padded.forward(x).data[5]).toBe(15);
  });

  for (const [stride, pad, hw] of [[1, 0, 5], [2, 1, 5], [2, 0, 6], [1, 1, 4]] as const) {
    it(`Convolution backward: stride ${stride}, pad ${pad}, ${hw}x${hw} input`, () => {
      const conv = new Convolution(b, tensor(randomF32(3 * 2 * 9, 1), [3, 2, 3, 3]), tensor(randomF32(3, 2)), { stride, pad });
      const x = b.tensor(randomF32(2 * 2 * hw * hw, 3), [2, 2, hw, hw]);
      checkLayer(b, conv, x);
      expect(conv.dW.shape).toEqual([3, 2, 3, 3]);
      expect(conv.db.shape).toEqual([3]);
    });
  }

  for (const pad of [0, 1, 2]) {
    it(`Convolution backward by Winograd: 8 -> 5 channels, 3x3, pad ${pad}, 7x6 input`, () => {
      const conv = new Convolution(b, tensor(randomF32(5 * 8 * 9, 4), [5, 8, 3, 3]), tensor(randomF32(5, 5)), { pad });
      const x = b.tensor(randomF32(3 * 8 * 7 * 6, 6), [3, 8, 7, 6]);
      expect(convAlgo(convGeom('conv', x.shape, conv.W.shape, 1, pad))).toBe('winograd');
      checkLayer(b, conv, x);
    });
  }

  it('Convolution with inputGrad: false returns null but still fills dW and db', () => {
    const W = tensor(randomF32(2 * 1 * 4, 5), [2, 1, 2, 2]);
    const full = new Convolution(b, W, tensor([0.1, -0.2]));
    const first = new Convolution(b, W, tensor([0.1, -0.2]), { inputGrad: false });
    const x = tensor(randomF32(2 * 1 * 3 * 3, 6), [2, 1, 3, 3]);
    const dout = tensor(randomF32(2 * 2 * 2 * 2, 7), [2, 2, 2, 2]);
    full.forward(x);
    expect(full.backward(dout)).not.toBeNull();
    first.forward(x);
    expect(first.backward(dout)).toBeNull();
    expect([...first.dW.data]).toEqual([...full.dW.data]);
    expect([...first.db.data]).toEqual([...full.db.data]);
  });

  for (const mode of ['max', 'avg'] as const) {
    for (const [size, stride, pad, hw] of [[2, 2, 0, 5], [3, 2, 1, 5], [2, 1, 0, 4]] as const) {
      it(`Pooling ${mode} backward: size ${size}, stride ${stride}, pad ${pad}, ${hw}x${hw}`, () => {
        const pool = new Pooling(b, { size, stride, pad, mode });
        // distinct values (a permutation scaled) so no two window values tie
        const n = 2 * 2 * hw * hw;
        const vals = Array.from({ length: n }, (_, i) => ((i * 37) % n) / n - 0.5);
        const x = b.tensor(vals, [2, 2, hw, hw]);
        // max: steps well below the 1/n spacing of the values, so no argmax changes
        checkLayer(b, pool, x, { h: mode === 'max' ? 0.2 / n : 1e-2 });
      });
    }
  }

  it('a gradient 5% too large or transposed is caught (Affine, Convolution)', () => {
    const affine = () => new Affine(b, tensor(randomF32(18 * 4, 11), [18, 4]), tensor(randomF32(4, 12)));
    const ax = b.tensor(randomF32(3 * 18, 13), [3, 18]);
    const conv = () => new Convolution(b, tensor(randomF32(3 * 2 * 9, 1), [3, 2, 3, 3]), tensor(randomF32(3, 2)), { stride: 1, pad: 1 });
    const cx = b.tensor(randomF32(2 * 2 * 5 * 5, 3), [2, 2, 5, 5]);
    const scale = (k: string) => (a: Record<string, Float32Array>) => { a[k] = a[k].map((v) => v * 1.05); };
    const cases: [string, () => Layer, Tensor, string, CheckOptions['tamper']][] = [
      ['Affine dW * 1.05', affine, ax, 'W', scale('W')],
      ['Affine db * 1.05', affine, ax, 'b', scale('b')],
      ['Affine dx * 1.05', affine, ax, 'x', scale('x')],
      ['Affine dW transposed', affine, ax, 'W', (a) => { a.W = transposed(a.W, 4, 18); }], // (4, 18) values in W's (18, 4) layout
      ['Convolution dW * 1.05', conv, cx, 'W', scale('W')],
      ['Convolution dx * 1.05', conv, cx, 'x', scale('x')],
      // each 3x3 filter gradient transposed (kh <-> kw): a correlation/convolution mix-up
      ['Convolution dW transposed', conv, cx, 'W', (a) => {
        for (let f = 0; f < 6; f++) a.W.set(transposed(a.W.subarray(f * 9, f * 9 + 9), 3, 3), f * 9);
      }],
    ];
    for (const [what, make, x, bad, tamper] of cases) {
      const r = layerErrors(make(), x, { tamper });
      for (const [k, e] of Object.entries(r)) {
        if (k === bad) expect(e.err, `${what}: ${k} is caught`).toBeGreaterThan(e.bound);
        else expect(e.err, `${what}: ${k} still passes`).toBeLessThanOrEqual(e.bound);
      }
    }
  });

  it('Pooling output uses floor division (odd sizes)', () => {
    const pool = new Pooling(b, { size: 2 });
    expect(pool.outputShape([3, 4, 5, 5])).toEqual([3, 4, 2, 2]);
    expect(pool.outputShape([3, 4, 7, 6])).toEqual([3, 4, 3, 3]);
  });

  it('Affine flattens a 4-D input and gives dx back in its shape', () => {
    const affine = new Affine(b, tensor(randomF32(18 * 4, 11), [18, 4]), tensor(randomF32(4, 12)));
    const x = b.tensor(randomF32(3 * 2 * 3 * 3, 13), [3, 2, 3, 3]);
    expect(affine.forward(x).shape).toEqual([3, 4]);
    expect(affine.originalXShape).toEqual([3, 2, 3, 3]);
    checkLayer(b, affine, x);
    const x2 = b.tensor(randomF32(2 * 18, 14), [2, 18]);
    checkLayer(b, affine, x2);
  });

  it('Relu backward', () => {
    checkLayer(b, new Relu(b), b.tensor(awayFromZero(2 * 3 * 4, 21), [2, 3, 4]));
  });

  it('Sigmoid backward', () => {
    // along one input L''' = dout_j sigmoid'''(x_j), |sigmoid'''| <= 1/8 and |dout_j| < 1
    checkLayer(b, new Sigmoid(b), b.tensor(randomF32(2 * 3 * 4, 22).map((v) => 3 * v), [2, 3, 4]), { curvature: 1 / 48 });
  });

  it('Dropout: seeded masks, train/eval, backward through the mask', () => {
    const x = b.tensor(randomF32(4 * 10, 31), [4, 10]);
    const d1 = new Dropout(b, { ratio: 0.3, seed: 5 });
    const d2 = new Dropout(b, { ratio: 0.3, seed: 5 });
    const y1 = d1.forward(x, true).toArray();
    expect(d2.forward(x, true).toArray()).toEqual(y1);
    const mask = d1.mask!.toArray();
    const kept = mask.reduce((s, v) => s + v, 0);
    expect(kept).toBeGreaterThan(10);
    expect(kept).toBeLessThan(40);
    for (let i = 0; i < 40; i++) expect(y1[i] === (mask[i] ? x.data[i] : 0)).toBe(true);
    // a fresh mask on the next training forward
    expect(d1.forward(x, true).toArray()).not.toEqual(y1);
    // eval: scaled by 1 - ratio
    const ye = d1.forward(x, false).toArray();
    for (let i = 0; i < 40; i++) expect(ye[i]).toBeCloseTo(x.data[i] * 0.7, 6);
    // gradient through a frozen mask
    d1.frozen = true;
    checkLayer(b, d1, x);
    checkLayer(b, d1, x, { train: false });
  });

  it('BatchNormalization backward (2-D and 4-D), running statistics, eval mode', () => {
    const D = 6;
    const bn = new BatchNormalization(b, tensor(randomF32(D, 41).map((v) => 1 + 0.5 * v), [D]), tensor(randomF32(D, 42), [D]));
    const x = b.tensor(randomF32(5 * D, 43).map((v) => 2 * v + 0.5), [5, D]);
    checkLayer(b, bn, x, { curvature: BN_CURVATURE });
    const bn4 = new BatchNormalization(b, tensor(randomF32(8, 44).map((v) => 1 + 0.5 * v), [8]), tensor(randomF32(8, 45), [8]));
    checkLayer(b, bn4, b.tensor(randomF32(4 * 8, 46), [4, 2, 2, 2]), { curvature: BN_CURVATURE });

    // running mean/var follow the course's update: r = 0.9 r + 0.1 batch statistic
    const bn2 = new BatchNormalization(b, tensor([1, 1]), tensor([0, 0]));
    const xs = b.tensor([1, 10, 3, 20], [2, 2]);
    bn2.forward(xs, true);
    expect([...bn2.runningMean.data].map((v) => +v.toFixed(5))).toEqual([0.2, 1.5]);
    expect([...bn2.runningVar.data].map((v) => +v.toFixed(5))).toEqual([+(0.9 + 0.1 * 1).toFixed(5), +(0.9 + 0.1 * 25).toFixed(5)]);
    const ye = bn2.forward(xs, false).toArray();
    expect(ye[0]).toBeCloseTo((1 - 0.2) / Math.sqrt(1 + 1e-6), 5);
    expect(() => bn2.backward(tensor([1, 1, 1, 1], [2, 2]))).toThrow(/training-mode forward/);
  });

  it('SoftmaxWithLoss: loss and backward against central differences; index and one-hot labels agree', () => {
    const N = 3;
    const C = 4;
    const sm = new SoftmaxWithLoss(b);
    const x = b.tensor(randomF32(N * C, 51).map((v) => 2 * v), [N, C]);
    const t = new Int32Array([2, 0, 3]);
    const loss = sm.forward(x, t);
    // float64 reference
    let ref = 0;
    for (let i = 0; i < N; i++) {
      const row = Array.from(x.data.subarray(i * C, i * C + C));
      const m = Math.max(...row);
      const z = row.reduce((s, v) => s + Math.exp(v - m), 0);
      ref -= Math.log(Math.exp(row[t[i]] - m) / z + 1e-7);
    }
    expect(loss).toBeCloseTo(ref / N, 5);
    const oneHot = new Float32Array(N * C);
    t.forEach((c, i) => (oneHot[i * C + c] = 1));
    expect(sm.forward(x, tensor(oneHot, [N, C]))).toBe(loss);
    expect(sm.forward(x, new Uint8Array([2, 0, 3]))).toBe(loss);
    const dx = sm.backward().toArray();
    const num = numeric(x, () => sm.forward(x, t), 1e-2);
    // the loss is one float32 value: noise 2 ulp(loss) / (2h) (as in layerErrors); truncation
    // h^2 |L'''| / 6 with |L'''| <= 1 / (6 sqrt(3) N) along one logit (third derivative of the
    // mean cross-entropy of a softmax), under h^2 / (36 N)
    const h = 1e-2;
    expect(maxDiff(dx, num)).toBeLessThanOrEqual((2 * ulp32(loss)) / (2 * h) + (h * h) / (36 * N));
    sm.forward(x, t);
    const dx2 = sm.backward(2).toArray();
    dx2.forEach((v, i) => expect(v).toBeCloseTo(2 * dx[i], 6));
    expect(() => sm.forward(x, new Int32Array([0, 1]))).toThrow(/2 labels for 3 inputs/);
    expect(() => sm.forward(x, new Int32Array([0, 1, 4]))).toThrow(/label 4 at index 2 is out of range/);
    expect(() => sm.forward(x, tensor(new Float32Array(N * C).fill(0.25), [N, C]))).toThrow(/not one-hot/);
  });

  it('host inputs are copied to reusable device buffers; steady state allocates nothing', () => {
    const conv = new Convolution(b, tensor(randomF32(2 * 1 * 9, 61), [2, 1, 3, 3]), tensor([0, 0]));
    const pool = new Pooling(b, { size: 2 });
    const x = tensor(randomF32(2 * 1 * 6 * 6, 62), [2, 1, 6, 6]);
    const run = () => {
      const y = pool.forward(conv.forward(x));
      conv.backward(pool.backward(tensor(new Float32Array(y.size).fill(1), y.shape))!);
      return y;
    };
    const y1 = run();
    const hw = b.memoryStats().highWater;
    const used = b.memoryStats().used;
    for (let i = 0; i < 3; i++) expect(run().ptr).toBe(y1.ptr);
    expect(b.memoryStats().highWater).toBe(hw);
    expect(b.memoryStats().used).toBe(used);
    // a smaller batch reuses the same blocks
    pool.forward(conv.forward(tensor(randomF32(36, 63), [1, 1, 6, 6])));
    expect(b.memoryStats().highWater).toBe(hw);
  });

  it('shape errors name the layer, the expected and the actual shape', () => {
    const conv = new Convolution(b, tensor(new Float32Array(2 * 3 * 9), [2, 3, 3, 3]), tensor([0, 0]), { name: 'Conv1' });
    expect(() => conv.forward(tensor(new Float32Array(2 * 2 * 25), [2, 2, 5, 5]))).toThrow(ShapeError);
    expect(() => conv.forward(tensor(new Float32Array(2 * 2 * 25), [2, 2, 5, 5]))).toThrow(/Conv1.*\(2, 3, 3, 3\).*\(2, 2, 5, 5\)/);
    expect(() => conv.forward(tensor(new Float32Array(50), [2, 25]))).toThrow(/Conv1: input must be 4-D/);
    expect(() => new Convolution(b, tensor(new Float32Array(18), [2, 1, 3, 3]), tensor([0, 0, 0]))).toThrow(/b must have shape \(2\)/);
    const affine = new Affine(b, tensor(new Float32Array(12), [6, 2]), tensor([0, 0]), { name: 'Affine1' });
    expect(() => affine.forward(tensor(new Float32Array(10), [2, 5]))).toThrow(/Affine1: input \(2, 5\) has 5 values per sample, but W \(6, 2\) expects 6/);
    affine.forward(tensor(new Float32Array(12), [2, 6]));
    expect(() => affine.backward(tensor(new Float32Array(6), [3, 2]))).toThrow(/Affine1.backward: dout must have the forward output's shape \(2, 2\), got \(3, 2\)/);
    expect(() => new Relu(b).backward(tensor([1]))).toThrow(/call forward first/);
    expect(() => new Pooling(b, { size: 2, pad: 2 })).toThrow(/pad 2 must be smaller/);
    expect(() => new Pooling(b, { size: 3 }).forward(tensor(new Float32Array(4), [1, 1, 2, 2]))).toThrow(/does not fit/);
    expect(() => new Dropout(b, { ratio: 1 })).toThrow(WasmCnnError);
  });

  it('a constructor that refuses its arguments part-way keeps none of the device memory it took', () => {
    // host parameters are copied to the device one by one: the first copy is made before the
    // second argument (or an option) is refused
    const refusals: [() => unknown, RegExp][] = [
      [() => new Affine(b, tensor(new Float32Array(12), [6, 2]), tensor([0, 0, 0])), /b must have shape \(2\)/],
      [() => new Affine(b, tensor(new Float32Array(12), [6, 2]), tensor(new Float32Array(4), [2, 2])), /b must be 1-D/],
      [() => new Convolution(b, tensor(new Float32Array(18), [2, 1, 3, 3]), tensor([0, 0, 0])), /b must have shape \(2\)/],
      [() => new Convolution(b, tensor(new Float32Array(18), [2, 1, 3, 3]), tensor([0, 0]), { stride: 0 }), /stride/],
      [() => new BatchNormalization(b, tensor([1, 1, 1]), tensor([0, 0])), /beta \(2\) must have the shape of gamma \(3\)/],
      [() => new BatchNormalization(b, tensor([1, 1]), tensor([0, 0]), { momentum: 2 }), /momentum must be in \[0, 1\]/],
    ];
    for (const [make, why] of refusals) {
      const before = b.memoryStats().used;
      expect(make).toThrow(why);
      expect(b.memoryStats().used, String(why)).toBe(before);
    }
  });
});
