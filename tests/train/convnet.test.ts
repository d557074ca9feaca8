// The Trainer driving the real SimpleConvNet: reproducibility, divergence, and MNIST.
import { describe, it, expect } from 'vitest';
import { createBackend } from '../../src/backend/create.js';
import type { Backend, BackendName } from '../../src/backend/backend.js';
import { DivergenceError } from '../../src/errors.js';
import type { ByteImages } from '../../src/data/dataset.js';
import { loadMnistBytes } from '../../src/data/mnist-node.js';
import { SimpleConvNet } from '../../src/models/index.js';
import { Trainer, type EpochInfo } from '../../src/train/trainer.js';
import { BACKENDS } from '../helpers/harness.js';
import { syntheticImages } from './linear-net.js';

const tinyNet = (backend: Backend, seed = 42) => new SimpleConvNet({
  backend, inputDim: [1, 8, 8], convParam: { filterNum: 4, filterSize: 3, pad: 0, stride: 1 },
  hiddenSize: 16, outputSize: 4, weightInitStd: 0.1, seed,
});

const paramsOf = (n: { params: Record<string, { toArray(): Float32Array }> }) =>
  Object.fromEntries(Object.entries(n.params).map(([k, t]) => [k, t.toArray()]));

function tinyData(n: number, seed: number) {
  const s = syntheticImages(n, 4, 8, 8, seed);
  return { x: { kind: 'bytes', data: s.bytes, shape: s.shape, scale: 1 / 255 } as ByteImages, t: s.labels };
}

function allFinite(p: Record<string, Float32Array>): boolean {
  return Object.values(p).every((a) => a.every(Number.isFinite));
}

describe('Trainer + SimpleConvNet', () => {
  for (const name of BACKENDS) {
    it(`same seeds -> same initial weights, same batches, bitwise-identical trained weights (${name})`, async () => {
      const backend = await createBackend(name);
      const tr = tinyData(80, 1);
      const te = tinyData(20, 2);
      const run = async () => {
        const net = tinyNet(backend);
        const init = paramsOf(net);
        const losses: number[] = [];
        await new Trainer(net, tr.x, tr.t, te.x, te.t, {
          epochs: 2, miniBatchSize: 20, optimizer: 'adam', optimizerParam: { lr: 0.01 }, seed: 11,
          onIteration: (i) => { losses.push(i.loss); },
        }).train();
        return { init, trained: paramsOf(net), losses };
      };
      const a = await run();
      const b = await run();
      expect(Object.keys(a.trained)).toEqual(['W1', 'b1', 'W2', 'b2', 'W3', 'b3']);
      expect(b.init).toEqual(a.init);
      expect(b.losses).toEqual(a.losses);
      for (const k of Object.keys(a.trained)) {
        expect(Buffer.from(b.trained[k].buffer).equals(Buffer.from(a.trained[k].buffer)), k).toBe(true);
        expect(a.trained[k]).not.toEqual(a.init[k]);
      }
    });
  }

  it('recomputeLoss: false records the loss of gradient() and trains the same weights', async () => {
    const backend = await createBackend('wasm');
    const tr = tinyData(60, 5);
    const te = tinyData(20, 6);
    const run = async (recomputeLoss: boolean) => {
      const net = tinyNet(backend);
      const r = await new Trainer(net, tr.x, tr.t, te.x, te.t, { epochs: 2, miniBatchSize: 20, optimizer: 'adam', recomputeLoss }).train();
      return { p: paramsOf(net), losses: r.trainLossList };
    };
    const course = await run(true);
    const fast = await run(false);
    expect(fast.p).toEqual(course.p);
    expect(fast.losses.length).toBe(course.losses.length);
    expect(fast.losses).not.toEqual(course.losses);
    // the loss before step k+1's update is close to the loss after step k's (a different batch, though)
    expect(fast.losses.every(Number.isFinite)).toBe(true);
  });

  it('a huge learning rate (SGD lr 1e10) diverges: DivergenceError names the step and the tensor; the parameters are restored and finite', async () => {
    const backend = await createBackend('wasm');
    const tr = tinyData(100, 3);
    const te = tinyData(20, 4);
    const net = tinyNet(backend);
    const init = paramsOf(net);
    // the parameters after every step that passed the checks (onIteration runs after them)
    const finite: Record<string, Float32Array>[] = [];
    const err = await new Trainer(net, tr.x, tr.t, te.x, te.t, {
      epochs: 5, miniBatchSize: 10, optimizer: 'sgd', optimizerParam: { lr: 1e10 },
      onIteration: () => { finite.push(paramsOf(net)); },
    }).train().then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(DivergenceError);
    const e = err as DivergenceError & { details: { epoch: number; iteration: number; step: number; tensor: string; restored: boolean } };
    // the failing step is the one after the last that passed; 10 steps per epoch
    const step = finite.length + 1;
    expect(step).toBeLessThanOrEqual(50);
    const [epoch, iteration] = [Math.ceil(step / 10), ((step - 1) % 10) + 1];
    expect(e.details).toMatchObject({ epoch, iteration, step, restored: true });
    const what = e.details.tensor === 'loss'
      ? 'the loss is (NaN|Infinity|-Infinity) \\(the parameters are finite\\)' // huge but finite weights whose activations overflow
      : `parameter "${e.details.tensor}" \\(\\d+(, \\d+)*\\) holds \\d+ NaN/Infinity values`;
    const restored = step === 1 ? 'their initial values' : `their values after step ${step - 1}`;
    expect(e.message).toMatch(new RegExp(`training diverged at epoch ${epoch}, iteration ${iteration} \\(step ${step} of 50\\): ${what}\\. The parameters were restored to ${restored}`));
    if (e.details.tensor !== 'loss') expect(Object.keys(net.params)).toContain(e.details.tensor);
    const p = paramsOf(net);
    expect(allFinite(p)).toBe(true);
    expect(p).toEqual(finite.length ? finite[finite.length - 1] : init);
  });

  it('SGD lr 1e3 blows the loss up to its ceiling (-log 1e-7 = 16.1) but stays finite: no false alarm', async () => {
    // The stable softmax and the 1e-7 of the cross-entropy bound the loss, and the ReLUs
    // die, so with this network a learning rate of 1e3 never produces NaN/Infinity.
    const backend = await createBackend('wasm');
    const tr = tinyData(100, 3);
    const te = tinyData(20, 4);
    const net = tinyNet(backend);
    const r = await new Trainer(net, tr.x, tr.t, te.x, te.t, { epochs: 3, miniBatchSize: 10, optimizer: 'sgd', optimizerParam: { lr: 1e3 } }).train();
    expect(r.trainLossList.every((l) => Number.isFinite(l) && l <= 16.2)).toBe(true);
    expect(Math.max(...r.trainLossList)).toBeGreaterThan(5);
    expect(allFinite(paramsOf(net))).toBe(true);
  });
});

