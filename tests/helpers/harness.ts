// Test helpers: both backends, and putting arrays into / reading them out of backend memory.
import { beforeAll } from 'vitest';
import { createBackend } from '../../src/backend/create.js';
import type { Backend, BackendName } from '../../src/backend/backend.js';

export const BACKENDS: BackendName[] = ['wasm', 'js'];

/** A backend plus helpers to place raw arrays in its memory for kernel calls. */
export class Harness {
  private blocks: number[] = [];
  constructor(readonly backend: Backend) {}

  get k() {
    return this.backend.kernels;
  }

  /** Copies f32 values into a new block; returns its byte pointer. */
  putF32(values: ArrayLike<number>): number {
    const ptr = this.alloc(values.length);
    new Float32Array(this.backend.memory.buffer, ptr, values.length).set(values);
    return ptr;
  }

  /** Copies i32 values into a new block; returns its byte pointer. */
  putI32(values: ArrayLike<number>): number {
    const ptr = this.alloc(values.length);
    new Int32Array(this.backend.memory.buffer, ptr, values.length).set(values);
    return ptr;
  }

  /** A block for n 4-byte values, filled with NaN so kernels that read their output are caught. */
  alloc(n: number): number {
    const ptr = this.backend.memory.alloc(n * 4);
    new Float32Array(this.backend.memory.buffer, ptr, n).fill(NaN);
    this.blocks.push(ptr);
    return ptr;
  }

  getF32(ptr: number, n: number): Float32Array {
    return new Float32Array(this.backend.memory.buffer, ptr, n).slice();
  }

  getI32(ptr: number, n: number): Int32Array {
    return new Int32Array(this.backend.memory.buffer, ptr, n).slice();
  }

  /** Frees every block this harness handed out. */
  reset(): void {
    for (const p of this.blocks) this.backend.memory.release(p);
    this.blocks = [];
  }
}

export async function harness(name: BackendName): Promise<Harness> {
  return new Harness(await createBackend(name));
}

/** Deterministic pseudo-random floats in [-1, 1) (mulberry32), for test inputs. */
export function randomF32(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296 * 2 - 1;
  }
  return out;
}

/** Max |a - b| / (1 + |b|) over all elements: a relative error that tolerates values near 0. */
export function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i]));
    if (!(e <= m)) m = Number.isNaN(e) ? Infinity : e;
  }
  return m;
}

/** Cells after a buffer that a kernel must not touch, and the value they hold. */
export const GUARD = 5;
export const SENTINEL = 12345.5;

/** Copies `values` followed by GUARD sentinel cells; returns the pointer. */
export function putGuarded(h: Harness, values: ArrayLike<number>): number {
  return h.putF32([...Array.from(values), ...new Array(GUARD).fill(SENTINEL)]);
}

/** An output block of n cells (NaN) followed by GUARD sentinel cells. */
export function outGuarded(h: Harness, n: number): number {
  const p = h.alloc(n + GUARD);
  new Float32Array(h.backend.memory.buffer, p + n * 4, GUARD).fill(SENTINEL);
  return p;
}

/** Whether the GUARD cells after the n cells at p still hold the sentinel. */
export function guardIntact(h: Harness, p: number, n: number): boolean {
  return h.getF32(p + n * 4, GUARD).every((v) => v === SENTINEL);
}

/**
 * Creates a Wasm and a JS harness before the suite's tests, and returns `onBoth(fn)`,
 * which runs fn on each (freeing its blocks afterwards) and returns the two results.
 */
export function useBothBackends(): <T>(fn: (h: Harness) => T) => T[] {
  let both: Harness[] = [];
  beforeAll(async () => {
    both = [await harness('wasm'), await harness('js')];
  });
  return (fn) => both.map((h) => {
    try {
      return fn(h);
    } finally {
      h.reset();
    }
  });
}
