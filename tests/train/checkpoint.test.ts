// Checkpoints: trainer.checkpoint() -> Trainer.resume() continues a run so that it ends with
// byte-identical parameters, optimizer state and histories, for every optimizer, from inside
// an epoch and from an epoch boundary, on 1 and 2 threads; bad checkpoints are refused and
// change nothing.
import { describe, it, expect, beforeAll } from 'vitest';
import { createBackend } from '../../src/backend/create.js';
import type { Backend } from '../../src/backend/backend.js';
import { tensor } from '../../src/tensor.js';
import { FormatError, WasmCnnError } from '../../src/errors.js';
import { Sequential } from '../../src/models/sequential.js';
import { Trainer, type TrainerOptions } from '../../src/train/trainer.js';
import { Adam, Momentum, OPTIMIZER_NAMES, type OptimizerName } from '../../src/train/optimizers.js';
import { decodeCheckpoint } from '../../src/train/checkpoint.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.js';
import { syntheticImages } from './linear-net.js';

const C = 4, H = 6, W = 6;
const tr = syntheticImages(130, C, H, W, 11);
const te = syntheticImages(40, C, H, W, 12);
const xTrain = tensor(tr.floats, tr.shape), xTest = tensor(te.floats, te.shape);
const tTrain = tr.labels, tTest = te.labels;

// every kind of state: conv, batch-norm running statistics, dropout masks (a PRNG)
const model = (backend: Backend, seed = 7) => new Sequential({
  backend, inputDim: [1, H, W], seed, layers: [
    { type: 'Convolution', filterNum: 3, filterSize: 3, pad: 1 }, { type: 'BatchNormalization' }, { type: 'Relu' },
    { type: 'Pooling', size: 2 }, { type: 'Affine', outputSize: 12 }, { type: 'Relu' },
    { type: 'Dropout', ratio: 0.3 }, { type: 'Affine', outputSize: C },
  ],
});

// 130 / 20 -> 6 steps per epoch (10 samples sit out), 3 epochs = 18 steps
const OPTIONS: TrainerOptions = { epochs: 3, miniBatchSize: 20, seed: 5, evaluateSampleNumPerEpoch: 30 };

const bytesOf = (net: Sequential) => net.saveParams();
/** The tensors alone (the file's config also holds the model's seed). */
const tensorsOf = (bytes: Uint8Array) => [...decodeSafetensors(bytes).tensors].map(([name, t]) => [name, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)]);

async function uninterrupted(backend: Backend, optimizer: OptimizerName) {
  const net = model(backend);
  const t = new Trainer(net, xTrain, tTrain, xTest, tTest, { ...OPTIONS, optimizer });
  const r = await t.train();
  return { params: bytesOf(net), r, net };
}

/** Runs until `stopAt` (a step, or 'epoch' for the end of epoch 1), returns the checkpoint taken there. */
async function interrupted(backend: Backend, optimizer: OptimizerName, stopAt: number | 'epoch') {
  const net = model(backend);
  let bytes: Uint8Array | undefined;
  const t: Trainer = new Trainer(net, xTrain, tTrain, xTest, tTest, {
    ...OPTIONS, optimizer,
    onIteration: (i) => { if (i.step === stopAt) t.stop(); },
    onEpoch: (e) => { if (stopAt === 'epoch' && e.epoch === 1) { bytes = t.checkpoint(); t.stop(); } },
  });
  const r = await t.train();
  expect(r.stopped).toBe(true);
  // a stopped run can be checkpointed after train() returns too; both agree
  const after = t.checkpoint();
  if (bytes) expect(after).toEqual(bytes);
  t.dispose();
  net.dispose();
  return after;
}

