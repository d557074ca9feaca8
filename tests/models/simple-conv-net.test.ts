// SimpleConvNet: gradients vs central differences (odd conv outputs, stride 2 / pad 1),
// Wasm vs JS, seeding, labels, accuracy, steady-state memory and input errors.
import { describe, it, expect, beforeAll } from 'vitest';
import { createBackend } from '../../src/backend/create.js';
import type { Backend } from '../../src/backend/backend.js';
import { tensor } from '../../src/tensor.js';
import { ShapeError, WasmCnnError } from '../../src/errors.js';
import { SimpleConvNet } from '../../src/models/index.js';
import { gradientCheck } from '../../src/train/gradient-check.js';
import { expectGradientsMatch } from './gradient-bound.js';
import { BACKENDS, maxRelErr } from '../helpers/harness.js';
import { tinyNet, randomInput, paramsOf, oneHot } from './helpers.js';

const t3 = new Int32Array([1, 3, 0]);

describe.each(BACKENDS)('SimpleConvNet on %s', (name) => {
  let b: Backend;
  beforeAll(async () => {
    b = await createBackend(name);
  });

  const variants = [
    { label: '1x7x7, 3x3 filters (odd 5x5 conv output)', inputDim: [1, 7, 7], convParam: { filterNum: 3, filterSize: 3, pad: 0, stride: 1 } },
    { label: '1x7x7, 3x3 filters, stride 2, pad 1', inputDim: [1, 7, 7], convParam: { filterNum: 3, filterSize: 3, pad: 1, stride: 2 } },
    { label: '2x6x6, 2x2 filters (odd 5x5 conv output)', inputDim: [2, 6, 6], convParam: { filterNum: 2, filterSize: 2, pad: 0, stride: 1 } },
  ];
  for (const v of variants) {
    it(`gradient matches numericalGradient: ${v.label}`, () => {
      const net = tinyNet(b, { inputDim: v.inputDim, convParam: v.convParam });
      const x = randomInput([3, ...v.inputDim], 11);
      const res = gradientCheck(net, x, t3);
      expect(Object.keys(res)).toEqual(['W1', 'b1', 'W2', 'b2', 'W3', 'b3']);
      expectGradientsMatch(res, net.lastLoss); // the float32 bound (gradient-bound.ts)
    });
  }

  it('has the course parameter shapes, with floor division for the pooled size', () => {
    const net = tinyNet(b);
    const shapes = Object.fromEntries(Object.entries(net.params).map(([k, t]) => [k, t.shape]));
    // conv 7 - 3 + 1 = 5 (odd) -> pool floor(5 / 2) = 2 -> 3 * 2 * 2 = 12
    expect(shapes).toEqual({ W1: [3, 1, 3, 3], b1: [3], W2: [12, 5], b2: [5], W3: [5, 4], b3: [4] });
    expect(Object.keys(net.grads)).toEqual(Object.keys(net.params));
    expect(net.outputSize).toBe(4);
    expect(net.inputDim).toEqual([1, 7, 7]);
  });

  it('the same seed gives identical weights, another seed different ones; biases start at zero', () => {
    const a = paramsOf(tinyNet(b, { seed: 3 }));
    const c = paramsOf(tinyNet(b, { seed: 3 }));
    const d = paramsOf(tinyNet(b, { seed: 4 }));
    expect(a).toEqual(c);
    expect(a.W1).not.toEqual(d.W1);
    expect([...a.b1, ...a.b2, ...a.b3].every((v) => v === 0)).toBe(true);
  });

  it("weightInitStd 'he' / 'xavier' scale by the fan-in, a number is used as is", () => {
    const std = (a: Float32Array) => Math.sqrt(a.reduce((s, v) => s + v * v, 0) / a.length);
    const opts = { inputDim: [4, 12, 12], convParam: { filterNum: 20, filterSize: 5, pad: 0, stride: 1 }, hiddenSize: 40 };
    const he = paramsOf(tinyNet(b, { ...opts, weightInitStd: 'he' }));
    expect(std(he.W1) / Math.sqrt(2 / 100)).toBeGreaterThan(0.9);
    expect(std(he.W1) / Math.sqrt(2 / 100)).toBeLessThan(1.1);
    expect(std(he.W2) / Math.sqrt(2 / (20 * 4 * 4))).toBeGreaterThan(0.9);
    const xavier = paramsOf(tinyNet(b, { ...opts, weightInitStd: 'sigmoid' }));
    expect(std(xavier.W2) / Math.sqrt(1 / 320)).toBeGreaterThan(0.9);
    expect(std(xavier.W2) / Math.sqrt(1 / 320)).toBeLessThan(1.1);
    expect(paramsOf(tinyNet(b, { ...opts, weightInitStd: 'relu' })).W1).toEqual(he.W1);
    const fixed = paramsOf(tinyNet(b, { ...opts, weightInitStd: 0.01 }));
    expect(std(fixed.W2) / 0.01).toBeGreaterThan(0.9);
    expect(() => tinyNet(b, { weightInitStd: 'lecun' as never })).toThrow(/weightInitStd/);
  });

  it('predict, loss and accuracy agree for index labels, Uint8 labels and one-hot labels', () => {
    const net = tinyNet(b);
    const x = randomInput([5, 1, 7, 7], 21);
    const logits = net.predict(x).toArray();
    expect(net.predict(x).shape).toEqual([5, 4]);
    const pred = Array.from({ length: 5 }, (_, i) => {
      const row = Array.from(logits.subarray(i * 4, i * 4 + 4));
      return row.indexOf(Math.max(...row));
    });
    const t = new Int32Array(pred.map((p, i) => (i < 3 ? p : (p + 1) % 4)));
    const l1 = net.loss(x, t);
    expect(net.loss(x, new Uint8Array(t))).toBe(l1);
    expect(net.loss(x, oneHot(t, 4))).toBe(l1);
    expect(net.lastLoss).toBe(l1);
    expect(net.accuracy(x, t)).toBeCloseTo(3 / 5, 10);
    expect(net.accuracy(x, oneHot(t, 4))).toBeCloseTo(3 / 5, 10);
    expect(net.accuracy(x, t, 2)).toBeCloseTo(3 / 5, 10);
    expect(net.accuracy(x, t, 1)).toBeCloseTo(3 / 5, 10);
    // a device input gives the same results, also when batched
    const xd = b.tensor(x.data, x.shape);
    expect(net.loss(xd, t)).toBe(l1);
    expect(net.accuracy(xd, t, 2)).toBeCloseTo(3 / 5, 10);
    // a flattened (N, C*H*W) input is accepted too
    expect(net.loss(tensor(x.data, [5, 49]), t)).toBe(l1);
    // the gradient's loss is the same loss
    net.gradient(x, t);
    expect(net.lastLoss).toBeCloseTo(l1, 6);
  });

  it('steady-state training allocates no Wasm memory after the first step', () => {
    const net = tinyNet(b);
    const x = randomInput([4, 1, 7, 7], 31);
    const t = new Int32Array([0, 1, 2, 3]);
    const step = () => {
      const g = net.gradient(x, t);
      for (const [k, p] of Object.entries(net.params)) b.kernels.sgd_f32(p.ptr, g[k].ptr, p.size, 0.1);
      net.loss(x, t);
      net.predict(x);
      net.accuracy(x, t, 3);
    };
    step();
    const first = b.memoryStats();
    const losses: number[] = [];
    for (let i = 0; i < 5; i++) {
      step();
      losses.push(net.lastLoss);
      expect(b.memoryStats().highWater).toBe(first.highWater);
      expect(b.memoryStats().used).toBe(first.used);
    }
    expect(losses[4]).toBeLessThan(losses[0]);
  });

  it('input and label errors name the model, the expected and the actual shape', () => {
    const net = tinyNet(b);
    expect(() => net.predict(randomInput([2, 1, 8, 7], 1))).toThrow(ShapeError);
    expect(() => net.predict(randomInput([2, 1, 8, 7], 1))).toThrow(/SimpleConvNet\.predict: input must have shape \(N, 1, 7, 7\), got \(2, 1, 8, 7\)/);
    expect(() => net.loss(randomInput([2, 7, 7], 1), new Int32Array(2))).toThrow(/SimpleConvNet\.loss: input must have shape \(N, 1, 7, 7\), got \(2, 7, 7\)/);
    expect(() => net.gradient(randomInput([0, 1, 7, 7], 1), new Int32Array(0))).toThrow(/empty/);
    const x = randomInput([3, 1, 7, 7], 2);
    expect(() => net.loss(x, new Int32Array([0, 1]))).toThrow(/SimpleConvNet\.loss: 2 labels for 3 inputs/);
    expect(() => net.gradient(x, new Int32Array([0, 1, 4]))).toThrow(/SimpleConvNet\.gradient: label 4 at index 2 is out of range/);
    expect(() => net.accuracy(x, oneHot([0, 1], 4))).toThrow(/one-hot labels must have shape \(3, 4\).*got \(2, 4\)/);
    expect(() => net.accuracy(x, new Int32Array(3), 0)).toThrow(/batchSize/);
    expect(() => net.setParams({ W9: new Float32Array(1) })).toThrow(/unknown parameter "W9"/);
    expect(() => net.setParams({ W1: new Float32Array(3) })).toThrow(/W1 needs 27 values/);
    expect(() => new SimpleConvNet({ backend: b, inputDim: [1, 2, 2], convParam: { filterNum: 2, filterSize: 3, pad: 0, stride: 1 } }))
      .toThrow(/Conv1.*does not fit/);
    expect(() => new SimpleConvNet({ backend: b, inputDim: [7, 7] })).toThrow(WasmCnnError);
  });

  it('setParams replaces values (all checked before any changes)', () => {
    const net = tinyNet(b);
    const before = paramsOf(net);
    expect(() => net.setParams({ b1: new Float32Array([1, 2, 3]), W2: new Float32Array(2) })).toThrow(ShapeError);
    expect(paramsOf(net)).toEqual(before);
    net.setParams({ b1: new Float32Array([1, 2, 3]) });
    expect([...net.params.b1.data]).toEqual([1, 2, 3]);
  });
});