describe('MNIST', () => {
  const mnist = (trainLimit: number, testLimit?: number) => loadMnistBytes({ trainLimit, testLimit });
  const mnistNet = (backend: Backend) => new SimpleConvNet({
    backend, inputDim: [1, 28, 28], convParam: { filterNum: 30, filterSize: 5, pad: 0, stride: 1 },
    hiddenSize: 100, outputSize: 10, weightInitStd: 'he', seed: 42,
  });

  async function train(name: BackendName, trainLimit: number, testLimit: number | undefined, epochs: number, miniBatchSize: number, lr: number, evaluateSampleNumPerEpoch?: number) {
    const backend = await createBackend(name);
    const { train, test } = mnist(trainLimit, testLimit);
    const net = mnistNet(backend);
    const infos: EpochInfo[] = [];
    const t0 = performance.now();
    const r = await new Trainer(net, train.images, train.labels, test.images, test.labels, {
      epochs, miniBatchSize, optimizer: 'adam', optimizerParam: { lr }, seed: 1, evaluateSampleNumPerEpoch,
      onEpoch: (e) => { infos.push(e); },
    }).train();
    const s = (performance.now() - t0) / 1000;
    console.log(`MNIST ${name}: ${train.labels.length} train / ${test.labels.length} test, ${epochs} epochs of batch ${miniBatchSize}, Adam lr ${lr}: ` +
      `loss ${r.trainLossList[0].toFixed(3)} -> ${r.trainLossList[r.trainLossList.length - 1].toFixed(3)}, ` +
      `test acc per epoch ${r.testAccList.map((a) => a.toFixed(3)).join(' ')}, final ${r.testAcc}, ` +
      `${Math.round(r.imagesPerSecond)} img/s training, ${s.toFixed(2)} s total`);
    return { r, infos };
  }

  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;

  it('training on 1,000 images for a few epochs drives the loss down and the test accuracy above 0.9 (wasm)', async () => {
    // He init, Adam lr 0.002, batch 20, 6 epochs (300 steps); accuracy per epoch on the
    // first 1,000 test images, final accuracy on all 10,000
    const { r, infos } = await train('wasm', 1000, undefined, 6, 20, 0.002, 1000);
    const l = r.trainLossList;
    expect(l[0]).toBeGreaterThan(2); // ~ln 10 at the start
    expect(mean(l.slice(-10))).toBeLessThan(0.3 * mean(l.slice(0, 10)));
    expect(r.testAcc).toBeGreaterThan(0.9);
    expect(infos.length).toBe(6);
    expect(infos.every((e) => e.imagesPerSecond > 0 && e.images === 1000)).toBe(true);
  });

  it('the js backend learns too (smaller run)', async () => {
    const { r } = await train('js', 200, 200, 2, 20, 0.002);
    const l = r.trainLossList;
    expect(mean(l.slice(-5))).toBeLessThan(mean(l.slice(0, 5)));
    expect(r.testAcc).toBeGreaterThan(0.4);
  });
});
