// Whether a threaded backend's kernel workers computed part of a piece of work. A split
// call's chunks are taken by the calling thread (from the back) and the workers (from the
// front) as each comes free, so a worker that is slow to wake may find none left and the
// calling thread computes the whole call: a comparison of "2 threads" with "1 thread" then
// compares one thread with itself. These helpers read the pool's per-worker chunk counts
// (WorkerPool.chunksTaken) around the work and repeat it until the workers took chunks.
import { expect } from 'vitest';
import type { Backend } from '../../src/backend/backend.js';
import type { ThreadedKernels } from '../../src/backend/threads/kernels.js';

/** Chunks each kernel worker of `b` has taken so far (empty on 1 thread). */
export function chunksTaken(b: Backend): number[] {
  if (b.features.threads <= 1) return [];
  return [...(b.kernels as ThreadedKernels).pool.chunksTaken];
}

/** Chunks each worker took between two readings of chunksTaken. */
export const chunksSince = (b: Backend, before: readonly number[]): number[] => chunksTaken(b).map((c, w) => c - before[w]);

interface Opts {
  /** Until each worker took a chunk (default: until one did). */
  every?: boolean;
  tries?: number;
}

/**
 * Runs `work` on `b` until its workers took at least one chunk of it (`every`: until each
 * worker did), at most `tries` times (default 200), and returns the last run's result and
 * the chunks each worker took in it. On 1 thread it runs once. `work` must give the same
 * result every time (fresh inputs per run). Fails the test when no run had the workers work.
 */
export function withWorkers<T>(b: Backend, what: string, work: () => T, opts: Opts = {}): { result: T; chunks: number[] } {
  for (let attempt = 1; ; attempt++) {
    const before = chunksTaken(b);
    const result = work();
    const chunks = chunksSince(b, before);
    if (done(b, what, chunks, attempt, opts)) return { result, chunks };
  }
}

/** withWorkers for asynchronous work (a Trainer run). */
export async function withWorkersAsync<T>(b: Backend, what: string, work: () => Promise<T>, opts: Opts = {}): Promise<{ result: T; chunks: number[] }> {
  for (let attempt = 1; ; attempt++) {
    const before = chunksTaken(b);
    const result = await work();
    const chunks = chunksSince(b, before);
    if (done(b, what, chunks, attempt, opts)) return { result, chunks };
  }
}

/** Whether a run with these chunks per worker counts; fails the test after the last try. */
function done(b: Backend, what: string, chunks: readonly number[], attempt: number, opts: Opts): boolean {
  if (b.features.threads <= 1) return true;
  if (opts.every ? chunks.every((c) => c > 0) : chunks.some((c) => c > 0)) return true;
  const tries = opts.tries ?? 200;
  if (attempt < tries) return false;
  return expect.fail(`${what} on ${b.features.threads} threads: ${opts.every ? 'not every kernel worker took a chunk' : 'the kernel workers took no chunk'} `
    + `in any of ${tries} runs (chunks per worker in the last: ${chunks.join(', ')})`);
}
