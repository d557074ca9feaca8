// Threads under failure: a kernel worker that dies in the middle of a call makes the call
// (and a pending train()) fail promptly with the library's error, never hang; dispose() ends
// every worker; a second threaded backend in the same process is unaffected by either.
// The workers are the real ones; the test only records their handles and adds one crash
// trigger to the worker source (a fill_f32 share or chunk with a magic value calls process.exit).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createBackend } from '../../src/backend/create.js';
import type { Backend } from '../../src/backend/backend.js';
import type { WorkerHandle } from '../../src/backend/threads/spawn.js';
import type { ThreadedKernels } from '../../src/backend/threads/kernels.js';
import { WasmCnnError } from '../../src/errors.js';
import { SimpleConvNet } from '../../src/models/index.js';
import { tensor } from '../../src/tensor.js';
import { Trainer } from '../../src/train/index.js';
import { expectLibError, paramBytes, sameBytes, thrown, thrownSync, uniform } from './helpers.js';

const hoisted = vi.hoisted(() => ({ CRASH: 1234.5678, handles: [] as { name: string; handle: WorkerHandle; exited: Promise<number>; ended: boolean }[] }));
const CRASH = hoisted.CRASH;

vi.mock('../../src/backend/threads/spawn.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/backend/threads/spawn.js')>();
  return {
    ...actual,
    spawnWorker: async (name: string) => {
      const handle = await actual.spawnWorker(name);
      const rec = { name, handle, exited: undefined as unknown as Promise<number>, ended: false };
      rec.exited = new Promise<number>((resolve) => handle.onExit((code) => {
        rec.ended = true;
        resolve(code);
      }));
      hoisted.handles.push(rec);
      return handle;
    },
  };
});

vi.mock('../../src/backend/threads/protocol.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/backend/threads/protocol.js')>();
  const hook = 'var r = fn.apply(null, call);';
  if (!actual.WORKER_SOURCE.includes(hook)) throw new Error('the worker source changed: update the crash hook of tests/reliability/threads.test.ts');
  // where the worker runs a kernel (a fixed job or a chunk of a chunked call)
  return { ...actual, WORKER_SOURCE: actual.WORKER_SOURCE.replaceAll(hook, `if (call.indexOf(${hoisted.CRASH}) >= 0) process.exit(70); ${hook}`) };
});

/** Workers started since `from` (the handles of one backend). */
const workersSince = (from: number) => hoisted.handles.slice(from);

/** A threaded backend, or null (with the reason) where threads cannot run. */
async function threaded(threads: number): Promise<{ backend: Backend; workers: typeof hoisted.handles }> {
  const from = hoisted.handles.length;
  const backend = await createBackend('wasm', { threads });
  expect(backend.features.threads, backend.features.threadsNote).toBe(threads);
  return { backend, workers: workersSince(from) };
}

/** A fill large enough to be split over every thread. */
const BIG = 1 << 20;

/**
 * Fills `p` with CRASH until worker 1 takes one of the call's chunks and dies in it; returns
 * that call's error and how long it took. The calling thread takes chunks too, so a worker
 * that has not woken yet may find none left: such a call must return normally, with every
 * value filled and no chunk taken by the worker (the one that took a chunk would have died).
 */
function crashDuringCall(backend: Backend, p: number): { error: unknown; ms: number } {
  const pool = (backend.kernels as ThreadedKernels).pool;
  const view = () => new Float32Array(backend.memory.buffer, p, BIG);
  for (let attempt = 0; attempt < 1000; attempt++) {
    view().fill(0);
    const t0 = performance.now();
    try {
      backend.kernels.fill_f32(p, BIG, CRASH);
    } catch (error) {
      return { error, ms: performance.now() - t0 };
    }
    expect(pool.lastChunks, 'a call that returned normally: the worker took no chunk').toEqual([0]);
    const v = view();
    expect(v[0] === Math.fround(CRASH) && v[BIG - 1] === Math.fround(CRASH) && v.every((x) => x === v[0])).toBe(true);
  }
  throw new Error('kernel worker 1 took no chunk of 1000 split calls');
}

const N = 100;
const x = tensor(uniform(N * 784, 3), [N, 1, 28, 28]);
const t = Int32Array.from({ length: N }, (_, i) => i % 10);
const model = (backend: Backend) => new SimpleConvNet({ backend, convParam: { filterNum: 8, filterSize: 5 }, hiddenSize: 32, seed: 4 });

