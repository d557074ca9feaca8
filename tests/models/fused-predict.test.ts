// The fused inference path of Sequential (Convolution -> Relu (-> max Pooling) as one call):
// conv_relu_pool_fwd_f32, where predict, predictProba, classify and loss give the same bits as the
// layers run one by one, and for 5x5 filters with a 2x2 pool Winograd F(4x4, 5x5)
// (wino5_relu_pool_fwd_f32; SimpleConvNet's conv1), equal to them to float rounding, the layers
// after it bit for bit; on both backends, for SimpleConvNet, an odd conv output, a conv -> relu ->
// conv stack, a 3x3 pool; overlapping and avg pools and Winograd 3x3 convolutions (DeepConvNet's
// conv2-conv6) run apart; training after inference is unchanged.
import { describe, it, expect, beforeAll, vi } from 'vitest';
import { createBackend } from '../../src/backend/create.js';
import type { Backend } from '../../src/backend/backend.js';
import { Sequential, SimpleConvNet, deepConvNet, type LayerSpec } from '../../src/models/index.js';
import { Tensor } from '../../src/tensor.js';
import { Convolution, Pooling } from '../../src/layers/index.js';
import { convAlgo, convGeom, fusedAlgo } from '../../src/ops/conv.js';
import { BACKENDS, randomF32 } from '../helpers/harness.js';
import { randomInput, sameBits, tinyNet, paramsOf } from './helpers.js';

/** Biases are zero after construction: give them random values so the tests see them. */
function randomBiases<T extends Sequential>(net: T, seed: number): T {
  net.setParams(Object.fromEntries(Object.entries(net.params).filter(([k]) => k.startsWith('b'))
    .map(([k, t], i) => [k, randomF32(t.size, seed + i).map((v) => v * 0.3)])));
  return net;
}

/** Logits of the layers run one by one (their own forward, inference mode): the unfused path. */
function layersApart(net: Sequential, x: Tensor): Float32Array {
  let y = x;
  for (const l of net.layers) y = l.forward(y, false);
  return y.toArray();
}

/** Max |a - b| within 1e-5 of the largest |b| (at least 1): Winograd's rounding, not a wrong value. */
function expectNear(what: string, a: Float32Array, b: Float32Array): void {
  expect(a.length, what).toBe(b.length);
  let err = 0, mag = 1;
  for (let i = 0; i < a.length; i++) {
    err = Math.max(err, Math.abs(a[i] - b[i]));
    mag = Math.max(mag, Math.abs(b[i]));
  }
  expect(err, what).toBeLessThanOrEqual(1e-5 * mag);
}

/** [what, input (C, H, W), layers, fused calls, bit for bit with the layers apart (no F(4x4, 5x5))] */
const stacks: [string, number[], LayerSpec[], number, boolean][] = [
  ['conv -> relu -> conv -> relu -> pool 2x2 (both fusions, odd 5x5 conv output)', [2, 9, 9], [
    { type: 'Convolution', filterNum: 4, filterSize: 3, pad: 1 }, { type: 'Relu' },
    { type: 'Convolution', filterNum: 5, filterSize: 5, pad: 0 }, { type: 'Relu' },
    { type: 'Pooling', size: 2 },
    { type: 'Affine', outputSize: 7 }, { type: 'Relu' }, { type: 'Affine', outputSize: 3 },
  ], 2, false],
  ['conv stride 2 -> relu -> pool 3x3 (odd 9x7 conv output)', [3, 17, 13], [
    { type: 'Convolution', filterNum: 6, filterSize: 3, stride: 2, pad: 1 }, { type: 'Relu' },
    { type: 'Pooling', size: 3 }, { type: 'Affine', outputSize: 4 },
  ], 1, true],
  ['conv -> relu -> pool 3x3 stride 2 pad 1 (the overlapping pool runs apart; the conv -> relu is fused)', [3, 17, 13], [
    { type: 'Convolution', filterNum: 6, filterSize: 3, stride: 1, pad: 1 }, { type: 'Relu' },
    { type: 'Pooling', size: 3, stride: 2, pad: 1 }, { type: 'Affine', outputSize: 4 },
  ], 1, true],
  ['conv -> relu -> avg pool (avg is not fused; the conv -> relu is)', [1, 8, 8], [
    { type: 'Convolution', filterNum: 3, filterSize: 3 }, { type: 'Relu' },
    { type: 'Pooling', size: 2, mode: 'avg' }, { type: 'Affine', outputSize: 4 },
  ], 1, true],
  ['5x5 conv pad 2 -> relu -> pool 2x2 over 3 channels (F(4x4, 5x5), odd 11x9 conv output)', [3, 11, 9], [
    { type: 'Convolution', filterNum: 6, filterSize: 5, pad: 2 }, { type: 'Relu' },
    { type: 'Pooling', size: 2 }, { type: 'Affine', outputSize: 4 },
  ], 1, false],
];

