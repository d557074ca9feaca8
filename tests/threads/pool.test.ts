// The worker pool's life cycle: a failing worker makes the call throw promptly with its
// error (and the pool stays usable), a worker that ends makes the next call throw at once,
// dispose() ends every worker, two threaded backends in one process do not interfere, memory
// growth is seen by the workers, and where threads cannot run the backend says why.
import { describe, it, expect } from 'vitest';
import { createBackend } from '../../src/backend/create.js';
import type { Backend } from '../../src/backend/backend.js';
import type { ThreadedKernels } from '../../src/backend/threads/kernels.js';
import type { WorkerPool } from '../../src/backend/threads/pool.js';
import { KERNEL_NAMES } from '../../src/backend/kernels.js';
import { WasmCnnError } from '../../src/errors.js';
import { SimpleConvNet } from '../../src/models/presets.js';
import { Adam } from '../../src/train/optimizers.js';
import { Tensor } from '../../src/tensor.js';
import { randomF32 } from '../helpers/harness.js';
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { matmul } from '../../src/ops/index.js';
import { chunksSince, chunksTaken } from './workers.js';

const poolOf = (b: Backend): WorkerPool => (b.kernels as ThreadedKernels).pool;

/** Resolves `p`, or rejects after `ms` (so a hang fails the test instead of timing it out). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms))]);
}

/** C = A * B (NN) for a 120x90x150 problem (large enough to be split) on `b`; returns C. */
function gemmOn(b: Backend, seed: number): Float32Array {
  const M = 120, N = 90, K = 150;
  const A = b.tensor(randomF32(M * K, seed), [M, K]);
  const B = b.tensor(randomF32(K * N, seed + 1), [K, N]);
  try {
    const C = matmul(b, A, B);
    const out = C.toArray();
    C.dispose();
    return out;
  } finally {
    A.dispose();
    B.dispose();
  }
}

