// The public API as a user meets it: the export lists (a snapshot to read in review), the
// course's standalone optimizer, ops that leak nothing without dispose, predict results that
// stay, predictProba/classify on both backends, and the options-object convention whose
// errors blame the caller, not the file.
import { beforeAll, describe, expect, it } from 'vitest';
import * as main from '../src/index.js';
import * as node from '../src/node.js';
import {
  Adam, FormatError, SimpleConvNet, WasmCnnError, createBackend, matmul, modelFromConfig, modelFromSafetensors,
  simpleConvNet, deepConvNet, tensor, type Backend,
} from '../src/index.js';
import { Random } from '../src/random.js';
import { BACKENDS } from './helpers/harness.js';

describe('the export lists', () => {
  it('the main entry exports exactly these runtime names (at most 50)', () => {
    const names = Object.keys(main).sort();
    expect(names).toEqual([
      'AdaGrad', 'Adam', 'Backend', 'DEEP_CONV_NET_LAYERS', 'DivergenceError', 'FormatError', 'Momentum', 'Nesterov',
      'RMSprop', 'SGD', 'Sequential', 'ShapeError', 'SimpleConvNet', 'Tensor', 'Trainer', 'WasmCnnError',
      'accuracyPng', 'accuracySvg', 'lossPng', 'lossSvg', 'avgPool', 'conv2d', 'createBackend', 'createOptimizer', 'decodePng', 'decodeSafetensors', 'deepConvNet',
      'encodePng', 'encodeSafetensors', 'featureMapGrid', 'filterGrid', 'gradientCheck', 'loadMnistBytesFromUrls',
      'loadMnistFromUrls', 'matmul', 'maxPool', 'mnistBytes', 'mnistFromIdx', 'modelFromConfig', 'modelFromSafetensors',
      'modelFromOnnx', 'modelToOnnx', 'parseIdx', 'pngToMnist', 'simpleConvNet', 'tensor',
    ].sort());
    expect(names.length).toBeLessThanOrEqual(50);
  });

  it('wasm-cnn/node adds only the Node helpers', () => {
    expect(Object.keys(node).sort()).toEqual(['loadMnist', 'loadMnistBytes', 'readIdxFile', 'readParamsFile', 'writeFileAtomic', 'writeFileAtomicSync']);
    for (const name of Object.keys(node)) expect(main).not.toHaveProperty(name);
  });
});

