import { describe, it, expect, beforeAll, vi } from 'vitest';
import { createBackend } from '../../src/backend/create.js';
import type { Backend } from '../../src/backend/backend.js';
import { Tensor, tensor } from '../../src/tensor.js';
import { DivergenceError } from '../../src/errors.js';
import type { ByteImages } from '../../src/data/dataset.js';
import { Trainer, type IterationInfo, type EpochInfo, type DivergenceDetails } from '../../src/train/trainer.js';
import { Adam, SGD } from '../../src/train/optimizers.js';
import { BACKENDS } from '../helpers/harness.js';
import { LinearNet, syntheticImages } from './linear-net.js';

const C = 4, H = 6, W = 6;

function data(nTrain: number, nTest: number, seed = 5) {
  const tr = syntheticImages(nTrain, C, H, W, seed);
  const te = syntheticImages(nTest, C, H, W, seed + 1);
  return {
    xTrain: tensor(tr.floats, tr.shape), tTrain: tr.labels,
    xTest: tensor(te.floats, te.shape), tTest: te.labels,
    bTrain: { kind: 'bytes', data: tr.bytes, shape: tr.shape, scale: 1 / 255 } as ByteImages,
    bTest: { kind: 'bytes', data: te.bytes, shape: te.shape, scale: 1 / 255 } as ByteImages,
  };
}

const net = (backend: Backend, extra: Partial<ConstructorParameters<typeof LinearNet>[0]> = {}) =>
  new LinearNet({ backend, inputDim: [1, H, W], outputSize: C, seed: 3, ...extra });

const paramsOf = (n: LinearNet) => Object.fromEntries(Object.entries(n.params).map(([k, t]) => [k, t.toArray()]));