describe('a worker that fails', () => {
  it('makes the call throw promptly with the worker error, and the pool keeps working', async () => {
    const b = await createBackend('wasm', { threads: 2 });
    try {
      const pool = poolOf(b);
      const fill = KERNEL_NAMES.indexOf('fill_f32');
      const outside = b.memory.buffer.byteLength + 4096; // past the end of memory: a Wasm trap in the worker
      let ownRan = false;
      const t0 = performance.now();
      const err = (() => {
        try {
          pool.run(fill, [[outside, 64, 1]], () => { ownRan = true; });
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(performance.now() - t0).toBeLessThan(2000);
      expect(ownRan).toBe(true);
      expect(err).toBeInstanceOf(WasmCnnError);
      expect((err as Error).message).toMatch(/fill_f32 failed in kernel worker 1: .*(out of bounds|RuntimeError)/i);
      // the pool still works and computes the right thing
      const ref = await createBackend('wasm');
      expect(gemmOn(b, 5)).toEqual(gemmOn(ref, 5));
      // an unknown kernel index is refused by the worker the same way
      expect(() => pool.run(9999, [[0]], () => {})).toThrow(/failed in kernel worker 1: .*unknown kernel/);
    } finally {
      b.dispose();
    }
  });

  it('throws through the public kernels when a split call traps (both shares out of bounds)', async () => {
    const b = await createBackend('wasm', { threads: 3 });
    try {
      const end = b.memory.buffer.byteLength;
      expect(() => b.kernels.fill_f32(end + 65536, 1 << 20, 0)).toThrow(/out of bounds|RuntimeError/i);
      expect(gemmOn(b, 9)).toEqual(gemmOn(await createBackend('wasm'), 9));
    } finally {
      b.dispose();
    }
  });

  it('a worker that ended makes the next call throw at once', async () => {
    const b = await createBackend('wasm', { threads: 3 });
    const pool = poolOf(b);
    try {
      // end worker 2 from outside, as a crash would
      await (pool as unknown as { handles: { terminate(): Promise<void> }[] }).handles[1].terminate();
      await within(new Promise((r) => setTimeout(r, 50)), 1000, 'exit event');
      expect(pool.liveWorkers()).toBe(1);
      const t0 = performance.now();
      expect(() => gemmOn(b, 1)).toThrow(/kernel worker 2 exited/);
      expect(performance.now() - t0).toBeLessThan(1000);
    } finally {
      b.dispose();
    }
    await within(pool.closed, 5000, 'closing the pool');
  });
});

describe('polling', () => {
  const cpus = availableParallelism();
  it('threads poll for work when each has a CPU', async () => {
    const fits = await createBackend('wasm', { threads: 2 });
    try {
      expect(poolOf(fits).polling).toBe(cpus >= 2);
    } finally {
      fits.dispose();
    }
  });

  it('threads never poll when they outnumber the CPUs', async (ctx) => {
    if (cpus > 8) ctx.skip(`${cpus} CPUs: starting ${cpus + 1} kernel workers to outnumber them is not worth it here`);
    const over = await createBackend('wasm', { threads: cpus + 1 });
    try {
      expect(poolOf(over).polling).toBe(false);
      expect(gemmOn(over, 3)).toEqual(gemmOn(await createBackend('wasm'), 3));
    } finally {
      over.dispose();
    }
  });
});

describe('dispose', () => {
  it('ends every worker; later parallel calls throw', async () => {
    const b = await createBackend('wasm', { threads: 3 });
    const pool = poolOf(b);
    expect(pool.liveWorkers()).toBe(2);
    gemmOn(b, 2);
    b.dispose();
    await within(pool.closed, 5000, 'closing the pool');
    expect(pool.liveWorkers()).toBe(0);
    expect(() => gemmOn(b, 2)).toThrow(/disposed/);
    b.dispose(); // twice is harmless
  });
});

describe('a process that never calls dispose()', () => {
  it('still exits when its work is done (the workers do not keep it alive)', () => {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const script = `
      const lib = await import(${JSON.stringify(`${root}build/dist/index.js`)});
      const b = await lib.createBackend('wasm', { threads: 3 });
      const a = b.tensor(new Float32Array(200 * 300).fill(1), [200, 300]);
      const c = lib.matmul(b, a, a, { transB: true });
      console.log(b.features.threads, c.data[0]);`;
    const t0 = Date.now();
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(out.trim()).toBe('3 300');
    expect(Date.now() - t0).toBeLessThan(10_000);
  });
});

describe('two threaded backends in one process', () => {
  it('compute independently, interleaved, and survive each other\'s dispose', async () => {
    const one = await createBackend('wasm');
    const a = await createBackend('wasm', { threads: 2 });
    const c = await createBackend('wasm', { threads: 3 });
    try {
      for (let s = 0; s < 3; s++) {
        const ref = gemmOn(one, s);
        expect(gemmOn(a, s)).toEqual(ref);
        expect(gemmOn(c, s)).toEqual(ref);
      }
      a.dispose();
      await within(poolOf(a).closed, 5000, 'closing the first pool');
      expect(gemmOn(c, 7)).toEqual(gemmOn(one, 7));
      expect(poolOf(c).liveWorkers()).toBe(2);
    } finally {
      a.dispose();
      c.dispose();
    }
  });
});

describe('memory growth', () => {
  it('workers see a grown memory: training steps across growth match an unthreaded run bit for bit', async () => {
    const runSteps = async (threads: number, grow: boolean) => {
      const backend = await createBackend('wasm', { threads, initialBytes: 65536 });
      const net = new SimpleConvNet({ backend, inputDim: [1, 12, 12], convParam: { filterNum: 8, filterSize: 3, pad: 1, stride: 1 },
        hiddenSize: 32, outputSize: 10, weightInitStd: 0.05, seed: 3 });
      const opt = new Adam({ backend });
      const x = Tensor.host(randomF32(64 * 144, 31), [64, 1, 12, 12]);
      const t = Int32Array.from({ length: 64 }, (_, i) => i % 10);
      const hold: number[] = [];
      let afterGrowth: number[] = [];
      for (let s = 0; s < 3; s++) {
        opt.update(net.params, net.gradient(x, t));
        if (grow) hold.push(backend.memory.alloc(8 << 20)); // forces memory.grow between steps
        if (s === 0) afterGrowth = chunksTaken(backend);
      }
      const grows = backend.memoryStats().grows;
      const bytes = net.saveParams();
      const chunks = chunksSince(backend, afterGrowth); // taken by the workers in the steps after a growth
      backend.dispose();
      return { bytes, grows, chunks };
    };
    const ref = await runSteps(1, false);
    // the calling thread may take every chunk: repeat until a worker computed part of the steps after a growth
    let grown = await runSteps(2, true);
    for (let i = 0; i < 10 && !(grown.chunks[0] > 0); i++) grown = await runSteps(2, true);
    expect(grown.chunks[0], 'chunks the worker took after the memory grew').toBeGreaterThan(0);
    expect(grown.grows).toBeGreaterThan(ref.grows);
    expect(grown.bytes).toEqual(ref.bytes);
  });
});

describe('where threads cannot run', () => {
  const stubbed = async (globals: Record<string, unknown>, run: () => Promise<void>) => {
    const g = globalThis as Record<string, unknown>;
    const saved = Object.fromEntries(Object.keys(globals).map((k) => [k, Object.getOwnPropertyDescriptor(g, k)]));
    for (const [k, v] of Object.entries(globals)) Object.defineProperty(g, k, { value: v, configurable: true, writable: true });
    try {
      await run();
    } finally {
      for (const [k, d] of Object.entries(saved)) {
        if (d) Object.defineProperty(g, k, d);
        else delete g[k];
      }
    }
  };

  it('no SharedArrayBuffer: 1 thread, and threadsNote says why', async () => {
    await stubbed({ SharedArrayBuffer: undefined }, async () => {
      const b = await createBackend('wasm', { threads: 4 });
      expect(b.features.threads).toBe(1);
      expect(b.features.threadsNote).toMatch(/1 thread instead of 4: .*SharedArrayBuffer/);
    });
  });

  it('a page that is not cross-origin isolated', async () => {
    await stubbed({ crossOriginIsolated: false }, async () => {
      const b = await createBackend('wasm', { threads: 2 });
      expect(b.features.threads).toBe(1);
      expect(b.features.threadsNote).toMatch(/cross-origin isolated.*Cross-Origin-Opener-Policy: same-origin.*Cross-Origin-Embedder-Policy: require-corp/);
    });
  });

  it("a browser page's main thread (Atomics.wait is not allowed there)", async () => {
    await stubbed({ window: {}, document: {} }, async () => {
      const b = await createBackend('wasm', { threads: 2 });
      expect(b.features.threads).toBe(1);
      expect(b.features.threadsNote).toMatch(/main thread may not block in Atomics.wait; create the backend inside a Web Worker/);
    });
  });

  it('the js backend is single-threaded and says so', async () => {
    const b = await createBackend('js', { threads: 2 });
    expect(b.features).toMatchObject({ threads: 1, simd: false, relaxedSimd: false });
    expect(b.features.threadsNote).toMatch(/js backend is single-threaded/);
  });

  it('threads: 1 has no note', async () => {
    const b = await createBackend('wasm', { threads: 1 });
    expect(b.features.threadsNote).toBeUndefined();
  });
});