const live: Backend[] = [];
afterEach(() => {
  for (const b of live.splice(0)) b.dispose();
});

describe('threads under failure', () => {
  it('a worker that dies in the middle of a call: the call throws promptly, and so does every later split call', async () => {
    const { backend, workers } = await threaded(2);
    live.push(backend);
    expect(workers).toHaveLength(1);
    const p = backend.memory.alloc(BIG * 4);
    backend.kernels.fill_f32(p, BIG, 1); // split: the worker is alive and working
    const crash = crashDuringCall(backend, p);
    expect(crash.ms).toBeLessThan(2000);
    expectLibError(crash.error, WasmCnnError, /fill_f32: kernel worker 1 exited during the call/);
    expect(await workers[0].exited).toBe(70);
    const t1 = performance.now();
    expectLibError(thrownSync(() => backend.kernels.fill_f32(p, BIG, 2)), WasmCnnError, /kernel worker 1 exited; create a new backend/);
    expect(performance.now() - t1).toBeLessThan(100);
  });

  it('a worker that dies while train() is pending: train() rejects promptly and the parameters are those of the last complete step', async () => {
    const { backend, workers } = await threaded(2);
    live.push(backend);
    const net = model(backend);
    const kept: Uint8Array[] = [];
    const trainer = new Trainer(net, x, t, x, t, {
      epochs: 5, miniBatchSize: 50, optimizer: 'adam', seed: 1,
      onIteration: async ({ step }) => {
        kept.push(paramBytes(net));
        if (step === 2) await workers[0].handle.terminate(); // the worker ends between two steps
      },
    });
    const t0 = performance.now();
    const e = await thrown(() => trainer.train());
    expect(performance.now() - t0).toBeLessThan(10_000);
    expectLibError(e, WasmCnnError, /kernel worker 1 exited/);
    expect(kept).toHaveLength(2);
    expect(sameBytes(paramBytes(net), kept[1])).toBe(true);
  });

  it('dispose() ends every worker of the backend, and later calls say it was disposed', async () => {
    const { backend, workers } = await threaded(3);
    expect(workers).toHaveLength(2);
    const p = backend.memory.alloc(BIG * 4);
    backend.kernels.fill_f32(p, BIG, 1);
    backend.dispose();
    const codes = await Promise.race([
      Promise.all(workers.map((w) => w.exited)),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('workers still running 5 s after dispose()')), 5000)),
    ]);
    expect(codes).toHaveLength(2);
    expectLibError(thrownSync(() => backend.kernels.fill_f32(p, BIG, 1)), WasmCnnError, /the backend was disposed/);
  });

  it('a second backend in the same process works independently of a crashed and a disposed one', async () => {
    const reference = await createBackend('wasm');
    const a = await threaded(2);
    const b = await threaded(2);
    live.push(b.backend);
    const nets = [model(reference), model(a.backend), model(b.backend)];
    const step = (i: number) => {
      for (const net of nets.slice(i)) {
        net.gradient(x, t);
        const g = net.gradient(x, t);
        for (const [k, p] of Object.entries(net.params)) {
          const d = p.data;
          const gd = g[k].data;
          for (let j = 0; j < d.length; j++) d[j] -= 0.1 * gd[j];
        }
      }
    };
    step(0);
    expect(sameBytes(paramBytes(nets[1]), paramBytes(nets[0]))).toBe(true);
    expect(sameBytes(paramBytes(nets[2]), paramBytes(nets[0]))).toBe(true);
    // crash a's worker, then dispose a: b keeps giving the reference results
    const p = a.backend.memory.alloc(BIG * 4);
    expectLibError(crashDuringCall(a.backend, p).error, WasmCnnError, /exited during the call/);
    expectLibError(thrownSync(() => nets[1].predict(x)), WasmCnnError, /kernel worker 1 exited/);
    a.backend.dispose();
    await Promise.all(a.workers.map((w) => w.exited));
    nets.splice(1, 1);
    step(0);
    step(0);
    expect(sameBytes(paramBytes(nets[1]), paramBytes(nets[0]))).toBe(true);
    const r = await new Trainer(nets[1], x, t, x, t, { epochs: 1, miniBatchSize: 50 }).train();
    expect(r.steps).toBe(2);
    expect(b.workers.map((w) => w.ended)).toEqual([false]);
    expect(a.workers.map((w) => w.ended)).toEqual([true]);
  });
});