describe('Trainer (tiny softmax-regression network)', () => {
  let backend: Backend;
  beforeAll(async () => { backend = await createBackend('wasm'); });

  it('runs iterPerEpoch = floor(N / B) steps per epoch, calling back and recording as it goes', async () => {
    const d = data(120, 50);
    const n = net(backend);
    const iters: IterationInfo[] = [];
    const epochs: EpochInfo[] = [];
    const trainer = new Trainer(n, d.xTrain, d.tTrain, d.xTest, d.tTest, {
      epochs: 3, miniBatchSize: 25, optimizer: 'adam', optimizerParam: { lr: 0.05 },
      onIteration: (i) => { iters.push(i); }, onEpoch: (e) => { epochs.push(e); },
    });
    expect(trainer.iterPerEpoch).toBe(4);
    expect(trainer.maxIter).toBe(12);
    const r = await trainer.train();
    expect(iters.length).toBe(12);
    expect(iters.map((i) => i.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(iters.map((i) => `${i.epoch}.${i.iteration}`).slice(3, 6)).toEqual(['1.4', '2.1', '2.2']);
    expect(iters.every((i) => i.maxIter === 12 && i.iterPerEpoch === 4 && Number.isFinite(i.loss))).toBe(true);
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2, 3]);
    expect(n.gradientCalls).toBe(12);
    expect(r.trainLossList.length).toBe(12);
    expect(r.trainAccList.length).toBe(3);
    expect(r.testAccList.length).toBe(3);
    expect(r.trainLossList).toEqual(iters.map((i) => i.loss));
    expect(r).toMatchObject({ epochs: 3, steps: 12, stopped: false });
    expect(r.testAcc).toBe(r.testAccList[2]); // whole test set evaluated at the last epoch end
    for (const e of epochs) {
      expect(e).toMatchObject({ epochs: 3, images: 100 });
      expect(e.imagesPerSecond).toBeGreaterThan(0);
      expect(e.trainMs).toBeGreaterThan(0);
      expect(e.elapsedMs).toBeGreaterThanOrEqual(e.trainMs + e.evalMs - 1e-6);
      expect(e.testAcc).toBe(r.testAccList[e.epoch - 1]);
    }
    expect(epochs[0].trainLoss).toBeCloseTo((r.trainLossList.slice(0, 4).reduce((a, b) => a + b)) / 4, 10);
    // the loss goes down and the classes are learnable
    expect(r.trainLossList[11]).toBeLessThan(r.trainLossList[0]);
    expect(r.testAcc).toBeGreaterThan(0.9);
  });

  it('yields to the event loop between steps', async () => {
    const d = data(100, 20);
    let immediateRan = false;
    let seenAtStep2: boolean | undefined;
    let timerTicks = 0;
    const timer = setInterval(() => timerTicks++, 0);
    const trainer = new Trainer(net(backend), d.xTrain, d.tTrain, d.xTest, d.tTest, {
      epochs: 2, miniBatchSize: 10,
      onIteration: (i) => {
        if (i.step === 1) setImmediate(() => { immediateRan = true; });
        if (i.step === 2) seenAtStep2 = immediateRan;
        const t = performance.now();
        while (performance.now() - t < 0.5); // make each step take a while, so a 1 ms timer comes due
      },
    });
    const p = trainer.train();
    expect(immediateRan).toBe(false);
    await p;
    clearInterval(timer);
    expect(seenAtStep2).toBe(true);
    expect(timerTicks).toBeGreaterThan(0);
  });

  it('awaits callbacks that return promises, and prints per epoch when verbose', async () => {
    const d = data(40, 10);
    const order: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      await new Trainer(net(backend), d.xTrain, d.tTrain, d.xTest, d.tTest, {
        epochs: 2, miniBatchSize: 20, verbose: true,
        onIteration: async (i) => { await new Promise((r) => setTimeout(r, 2)); order.push(`it${i.step}`); },
        onEpoch: async (e) => { await new Promise((r) => setTimeout(r, 2)); order.push(`ep${e.epoch}`); },
      }).train();
      expect(order).toEqual(['it1', 'it2', 'ep1', 'it3', 'it4', 'ep2']);
      const lines = log.mock.calls.map((c) => String(c[0]));
      expect(lines.length).toBe(3);
      expect(lines[0]).toMatch(/^=== epoch 1\/2: train loss \d\.\d{4}, train acc \d\.\d{4}, test acc \d\.\d{4} \(\d+ img\/s, \d+\.\d\d s\) ===$/);
      expect(lines[2]).toMatch(/Final Test Accuracy[^]*test acc: /);
    } finally {
      log.mockRestore();
    }
  });

  it('evaluates the first evaluateSampleNumPerEpoch samples per epoch and the whole test set at the end', async () => {
    const d = data(100, 60);
    const n = net(backend);
    const trainer = new Trainer(n, d.xTrain, d.tTrain, d.xTest, d.tTest, { epochs: 2, miniBatchSize: 25, evaluateSampleNumPerEpoch: 30 });
    const r = await trainer.train();
    // per epoch: ceil(30/25) train + ceil(30/25) test batches; at the end ceil(60/25) test batches
    expect(n.predictCalls).toBe(2 * (2 + 2) + 3);
    expect(r.testAcc).not.toBeNull();
    for (const a of [...r.trainAccList, ...r.testAccList]) expect(a * 30).toBeCloseTo(Math.round(a * 30), 9);
    expect(r.testAcc! * 60).toBeCloseTo(Math.round(r.testAcc! * 60), 9);
  });

  for (const name of BACKENDS) {
    it(`same seed -> bitwise-identical weights; another seed -> different (${name})`, async () => {
      const b = await createBackend(name);
      const d = data(90, 20);
      const run = async (seed: number) => {
        const n = net(b);
        const t = new Trainer(n, d.bTrain, d.tTrain, d.bTest, d.tTest, { epochs: 2, miniBatchSize: 20, optimizer: 'momentum', seed });
        const r = await t.train();
        return { p: paramsOf(n), losses: r.trainLossList };
      };
      const a = await run(7);
      const b2 = await run(7);
      const c = await run(8);
      expect(b2.p.W).toEqual(a.p.W);
      expect(b2.p.b).toEqual(a.p.b);
      expect(b2.losses).toEqual(a.losses);
      expect(c.p.W).not.toEqual(a.p.W);
    });
  }

  it('trains the same from ByteImages as from the equivalent float tensor', async () => {
    const d = data(60, 20);
    const asFloat = (b: ByteImages) => Tensor.host(Float32Array.from(b.data, (v) => v * b.scale), b.shape);
    const run = async (xTrain: ByteImages | Tensor, xTest: ByteImages | Tensor) => {
      const n = net(backend);
      await new Trainer(n, xTrain, d.tTrain, xTest, d.tTest, { epochs: 1, miniBatchSize: 15, optimizer: 'rmsprop' }).train();
      return paramsOf(n);
    };
    expect(await run(asFloat(d.bTrain), asFloat(d.bTest))).toEqual(await run(d.bTrain, d.bTest));
  });

  it('accepts one-hot label tensors and flattened (N, D) inputs', async () => {
    const d = data(40, 20);
    const oneHot = (t: Int32Array) => { const a = new Float32Array(t.length * C); t.forEach((c, i) => { a[i * C + c] = 1; }); return tensor(a, [t.length, C]); };
    const flat = (x: Tensor) => x.reshape([x.shape[0], H * W]);
    const r = await new Trainer(net(backend), flat(d.xTrain), oneHot(d.tTrain), flat(d.xTest), oneHot(d.tTest), { epochs: 1, miniBatchSize: 20 }).train();
    expect(r.steps).toBe(2);
  });

  it('validates its options and data', () => {
    const d = data(50, 10);
    const n = net(backend);
    const mk = (o: object) => () => new Trainer(n, d.xTrain, d.tTrain, d.xTest, d.tTest, { miniBatchSize: 10, ...o });
    expect(mk({ epochs: 0 })).toThrow(/epochs must be a positive integer, got 0/);
    expect(mk({ epochs: 1.5 })).toThrow(/epochs must be a positive integer, got 1.5/);
    expect(mk({ miniBatchSize: -3 })).toThrow(/miniBatchSize must be a positive integer, got -3/);
    expect(mk({ miniBatchSize: 51 })).toThrow(/miniBatchSize 51 is larger than the training set \(50 samples\)/);
    expect(mk({ evaluateSampleNumPerEpoch: 0 })).toThrow(/evaluateSampleNumPerEpoch must be a positive integer/);
    expect(mk({ optimizer: 'adamax' })).toThrow(/unknown optimizer "adamax"; valid names are sgd, momentum, nesterov, adagrad, rmsprop, adam/);
    expect(mk({ optimizer: 'sgd', optimizerParam: { beta1: 0.9 } })).toThrow(/SGD: unknown option "beta1"/);
    expect(mk({ recomputeLoss: false })).toThrow(/recomputeLoss: false needs a network that keeps the loss of gradient\(\) in a numeric `lastLoss`/);
    expect(mk({ batchSize: 10 })).toThrow(/unknown option "batchSize"; valid options are epochs, miniBatchSize/);
    expect(() => new Trainer(n, d.xTrain, d.tTrain.subarray(1), d.xTest, d.tTest)).toThrow(/tTrain: 49 labels for 50 inputs/);
    expect(() => new Trainer(n, d.xTrain, d.tTrain, d.xTest, Int32Array.from(d.tTest, () => 7))).toThrow(/tTest: label 7 at index 0 is out of range/);
    expect(() => new Trainer(n, tensor(new Float32Array(50 * 30), [50, 30]), d.tTrain, d.xTest, d.tTest))
      .toThrow(/xTrain samples have shape \(30\), but the network expects \(1, 6, 6\)/);
  });

  it('train() runs once; an optimizer instance is used (and left alive), a named one is freed', async () => {
    const d = data(40, 10);
    const opt = new Adam({ lr: 0.01 });
    const t = new Trainer(net(backend), d.xTrain, d.tTrain, d.xTest, d.tTest, { epochs: 1, miniBatchSize: 20, optimizer: opt });
    expect(t.optimizer).toBe(opt);
    const used = backend.memoryStats().used;
    await t.train();
    expect(opt.iter).toBe(2);
    expect(backend.memoryStats().used).toBeGreaterThan(used); // m, v still held by the caller's optimizer
    opt.dispose();
    await expect(t.train()).rejects.toThrow(/train\(\) has completed all epochs/);
  });

  it('frees its own device memory after training', async () => {
    const d = data(40, 10);
    const n = net(backend);
    // warm up the network's per-shape buffers
    await new Trainer(n, d.xTrain, d.tTrain, d.xTest, d.tTest, { epochs: 1, miniBatchSize: 20, optimizer: 'adam' }).train();
    const used = backend.memoryStats().used;
    await new Trainer(n, d.xTrain, d.tTrain, d.xTest, d.tTest, { epochs: 1, miniBatchSize: 20, optimizer: 'adam' }).train();
    expect(backend.memoryStats().used).toBe(used);
  });

  it('stop() ends the run after the current step', async () => {
    const d = data(100, 10);
    const trainer = new Trainer(net(backend), d.xTrain, d.tTrain, d.xTest, d.tTest, {
      epochs: 5, miniBatchSize: 10, onIteration: (i) => { if (i.step === 13) trainer.stop(); },
    });
    const r = await trainer.train();
    expect(r).toMatchObject({ stopped: true, steps: 13, epochs: 1, testAcc: null });
    expect(r.trainAccList.length).toBe(1);
  });

  describe('divergence', () => {
    it('stops with DivergenceError naming the step and tensor, and restores the last finite parameters', async () => {
      const d = data(60, 10);
      const n = net(backend, { nanGradAt: 5 });
      let afterStep4: Record<string, Float32Array> = {};
      const trainer = new Trainer(n, d.xTrain, d.tTrain, d.xTest, d.tTest, {
        epochs: 3, miniBatchSize: 20, optimizer: new SGD({ lr: 0.5 }),
        onIteration: (i) => { if (i.step === 4) afterStep4 = paramsOf(n); },
      });
      const err = await trainer.train().then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(DivergenceError);
      const e = err as DivergenceError & { details: DivergenceDetails };
      expect(e.message).toMatch(/training diverged at epoch 2, iteration 2 \(step 5 of 9\): parameter "W" \(36, 4\) holds 1 NaN\/Infinity values/);
      expect(e.message).toMatch(/restored to their values after step 4/);
      expect(e.details).toMatchObject({ epoch: 2, iteration: 2, step: 5, tensor: 'W', restored: true });
      expect(paramsOf(n)).toEqual(afterStep4);
      expect(trainer.trainLossList.length).toBe(5);
    });

    it('names the loss when only the loss is non-finite', async () => {
      const d = data(40, 10);
      const n = net(backend, { nanLossAt: 1 });
      const init = paramsOf(n);
      const err = await new Trainer(n, d.xTrain, d.tTrain, d.xTest, d.tTest, { epochs: 1, miniBatchSize: 20 }).train().catch((e) => e);
      expect(err).toBeInstanceOf(DivergenceError);
      expect(err.message).toMatch(/epoch 1, iteration 1 \(step 1 of 2\): the loss is NaN \(the parameters are finite\)\. The parameters were restored to their initial values/);
      expect(err.details.tensor).toBe('loss');
      expect(paramsOf(n)).toEqual(init);
    });

    it('with snapshot: false says the parameters were not restored', async () => {
      const d = data(40, 10);
      const n = net(backend, { nanGradAt: 1 });
      const err = await new Trainer(n, d.xTrain, d.tTrain, d.xTest, d.tTest, { epochs: 1, miniBatchSize: 20, snapshot: false }).train().catch((e) => e);
      expect(err).toBeInstanceOf(DivergenceError);
      expect(err.message).toMatch(/NOT restored \(snapshot: false\) and hold non-finite values/);
      expect(err.details.restored).toBe(false);
    });
  });
});