describe('Trainer checkpoints', () => {
  let backend: Backend;
  let backend2: Backend;
  beforeAll(async () => {
    backend = await createBackend('wasm');
    backend2 = await createBackend('wasm', { threads: 2 });
  });

  it.each(OPTIMIZER_NAMES.map((o) => [o]))('%s: stop at step 8 (inside epoch 2) -> checkpoint -> resume ends byte-identical', async (optimizer) => {
    const ref = await uninterrupted(backend, optimizer);
    const ckpt = await interrupted(backend, optimizer, 8);
    const pos = decodeCheckpoint(ckpt, 'test').position;
    expect(pos).toMatchObject({ epoch: 2, iteration: 2, step: 8, evaluated: false });
    const resumed = Trainer.resume(ckpt, { backend, xTrain, tTrain, xTest, tTest });
    expect(resumed.currentIter).toBe(8);
    const r = await resumed.train();
    expect(r.steps).toBe(18);
    expect(bytesOf(resumed.network as Sequential)).toEqual(ref.params);
    expect(r.trainLossList).toEqual(ref.r.trainLossList);
    expect(r.trainAccList).toEqual(ref.r.trainAccList);
    expect(r.testAccList).toEqual(ref.r.testAccList);
    expect(r.testAcc).toBe(ref.r.testAcc);
  });

  it('stop at an epoch boundary (checkpoint in onEpoch) and resume on 2 threads: byte-identical', async () => {
    const ref = await uninterrupted(backend, 'adam');
    const ckpt = await interrupted(backend, 'adam', 'epoch');
    const c = decodeCheckpoint(ckpt, 'test');
    expect(c.position).toMatchObject({ epoch: 1, iteration: 6, step: 6, evaluated: true });
    expect(c.order).toBeNull();
    expect(Object.keys(c.optimizer.tensors)).toContain('m.W1');
    expect(c.optimizer.step).toBe(6);
    const net = model(backend2, 99); // another seed: the checkpoint's weights replace it
    const resumed = Trainer.resume(ckpt, { network: net, xTrain, tTrain, xTest, tTest });
    await resumed.train();
    expect(tensorsOf(bytesOf(net))).toEqual(tensorsOf(ref.params));
  });

  it('lrDecay: epoch e trains with lr * decay^(e-1); a run stopped inside epoch 2 resumes to the same bytes', async () => {
    const opts: TrainerOptions = { ...OPTIONS, optimizer: 'adam', optimizerParam: { lr: 0.01 }, lrDecay: 0.5 };
    const lrs: number[] = [];
    const net = model(backend);
    const full: Trainer = new Trainer(net, xTrain, tTrain, xTest, tTest, {
      ...opts, onIteration: (i) => { if (i.iteration === 1) lrs.push((full.optimizer as Adam).lr); },
    });
    const ref = await full.train();
    expect(lrs).toEqual([0.01, 0.005, 0.0025]);
    const constNet = model(backend);
    await new Trainer(constNet, xTrain, tTrain, xTest, tTest, { ...opts, lrDecay: 1 }).train();
    expect(tensorsOf(bytesOf(net))).not.toEqual(tensorsOf(bytesOf(constNet)));

    const net2 = model(backend);
    const part: Trainer = new Trainer(net2, xTrain, tTrain, xTest, tTest, { ...opts, onIteration: (i) => { if (i.step === 8) part.stop(); } });
    await part.train();
    const ckpt = part.checkpoint();
    expect(decodeCheckpoint(ckpt, 'test').settings).toMatchObject({ lrDecay: 0.5, baseLr: 0.01 });
    expect(decodeCheckpoint(ckpt, 'test').optimizer.hyper.lr).toBe(0.005);
    const resumed = Trainer.resume(ckpt, { backend, xTrain, tTrain, xTest, tTest });
    const r = await resumed.train();
    expect(bytesOf(resumed.network as Sequential)).toEqual(bytesOf(net));
    expect(r.trainLossList).toEqual(ref.trainLossList);
    expect(() => new Trainer(model(backend), xTrain, tTrain, xTest, tTest, { ...opts, lrDecay: 0 })).toThrow(/lrDecay must be a positive number/);
  });

  it('weightDecay: a step adds lambda * W to the weights\' gradients only; a decayed run resumes to the same bytes', async () => {
    const lr = 0.1, lambda = 0.05;
    const oneStep = async (weightDecay: number) => {
      const net = model(backend);
      const t: Trainer = new Trainer(net, xTrain, tTrain, xTest, tTest, {
        ...OPTIONS, optimizer: 'sgd', optimizerParam: { lr }, weightDecay, onIteration: () => t.stop(),
      });
      await t.train();
      t.dispose();
      return decodeSafetensors(bytesOf(net)).tensors;
    };
    const initial = decodeSafetensors(bytesOf(model(backend))).tensors;
    const plain = await oneStep(0);
    const decayed = await oneStep(lambda);
    // SGD: W_decayed = W0 - lr * (g + lambda * W0) = W_plain - lr * lambda * W0
    const names = [...initial.keys()];
    expect(names.filter((n) => n.startsWith('W'))).toEqual(['W1', 'W2', 'W3']);
    for (const name of names) {
      const w0 = initial.get(name)!.data, a = plain.get(name)!.data, b = decayed.get(name)!.data;
      if (!name.startsWith('W')) {
        expect(b, name).toEqual(a); // biases, gamma, beta and the running statistics: no decay
        continue;
      }
      let worst = 0;
      for (let i = 0; i < w0.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i] - lr * lambda * w0[i]));
      expect(worst, name).toBeLessThan(1e-6);
      expect(b, name).not.toEqual(a);
    }

    const opts: TrainerOptions = { ...OPTIONS, optimizer: 'adam', weightDecay: 0.01 };
    const net = model(backend);
    const ref = await new Trainer(net, xTrain, tTrain, xTest, tTest, opts).train();
    const net2 = model(backend);
    const part: Trainer = new Trainer(net2, xTrain, tTrain, xTest, tTest, { ...opts, onIteration: (i) => { if (i.step === 8) part.stop(); } });
    await part.train();
    const ckpt = part.checkpoint();
    expect(decodeCheckpoint(ckpt, 'test').settings.weightDecay).toBe(0.01);
    const resumed = Trainer.resume(ckpt, { backend, xTrain, tTrain, xTest, tTest });
    const r = await resumed.train();
    expect(bytesOf(resumed.network as Sequential)).toEqual(bytesOf(net));
    expect(r.trainLossList).toEqual(ref.trainLossList);
    for (const bad of [-1, Number.NaN, '0.1']) {
      expect(() => new Trainer(model(backend), xTrain, tTrain, xTest, tTest, { ...opts, weightDecay: bad as number })).toThrow(/weightDecay must be a finite number >= 0/);
    }
    // a network whose parameters follow other names would silently get no decay: refused
    const renamed = Object.create(net, { params: { value: { 'conv.weight': net.params.W1 } } }) as Sequential;
    expect(() => new Trainer(renamed, xTrain, tTrain, xTest, tTest, { ...opts })).toThrow(/names start with "W", and the network has none \(its parameters: conv.weight\)/);
  });

  it('stop at the last step of an epoch (before its evaluation) resumes with that evaluation', async () => {
    const ref = await uninterrupted(backend, 'adam');
    const ckpt = await interrupted(backend, 'adam', 12);
    expect(decodeCheckpoint(ckpt, 'test').position).toMatchObject({ epoch: 2, iteration: 6, evaluated: false });
    const epochs: number[] = [];
    const resumed = Trainer.resume(ckpt, { backend, xTrain, tTrain, xTest, tTest, onEpoch: (e) => { epochs.push(e.epoch); } });
    const r = await resumed.train();
    expect(epochs).toEqual([2, 3]);
    expect(r.testAccList).toEqual(ref.r.testAccList);
    expect(bytesOf(resumed.network as Sequential)).toEqual(ref.params);
  });

  it('stop() then train() again on the same Trainer continues (pause) to the same bytes', async () => {
    const ref = await uninterrupted(backend, 'rmsprop');
    const net = model(backend);
    const t: Trainer = new Trainer(net, xTrain, tTrain, xTest, tTest, {
      ...OPTIONS, optimizer: 'rmsprop', onIteration: (i) => { if (i.step === 3 || i.step === 14) t.stop(); },
    });
    expect((await t.train()).steps).toBe(3);
    expect((await t.train()).steps).toBe(14);
    const r = await t.train();
    expect(r.stopped).toBe(false);
    expect(bytesOf(net)).toEqual(ref.params);
    await expect(t.train()).rejects.toThrow(/completed all epochs/);
    expect(() => t.checkpoint()).toThrow(/finished and its optimizer state was freed/);
  });

  it('a checkpoint is a safetensors file with the documented names and metadata', async () => {
    const ckpt = await interrupted(backend, 'adam', 4);
    const f = decodeSafetensors(ckpt);
    expect(f.metadata?.format).toBe('wasm-cnn-checkpoint');
    const names = [...f.tensors.keys()];
    expect(names).toEqual(expect.arrayContaining(['W1', 'b1', 'gamma1', 'optimizer.m.W1', 'optimizer.v.W1', 'trainer.order']));
    expect(f.tensors.get('trainer.order')!.shape).toEqual([130]);
    for (const key of ['config', 'trainer', 'optimizer', 'position', 'history']) expect(() => JSON.parse(f.metadata![key])).not.toThrow();
    expect(JSON.parse(f.metadata!.optimizer)).toEqual({ name: 'Adam', hyper: { lr: 0.001, beta1: 0.9, beta2: 0.999 }, step: 4 });
    expect(JSON.parse(f.metadata!.position).modelRngState).toHaveLength(1); // one Dropout
    expect(JSON.parse(f.metadata!.history).trainLossList).toHaveLength(4);
  });

  it('app data travels with the checkpoint', async () => {
    const net = model(backend);
    const t = new Trainer(net, xTrain, tTrain, xTest, tTest, { ...OPTIONS, optimizer: 'adam' });
    const bytes = t.checkpoint({ app: { run: 'x', n: 3 } });
    expect(Trainer.checkpointApp(bytes)).toEqual({ run: 'x', n: 3 });
    // before any step: epoch 0; resuming it is a fresh run
    expect(decodeCheckpoint(bytes, 't').position).toMatchObject({ epoch: 0, step: 0, evaluated: true });
    t.dispose();
  });

  it('refuses a parameter file, other data, another architecture and an inconsistent position, changing nothing', async () => {
    const ckpt = await interrupted(backend, 'adam', 8);
    const net = model(backend, 3);
    const before = net.saveParams();
    const opts = { network: net, xTrain, tTrain, xTest, tTest };
    expect(() => Trainer.resume(net.saveParams(), opts)).toThrow(/a parameter file, not a checkpoint/);
    const otherLabels = tTrain.slice();
    otherLabels[0] = (otherLabels[0] + 1) % C;
    expect(() => Trainer.resume(ckpt, { ...opts, tTrain: otherLabels })).toThrow(/labels differ/);
    const fewer = syntheticImages(120, C, H, W, 11);
    expect(() => Trainer.resume(ckpt, { ...opts, xTrain: tensor(fewer.floats, fewer.shape), tTrain: fewer.labels })).toThrow(/130 \/ 40 samples/);
    const wide = new Sequential({ backend, inputDim: [1, H, W], layers: [{ type: 'Affine', outputSize: 7 }, { type: 'Relu' }, { type: 'Dropout' }, { type: 'Affine', outputSize: C }] });
    expect(() => Trainer.resume(ckpt, { ...opts, network: wide })).toThrow(/different architecture/);
    // a position that does not match the history
    const f = decodeSafetensors(ckpt);
    const md = { ...f.metadata! };
    md.position = JSON.stringify({ ...JSON.parse(md.position), step: 9 });
    const bad = encodeSafetensors([...f.tensors].map(([name, t]) => ({ name, ...t })), md);
    expect(() => Trainer.resume(bad, opts)).toThrow(FormatError);
    expect(() => Trainer.resume(bad, opts)).toThrow(/position.step is 9, but epoch 2 iteration 2 makes 8/);
    // weightDecay: absent (a checkpoint written before the option) means none; a negative one is refused
    const trainerMeta = JSON.parse(md.trainer);
    const { weightDecay: _absent, ...older } = trainerMeta;
    const olderFile = encodeSafetensors([...f.tensors].map(([name, t]) => ({ name, ...t })), { ...f.metadata!, trainer: JSON.stringify(older) });
    expect(decodeCheckpoint(olderFile, 'test').settings.weightDecay).toBe(0);
    const negative = encodeSafetensors([...f.tensors].map(([name, t]) => ({ name, ...t })), { ...f.metadata!, trainer: JSON.stringify({ ...trainerMeta, weightDecay: -0.1 }) });
    expect(() => Trainer.resume(negative, opts)).toThrow(/__metadata__.trainer.weightDecay must be a finite number >= 0, got -0.1/);
    // an optimizer tensor of the wrong size: refused by loadState after the params were checked; params restored
    const md2 = f.metadata!;
    const tensors = [...f.tensors].map(([name, t]) => (name === 'optimizer.m.W1' ? { name, shape: [t.data.length - 1], data: t.data.subarray(1) } : { name, ...t }));
    expect(() => Trainer.resume(encodeSafetensors(tensors, md2), opts)).toThrow(/state tensors of "W1" differ in size/);
    expect(net.saveParams()).toEqual(before);
    expect(() => Trainer.resume(ckpt, { ...opts, epochs: 5 } as never)).toThrow(/unknown option "epochs"/);
  });
});

