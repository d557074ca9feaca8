/**
 * Inside one training step (batch 100: SimpleConvNet, and DeepConvNet via bench/deep.ts), on a wasm-cnn backend:
 *
 *   profileStep     where the time goes: each layer's forward and backward, the loss, and the
 *                   Adam update, timed one at a time on the state of a real step
 *   trainingMemory  the Wasm memory of a Trainer run on a fresh backend, with the data set
 *                   held as bytes (converted per batch): after the first step and at the end
 */
import type { Backend } from '../src/backend/backend.js';
import type { Tensor } from '../src/tensor.js';
import type { MemoryStats } from '../src/backend/memory.js';
import type { Sequential } from '../src/models/sequential.js';
import type { Adam } from '../src/train/optimizers.js';
import { Trainer } from '../src/train/trainer.js';
import { benchNet } from './net.js';
import type { ByteImages } from '../src/data/dataset.js';
import { measure, type Budget } from './timing.js';
import type { Impl, MemoryRun, ProfileRow } from './types.js';

/** Short trials: a phase is a fraction of a step, and there are a dozen of them per backend. */
export function profileBudget(quick: boolean): Budget {
  return quick
    ? { minWarmup: 1, warmupMs: 2, trials: 3, minTrials: 2, maxMs: 30, trialMs: 2 }
    : { minWarmup: 2, warmupMs: 50, trials: 9, minTrials: 5, maxMs: 400, trialMs: 20 };
}

/** "SimpleConvNet: Convolution1" -> "Convolution1". */
const shortName = (name: string) => name.split(': ').pop() ?? name;

/**
 * Times each part of net.gradient(x, t) + opt.update separately. The layers keep the state
 * of the last forward (inputs, masks, argmax), so each phase repeats the same work on the
 * same values: forward phases in network order (each re-run writes the output the next
 * layer reads), then the loss, then backward phases from the top, then the update.
 */
export function profileStep(impl: Impl, net: Sequential, opt: Adam, x: Tensor, t: Int32Array, budget: Budget): ProfileRow[] {
  const phases: { phase: string; fn: () => unknown }[] = [];
  const grads = net.gradient(x, t);
  let h = x;
  for (const layer of net.layers) {
    const input = h;
    phases.push({ phase: `${shortName(layer.name)} forward`, fn: () => layer.forward(input, true) });
    h = layer.forward(input, true);
  }
  const logits = h;
  phases.push({ phase: 'SoftmaxWithLoss forward', fn: () => net.lastLayer.forward(logits, t) });
  net.lastLayer.forward(logits, t);
  phases.push({ phase: 'SoftmaxWithLoss backward', fn: () => net.lastLayer.backward(1) });
  // the same layers as gradient() runs backward: down to the first one with parameters
  let dout: Tensor | null = net.lastLayer.backward(1);
  const stop = net.layers.findIndex((l) => Object.keys(l.params).length > 0);
  for (let i = net.layers.length - 1; i >= stop && dout; i--) {
    const layer = net.layers[i];
    const d = dout;
    phases.push({ phase: `${shortName(layer.name)} backward`, fn: () => layer.backward(d) });
    dout = layer.backward(d);
  }
  phases.push({ phase: 'Adam update', fn: () => opt.update(net.params, grads) });
  return phases.map(({ phase, fn }) => {
    const timing = measure(fn, budget);
    return { impl, phase, ms: timing.medianMs, minMs: timing.minMs, maxMs: timing.maxMs };
  });
}

/**
 * A Trainer run (Adam, batch 100, `epochs` passes over `images`, evaluation of 200 samples at
 * each epoch end) on a backend made for it, recording the Wasm memory after every step and
 * every evaluation.
 */
export async function trainingMemory(impl: Impl, make: () => Promise<Backend>, images: ByteImages, labels: Int32Array,
  epochs: number): Promise<MemoryRun> {
  const backend = await make();
  try {
    const net = benchNet(backend);
    const stats: MemoryStats[] = [];
    const record = () => { stats.push(backend.memoryStats()); };
    const trainer = new Trainer(net, images, labels, images, labels, {
      epochs, miniBatchSize: 100, optimizer: 'adam', evaluateSampleNumPerEpoch: 200, seed: 1,
      onIteration: record, onEpoch: record,
    });
    await trainer.train();
    net.dispose();
    const [first, ...rest] = stats;
    const last = stats[stats.length - 1];
    return {
      impl,
      steps: trainer.trainLossList.length,
      dataBytes: images.data.byteLength,
      afterFirstStep: first,
      atEnd: last,
      maxCapacity: Math.max(...stats.map((s) => s.capacity)),
      grewAfterFirstStep: rest.some((s) => s.capacity !== first.capacity || s.highWater !== first.highWater || s.grows !== first.grows),
    };
  } finally {
    backend.dispose();
  }
}