describe('SimpleConvNet: Wasm and JS agree', () => {
  it('same parameters give the same loss, predictions and gradients within float tolerance', async () => {
    const [w, j] = await Promise.all([createBackend('wasm'), createBackend('js')]);
    for (const convParam of [{ filterNum: 3, filterSize: 3, pad: 0, stride: 1 }, { filterNum: 4, filterSize: 3, pad: 1, stride: 2 }]) {
      const nw = tinyNet(w, { convParam, inputDim: [2, 9, 9], hiddenSize: 7, seed: 5 });
      const nj = tinyNet(j, { convParam, inputDim: [2, 9, 9], hiddenSize: 7, seed: 5 });
      expect(paramsOf(nw)).toEqual(paramsOf(nj));
      const x = randomInput([6, 2, 9, 9], 41);
      const t = new Int32Array([0, 1, 2, 3, 0, 1]);
      expect(maxRelErr(nw.predict(x).data, nj.predict(x).data)).toBeLessThan(1e-5);
      expect(Math.abs(nw.loss(x, t) - nj.loss(x, t))).toBeLessThan(1e-5);
      const gw = nw.gradient(x, t);
      const gj = nj.gradient(x, t);
      for (const k of Object.keys(gw)) expect(maxRelErr(gw[k].data, gj[k].data), k).toBeLessThan(1e-5);
    }
  });
});
