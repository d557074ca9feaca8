// Wasm memory of SimpleConvNet training at batch 100 (the Trainer: gradient, Adam, loss,
// snapshot, divergence checks, epoch-end evaluation): under 32 MiB, on 1 and 2 threads, and
// flat after the first step (no block handed out, no growth); on 2 threads with the kernel
// worker computing part of the run.
import { describe, it, expect } from 'vitest';
import { createBackend } from '../../src/backend/create.js';
import type { MemoryStats } from '../../src/backend/memory.js';
import { SimpleConvNet } from '../../src/models/presets.js';
import { Trainer } from '../../src/train/trainer.js';
import { Tensor } from '../../src/tensor.js';
import { randomF32 } from '../helpers/harness.js';
import { withWorkersAsync } from './workers.js';

const MiB = 1 << 20;

describe('SimpleConvNet training memory at batch 100', () => {
  for (const threads of [1, 2]) {
    it(`${threads} thread(s): capacity < 32 MiB, highWater and capacity constant after step 1`, async () => {
      const backend = await createBackend('wasm', { threads });
      try {
        const net = new SimpleConvNet({ backend, inputDim: [1, 28, 28], convParam: { filterNum: 30, filterSize: 5, pad: 0, stride: 1 },
          hiddenSize: 100, outputSize: 10, weightInitStd: 0.01, seed: 1 });
        const n = 400;
        const x = Tensor.host(randomF32(n * 784, 7).map((v) => (v + 1) / 2), [n, 1, 28, 28]);
        const t = Int32Array.from({ length: n }, (_, i) => i % 10);
        let stats: MemoryStats[] = [];
        // on 2 threads, a run counts only when the kernel worker computed part of it
        await withWorkersAsync(backend, 'a training run', async () => {
          stats = [];
          const trainer = new Trainer(net, x, t, x, t, {
            epochs: 2, miniBatchSize: 100, optimizer: 'adam', evaluateSampleNumPerEpoch: 200,
            onIteration: () => { stats.push(backend.memoryStats()); },
            onEpoch: () => { stats.push(backend.memoryStats()); }, // after each epoch-end evaluation
          });
          await trainer.train();
        }, { tries: 5 });
        expect(stats.length).toBe(2 * 4 + 2);
        const [first, ...rest] = stats;
        expect(first.capacity).toBeLessThan(32 * MiB);
        for (const s of rest) {
          expect(s.highWater).toBe(first.highWater);
          expect(s.capacity).toBe(first.capacity);
          expect(s.grows).toBe(first.grows);
        }
      } finally {
        backend.dispose();
      }
    });
  }
});