describe('Optimizer state() / loadState()', () => {
  let backend: Backend;
  beforeAll(async () => { backend = await createBackend('wasm'); });

  it('a fresh optimizer loaded with state() continues bit for bit; bad states are refused', () => {
    const a = model(backend);
    const b = model(backend);
    const x = tensor(tr.floats.subarray(0, 20 * H * W), [20, 1, H, W]);
    const t = tTrain.subarray(0, 20);
    const optA = new Adam({ lr: 0.01 });
    for (let i = 0; i < 3; i++) optA.update(a.params, a.gradient(x, t));
    b.loadParams(a.saveParams());
    b.setRandomState(a.randomState());
    const state = optA.state();
    expect(state.step).toBe(3);
    const optB = new Adam({ lr: 0.01, backend });
    optB.loadState(state);
    expect(optB.iter).toBe(3);
    for (let i = 0; i < 2; i++) {
      optA.update(a.params, a.gradient(x, t));
      optB.update(b.params, b.gradient(x, t));
    }
    expect(b.saveParams()).toEqual(a.saveParams());
    expect(optB.state()).toEqual(optA.state());

    expect(() => new Momentum({ backend }).loadState(state)).toThrow(/the state is of "Adam", not Momentum/);
    expect(() => new Adam().loadState(state)).toThrow(/no backend yet/);
    const missing = { ...state, tensors: { ...state.tensors } };
    delete missing.tensors['v.W1'];
    expect(() => new Adam({ backend }).loadState(missing)).toThrow(/"W1" has no state tensor "v.W1"/);
    const nan = { ...state, tensors: { ...state.tensors, 'm.b1': { shape: [3], data: new Float32Array([0, NaN, 0]) } } };
    const target = new Adam({ lr: 0.01, backend });
    target.loadState(state);
    expect(() => target.loadState(nan)).toThrow(WasmCnnError);
    expect(target.state()).toEqual(state); // unchanged by the refused load
    a.dispose();
    b.dispose();
  });
});
