// Sequential: shape inference, gradients vs central differences for conv/pool/affine
// stacks with dropout and batch normalization, train/eval modes, save/load/rebuild,
// steady-state memory and build errors.
import { describe, it, expect, beforeAll } from 'vitest';
import { createBackend } from '../../src/backend/create.js';
import type { Backend } from '../../src/backend/backend.js';
import { ShapeError, WasmCnnError } from '../../src/errors.js';
import { Sequential, modelFromSafetensors, type LayerSpec } from '../../src/models/index.js';
import { BatchNormalization, Dropout } from '../../src/layers/index.js';
import { gradientCheck } from '../../src/train/gradient-check.js';
import { expectGradientsMatch } from './gradient-bound.js';
import { BACKENDS } from '../helpers/harness.js';
import { randomInput, paramsOf, sameBits } from './helpers.js';

const convStack: LayerSpec[] = [
  { type: 'Convolution', filterNum: 2, filterSize: 3, pad: 1 }, { type: 'Relu' },
  { type: 'Convolution', filterNum: 3, filterSize: 3, pad: 0 }, { type: 'Relu' },
  { type: 'Pooling', size: 2, stride: 2 },
  { type: 'Affine', outputSize: 6 }, { type: 'Relu' }, { type: 'Dropout', ratio: 0.3 },
  { type: 'Affine', outputSize: 4 }, { type: 'SoftmaxWithLoss' },
];

const bnStack: LayerSpec[] = [
  { type: 'Convolution', filterNum: 2, filterSize: 3, stride: 2, pad: 1 }, { type: 'BatchNormalization' }, { type: 'Relu' },
  { type: 'Pooling', size: 2, stride: 1, mode: 'avg' },
  { type: 'Affine', outputSize: 6 }, { type: 'BatchNormalization' }, { type: 'Sigmoid' },
  { type: 'Affine', outputSize: 3 },
];

const t4 = new Int32Array([1, 3, 0, 2]);
const t3 = new Int32Array([1, 2, 0, 2]);