describe.each(BACKENDS)('fused inference on %s', (name) => {
  let b: Backend;
  beforeAll(async () => {
    b = await createBackend(name);
  });

  it('SimpleConvNet: conv1 -> relu -> pool runs as F(4x4, 5x5), equal to the layers apart to rounding; predict, predictProba, classify and loss follow it bit for bit', () => {
    const net = new SimpleConvNet({ backend: b, inputDim: [1, 28, 28], convParam: { filterNum: 30, filterSize: 5, pad: 0, stride: 1 },
      hiddenSize: 100, outputSize: 10, weightInitStd: 0.1, seed: 3 });
    randomBiases(net, 4);
    const x = randomInput([13, 1, 28, 28], 5);
    const conv = net.layers[0] as Convolution, pool = net.layers[2] as Pooling;
    expect(fusedAlgo(convGeom(conv.name, x.shape, conv.W.shape, conv.stride, conv.pad), pool)).toBe('winograd5');
    const spy = vi.spyOn(conv, 'forwardFused');
    const y = net.predict(x);
    expect(spy).toHaveBeenCalledTimes(1);
    spy.mockRestore();
    // the fused head against conv -> relu -> pool apart, then the layers after it on the fused head
    const head = conv.forwardFused(x, pool).toArray();
    let apartHead = x;
    for (const l of net.layers.slice(0, 3)) apartHead = l.forward(apartHead, false);
    expectNear('conv1 -> relu -> pool', head, apartHead.toArray());
    // a real test: many ReLU outputs are zero and many are not
    expect(head.some((v) => v === 0) && head.filter((v) => v > 0).length > head.length / 4).toBe(true);
    let rest = Tensor.host(head, [13, 30, 12, 12]);
    for (const l of net.layers.slice(3)) rest = l.forward(rest, false);
    const logits = rest.toArray();
    expect(sameBits(y.data, logits)).toBe(true);
    expectNear('logits', y.data, layersApart(net, x));
    const p = net.predictProba(x).data;
    const ref = new Float32Array(p.length);
    const yb = b.tensor(logits, [13, 10]), pb = b.zeros([13, 10]);
    b.kernels.softmax_f32(yb.ptr, pb.ptr, 13, 10);
    ref.set(pb.data);
    expect(sameBits(p, ref)).toBe(true);
    const cls = net.classify(x);
    for (let i = 0; i < 13; i++) expect(cls[i]).toBe(logits.subarray(i * 10, i * 10 + 10).indexOf(Math.max(...logits.subarray(i * 10, i * 10 + 10))));
    const t = Int32Array.from({ length: 13 }, (_, i) => i % 10);
    const loss = net.loss(x, t);
    expect(loss).toBe(net.lastLayer.forward(Tensor.host(logits, [13, 10]), t));
    yb.dispose();
    pb.dispose();
    net.dispose();
  });

  it('tiny SimpleConvNet (odd 5x5 conv output, pool drops a row and a column), and inputs split into batches of 1,000', () => {
    const net = randomBiases(tinyNet(b), 8);
    const x = randomInput([1203, 1, 7, 7], 9);
    const y = net.predict(x);
    const apart = new Float32Array(1203 * 4);
    for (let s = 0; s < 1203; s += 1000) {
      const n = Math.min(1000, 1203 - s);
      apart.set(layersApart(net, Tensor.host(x.data.subarray(s * 49, (s + n) * 49), [n, 1, 7, 7])), s * 4);
    }
    expect(sameBits(y.data, apart)).toBe(true);
    net.dispose();
  });

  for (const [what, inputDim, layers, fused, exact] of stacks) {
    it(what, () => {
      const net = randomBiases(new Sequential({ backend: b, inputDim, layers, seed: 11 }), 12);
      const x = randomInput([5, ...inputDim], 13);
      const spies = net.layers.filter((l): l is Convolution => l instanceof Convolution).map((l) => vi.spyOn(l, 'forwardFused'));
      const y = net.predict(x);
      expect(spies.reduce((n, s) => n + s.mock.calls.length, 0)).toBe(fused);
      spies.forEach((s) => s.mockRestore());
      if (exact) expect(sameBits(y.data, layersApart(net, x))).toBe(true);
      else expectNear(what, y.data, layersApart(net, x));
      net.dispose();
    });
  }

  it('DeepConvNet: only conv1 (direct) fuses, the Winograd conv2-conv6 run apart; predict equals the layers one by one', () => {
    const net = randomBiases(deepConvNet({ backend: b, seed: 21 }), 22);
    const x = randomInput([3, 1, 28, 28], 23);
    const convs = net.layers.filter((l): l is Convolution => l instanceof Convolution);
    let shape = [3, 1, 28, 28];
    const algos = net.layers.map((l) => {
      const algo = l instanceof Convolution ? convAlgo(convGeom(l.name, shape, l.W.shape, l.stride, l.pad)) : null;
      shape = l.outputShape(shape);
      return algo;
    }).filter((a) => a !== null);
    expect(algos).toEqual(['direct', 'winograd', 'winograd', 'winograd', 'winograd', 'winograd']);
    const spies = convs.map((l) => vi.spyOn(l, 'forwardFused'));
    const y = net.predict(x);
    expect(spies.map((s) => s.mock.calls.length)).toEqual([1, 0, 0, 0, 0, 0]);
    spies.forEach((s) => s.mockRestore());
    const apart = layersApart(net, x);
    expect(apart.some((v) => v !== 0)).toBe(true);
    expect(sameBits(y.data, apart)).toBe(true);
    net.dispose();
  });

  it('training after inference is unchanged: gradient and parameters as without the predict calls', () => {
    const run = (withPredict: boolean) => {
      const net = randomBiases(tinyNet(b), 16);
      const x = randomInput([6, 1, 7, 7], 17);
      const t = new Int32Array([0, 1, 2, 3, 0, 1]);
      if (withPredict) net.predict(randomInput([9, 1, 7, 7], 19));
      const g = net.gradient(x, t);
      const grads = Object.fromEntries(Object.entries(g).map(([k, v]) => [k, v.toArray()]));
      if (withPredict) net.predict(x);
      const again = net.gradient(x, t);
      const out = { grads, again: Object.fromEntries(Object.entries(again).map(([k, v]) => [k, v.toArray()])), params: paramsOf(net) };
      net.dispose();
      return out;
    };
    const plain = run(false), mixed = run(true);
    for (const k of Object.keys(plain.grads)) {
      expect(sameBits(mixed.grads[k], plain.grads[k]), k).toBe(true);
      expect(sameBits(mixed.again[k], plain.again[k]), k).toBe(true);
    }
  });
});