describe.each(BACKENDS)('the API on %s', (name) => {
  let backend: Backend;
  beforeAll(async () => { backend = await createBackend(name); });

  const smallNet = (seed: number) => new SimpleConvNet({
    backend, inputDim: [1, 10, 10], convParam: { filterNum: 4, filterSize: 3 }, hiddenSize: 8, outputSize: 5, seed,
  });
  const batch = (n: number, seed: number) => {
    const rng = new Random(seed);
    return tensor(rng.fillNormal(new Float32Array(n * 100), 1), [n, 1, 10, 10]);
  };

  it("the course's optimizer usage needs no binding: new Adam({ lr }).update(net.params, grads)", () => {
    const a = smallNet(3);
    const b = smallNet(3);
    const x = batch(6, 1);
    const t = Int32Array.of(0, 1, 2, 3, 4, 0);
    const free = new Adam({ lr: 0.01 });
    const bound = new Adam({ lr: 0.01, backend });
    for (let step = 0; step < 3; step++) {
      free.update(a.params, a.gradient(x, t));
      bound.update(b.params, b.gradient(x, t));
    }
    // the same updates as an optimizer given the backend explicitly, and the loss went down
    for (const k of Object.keys(a.params)) expect(Array.from(a.params[k].data)).toEqual(Array.from(b.params[k].data));
    expect(a.loss(x, t)).toBeLessThan(smallNet(3).loss(x, t));
  });

  it('an optimizer refuses parameters of two backends', async () => {
    const second = await createBackend(name);
    const p = { W: backend.zeros([3]), V: second.zeros([3]) };
    expect(() => new Adam().update(p, { W: backend.zeros([3]), V: second.zeros([3]) })).toThrow(/parameters "W" and "V" live on two different backends/);
    const opt = new Adam();
    opt.update({ W: backend.zeros([3]) }, { W: backend.zeros([3]) });
    expect(() => opt.update({ W: second.zeros([3]) }, { W: second.zeros([3]) })).toThrow(/parameter "W" is not a tensor on the optimizer's/);
    second.dispose();
  });

  it('10,000 matmul calls without dispose keep the Wasm memory flat', () => {
    const rng = new Random(5);
    const a = tensor(rng.fillNormal(new Float32Array(64 * 64), 1), [64, 64]);
    const bDev = backend.tensor(rng.fillNormal(new Float32Array(64 * 64), 1), [64, 64]);
    const first = matmul(backend, a, bDev);
    const before = backend.memoryStats();
    let last = first;
    for (let i = 0; i < 10_000; i++) last = matmul(backend, a, bDev);
    const after = backend.memoryStats();
    expect(after.capacity).toBe(before.capacity);
    expect(after.used).toBe(before.used);
    // results are ordinary host tensors with the right values
    expect(last.isDevice).toBe(false);
    expect(Array.from(last.data)).toEqual(Array.from(first.data));
    let ref = 0;
    for (let k = 0; k < 64; k++) ref += a.data[k] * bDev.data[k * 64];
    expect(last.data[0]).toBeCloseTo(ref, 3);
    bDev.dispose();
  });

  it('predict returns a result the next call does not overwrite; predictProba and classify agree with it', () => {
    const net = smallNet(7);
    const x1 = batch(4, 11);
    const x2 = batch(4, 12);
    const y1 = net.predict(x1);
    const copy = y1.toArray();
    const y2 = net.predict(x2);
    expect(Array.from(y1.data)).toEqual(Array.from(copy));
    expect(Array.from(y2.data)).not.toEqual(Array.from(copy));
    expect(y1.isDevice).toBe(false);

    const p = net.predictProba(x1);
    expect(p.shape).toEqual([4, 5]);
    const classes = net.classify(x1);
    for (let i = 0; i < 4; i++) {
      const row = Array.from(copy.subarray(i * 5, i * 5 + 5));
      const max = Math.max(...row);
      const e = row.map((v) => Math.exp(v - max));
      const s = e.reduce((u, v) => u + v, 0);
      let sum = 0;
      for (let c = 0; c < 5; c++) {
        expect(p.data[i * 5 + c]).toBeCloseTo(e[c] / s, 6);
        sum += p.data[i * 5 + c];
      }
      expect(sum).toBeCloseTo(1, 6);
      expect(classes[i]).toBe(row.indexOf(max));
    }
    // the accuracy is the share of classify() that matches the labels
    const t = Int32Array.from(classes, (c, i) => (i < 3 ? c : (c + 1) % 5));
    expect(net.accuracy(x1, t)).toBe(0.75);
  });

  it('predict, predictProba and classify split big inputs into batches without changing a value', () => {
    const net = smallNet(9);
    const x = batch(1203, 13);
    const whole = net.predict(x);
    const tail = net.predict(tensor(x.data.slice(1000 * 100), [203, 1, 10, 10]));
    expect(Array.from(whole.data.subarray(1000 * 5))).toEqual(Array.from(tail.data));
    expect(net.classify(x).length).toBe(1203);
  });

  it('loaders take { backend } and blame the caller for a wrong argument, the file for a bad file', () => {
    const net = simpleConvNet({ backend, seed: 1 });
    const bytes = net.saveParams();
    const kept = bytes.slice();
    for (const wrong of [backend, undefined, {}, { backend: {} }, { backend, seed: 1 }]) {
      let err: unknown;
      try {
        modelFromSafetensors(bytes, wrong as never);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(WasmCnnError);
      expect(err).not.toBeInstanceOf(FormatError);
      expect((err as Error).message).toMatch(/^modelFromSafetensors: /);
      expect((err as Error).message).not.toMatch(/file/);
    }
    expect(() => modelFromSafetensors(bytes, backend as never)).toThrow(/pass the backend in an options object, \{ backend \}/);
    expect(() => modelFromConfig(net.config(), backend as never)).toThrow(/modelFromConfig: pass the backend in an options object/);
    expect(Array.from(bytes)).toEqual(Array.from(kept));
    // the same file with the right argument rebuilds the model
    const copy = modelFromSafetensors(bytes, { backend });
    expect(copy).toBeInstanceOf(SimpleConvNet);
    const x = tensor(new Float32Array(2 * 784).fill(0.5), [2, 1, 28, 28]);
    expect(Array.from(copy.predict(x).data)).toEqual(Array.from(net.predict(x).data));
    const truncated = bytes.subarray(0, 40);
    expect(() => modelFromSafetensors(truncated, { backend })).toThrow(FormatError);
  });

  it('the DeepConvNet preset is a library model that saves and reloads through its config', () => {
    const deep = deepConvNet({ backend, seed: 2 });
    expect(Object.keys(deep.params)).toEqual(['W1', 'b1', 'W2', 'b2', 'W3', 'b3', 'W4', 'b4', 'W5', 'b5', 'W6', 'b6', 'W7', 'b7', 'W8', 'b8']);
    const again = modelFromSafetensors(deep.saveParams(), { backend });
    const x = tensor(new Random(4).fillNormal(new Float32Array(2 * 784), 1), [2, 1, 28, 28]);
    expect(Array.from(again.predict(x).data)).toEqual(Array.from(deep.predict(x).data));
    expect(() => deepConvNet({ backend, seed: 1, layers: [] } as never)).toThrow(/deepConvNet: unknown option "layers"/);
    deep.dispose();
    again.dispose();
  });
});