describe.each(BACKENDS)('Sequential on %s', (name) => {
  let b: Backend;
  beforeAll(async () => {
    b = await createBackend(name);
  });

  it('conv-relu-conv-relu-pool-affine-relu-dropout-affine-softmax: shapes, names, gradient check', () => {
    const net = new Sequential({ backend: b, inputDim: [1, 7, 7], layers: convStack, seed: 3 });
    const shapes = Object.fromEntries(Object.entries(net.params).map(([k, t]) => [k, t.shape]));
    // 7 -pad1 conv3-> 7 -conv3-> 5 (odd) -pool2-> 2 => 3*2*2 = 12
    expect(shapes).toEqual({ W1: [2, 1, 3, 3], b1: [2], W2: [3, 2, 3, 3], b2: [3], W3: [12, 6], b3: [6], W4: [6, 4], b4: [4] });
    expect(net.outputSize).toBe(4);
    expect(net.layers.map((l) => l.type)).toEqual(['Convolution', 'Relu', 'Convolution', 'Relu', 'Pooling', 'Affine', 'Relu', 'Dropout', 'Affine']);
    const res = gradientCheck(net, randomInput([4, 1, 7, 7], 5), t4);
    expect(Object.keys(res)).toEqual(Object.keys(net.params));
    expectGradientsMatch(res, net.lastLoss); // the float32 bound (gradient-bound.ts)
  });

  it('with batch normalization, avg pooling and sigmoid: gradient check, running statistics restored', () => {
    const net = new Sequential({ backend: b, inputDim: [2, 6, 6], layers: bnStack, seed: 4 });
    expect(Object.keys(net.params)).toEqual(['W1', 'b1', 'gamma1', 'beta1', 'W2', 'b2', 'gamma2', 'beta2', 'W3', 'b3']);
    expect(Object.keys(net.buffers)).toEqual(['runningMean1', 'runningVar1', 'runningMean2', 'runningVar2']);
    // conv: floor((6 + 2 - 3) / 2) + 1 = 3; BN over 2*3*3 = 18 features; avg pool 2 stride 1 -> 2x2
    expect(net.params.gamma1.shape).toEqual([18]);
    expect(net.params.W2.shape).toEqual([8, 6]);
    const x = randomInput([4, 2, 6, 6], 6);
    net.gradient(x, t3);
    const stats = Object.values(net.buffers).map((t) => t.toArray());
    const num = net.numericalGradient(x, t3);
    Object.values(net.buffers).forEach((t, i) => expect(sameBits(t.toArray(), stats[i])).toBe(true));
    const res = gradientCheck(net, x, t3);
    // b1 and b2 feed batch normalization, which cancels any per-feature shift: their true
    // gradient is 0, so both sides are rounding noise and only the absolute error means anything
    // (which is all expectGradientsMatch checks)
    for (const k of ['b1', 'b2']) expect(Math.max(...net.grads[k].toArray().map(Math.abs)), k).toBeLessThan(1e-5);
    expectGradientsMatch(res, net.lastLoss); // b1, b2 too: the bound is absolute
    expect(Object.keys(num)).toEqual(Object.keys(net.params));
  });

  it('train and eval modes: dropout masks vary only in training; BN eval uses running statistics', () => {
    const net = new Sequential({ backend: b, inputDim: [1, 7, 7], layers: convStack, seed: 3 });
    const x = randomInput([4, 1, 7, 7], 7);
    const e1 = net.predict(x).toArray();
    expect(net.predict(x, false).toArray()).toEqual(e1);
    const tr1 = net.predict(x, true).toArray();
    const tr2 = net.predict(x, true).toArray();
    expect(tr1).not.toEqual(tr2);
    expect(net.layers.filter((l) => l instanceof Dropout)).toHaveLength(1);

    const bn = new Sequential({ backend: b, inputDim: [2, 6, 6], layers: bnStack, seed: 4 });
    const xb = randomInput([4, 2, 6, 6], 8);
    const before = bn.predict(xb).toArray();
    bn.loss(xb, t3, true);
    // training forward moved the running statistics, so evaluation changed
    expect(bn.predict(xb).toArray()).not.toEqual(before);
    const layer = bn.layers.find((l): l is BatchNormalization => l instanceof BatchNormalization)!;
    expect(layer.runningVar.toArray().some((v) => v !== 1)).toBe(true);
  });

  it('the same seed gives identical weights and identical dropout masks', () => {
    const a = new Sequential({ backend: b, inputDim: [1, 7, 7], layers: convStack, seed: 11 });
    const c = new Sequential({ backend: b, inputDim: [1, 7, 7], layers: convStack, seed: 11 });
    expect(paramsOf(a)).toEqual(paramsOf(c));
    const x = randomInput([2, 1, 7, 7], 9);
    expect(a.predict(x, true).toArray()).toEqual(c.predict(x, true).toArray());
    expect(paramsOf(new Sequential({ backend: b, inputDim: [1, 7, 7], layers: convStack, seed: 12 })).W1).not.toEqual(paramsOf(a).W1);
  });

  it('save -> modelFromSafetensors rebuilds the architecture with identical predictions (running statistics too)', () => {
    const net = new Sequential({ backend: b, inputDim: [2, 6, 6], layers: bnStack, seed: 4 });
    const x = randomInput([4, 2, 6, 6], 10);
    for (let i = 0; i < 3; i++) {
      const g = net.gradient(x, t3);
      for (const [k, p] of Object.entries(net.params)) b.kernels.sgd_f32(p.ptr, g[k].ptr, p.size, 0.1);
    }
    const bytes = net.saveParams();
    const copy = modelFromSafetensors(bytes, { backend: b });
    expect(copy).toBeInstanceOf(Sequential);
    expect(copy.config()).toEqual(net.config());
    expect(sameBits(copy.predict(x).toArray(), net.predict(x).toArray())).toBe(true);
    expect(sameBits(copy.buffers.runningMean2.toArray(), net.buffers.runningMean2.toArray())).toBe(true);
    // a file for another stack is refused, naming what differs
    const other = new Sequential({ backend: b, inputDim: [1, 7, 7], layers: convStack });
    const otherBefore = paramsOf(other);
    expect(() => other.loadParams(bytes)).toThrow(/Sequential\.loadParams: the file is for a different architecture: inputDim\[0\] is 2 in the file but 1 in this model/);
    expect(paramsOf(other)).toEqual(otherBefore);
    const wider = new Sequential({ backend: b, inputDim: [2, 6, 6], layers: bnStack.map((s) => (s.type === 'Affine' && s.outputSize === 6 ? { ...s, outputSize: 7 } : s)) });
    expect(() => wider.loadParams(bytes)).toThrow(/layers\[4\]\.outputSize is 6 in the file but 7 in this model/);
  });

  it('steady-state training allocates no Wasm memory after the first step', () => {
    const net = new Sequential({ backend: b, inputDim: [2, 6, 6], layers: [...bnStack.slice(0, -1), { type: 'Dropout' }, { type: 'Affine', outputSize: 3 }], seed: 4 });
    const x = randomInput([5, 2, 6, 6], 12);
    const t = new Int32Array([0, 1, 2, 0, 1]);
    const step = () => {
      const g = net.gradient(x, t);
      for (const [k, p] of Object.entries(net.params)) b.kernels.sgd_f32(p.ptr, g[k].ptr, p.size, 0.05);
      net.accuracy(x, t, 2);
    };
    step();
    const hw = b.memoryStats().highWater;
    for (let i = 0; i < 4; i++) {
      step();
      expect(b.memoryStats().highWater).toBe(hw);
    }
  });

  it('shape inference and build errors', () => {
    const mk = (inputDim: number[], layers: LayerSpec[]) => () => new Sequential({ backend: b, inputDim, layers });
    expect(mk([1, 7, 7], [{ type: 'Affine', outputSize: 5 }, { type: 'Convolution', filterNum: 2, filterSize: 3 }]))
      .toThrow(/Convolution1: a convolution needs \(C, H, W\) samples, but its input is \(5\)/);
    expect(mk([1, 7, 7], [{ type: 'Convolution', filterNum: 2, filterSize: 3 }])).toThrow(/last layer must give class scores \(N, classes\), but it gives \(N, 2, 5, 5\)/);
    expect(mk([1, 4, 4], [{ type: 'Convolution', filterNum: 2, filterSize: 5 }, { type: 'Affine', outputSize: 2 }])).toThrow(/Convolution1.*does not fit/);
    expect(mk([1, 7, 7], [{ type: 'SoftmaxWithLoss' }, { type: 'Affine', outputSize: 2 }])).toThrow(/SoftmaxWithLoss can only be the last layer/);
    expect(mk([1, 7, 7], [{ type: 'Dense', units: 3 } as never])).toThrow(/layer 1 \(Dense\): type must be one of/);
    expect(mk([1, 7, 7], [{ type: 'Affine', outputSize: 0 }])).toThrow(/layer 1 \(Affine\): outputSize must be a positive integer, got 0/);
    expect(mk([0, 7], [{ type: 'Affine', outputSize: 2 }])).toThrow(/inputDim/);
    const flat = new Sequential({ backend: b, inputDim: [12], layers: [{ type: 'Affine', outputSize: 3 }] });
    expect(() => flat.predict(randomInput([2, 13], 1))).toThrow(ShapeError);
    expect(() => flat.predict(randomInput([2, 13], 1))).toThrow(/Sequential\.predict: input must have shape \(N, 12\), got \(2, 13\)/);
    expect(() => flat.loss(randomInput([2, 12], 1), new Int32Array([0, 3]))).toThrow(WasmCnnError);
  });
});
