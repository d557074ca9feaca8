/**
 * The threaded kernel set: the same synchronous Kernels ABI, with the big calls split over
 * the calling thread and the pool's workers (pool.ts). Every split gives each thread a
 * disjoint set of OUTPUT elements and leaves the computation of each element unchanged, so
 * results are bit-identical for every thread count (tests/threads/):
 *
 *   elementwise, optimizers     ranges of n, boundaries at multiples of 16 elements (every
 *                               element keeps the same vector/scalar code path)
 *   pooling                     planes;  bias_add_channels: images;  bias_add_rows, softmax: rows
 *   gemm_f32                    rows of C at multiples of 5 (the micro-tile height) or columns
 *                               at multiples of 8 (broadcast path) / 2 (dot path), never K,
 *                               so each element keeps its micro-kernel and k-order
 *   conv_fwd_f32, conv_bwd_data images, each thread with its own col scratch
 *   conv_bwd_filter_f32         columns of dW (rows of im2col) at even boundaries: each thread
 *                               sums all images, in order, into its own columns
 *   conv_bwd_bias_f32           channels
 *   count_nonfinite_f32         ranges of n, counts added
 *
 * Calls below a size threshold (~100 us of work) run on the calling thread only: a
 * dispatch costs ~10 us. The calling thread takes the last share. Workers' conv scratch
 * comes from the backend's memory and is kept (grown only for larger shapes), so steady-state
 * training allocates nothing. Kernels without a rule (im2col/col2im of one image, losses,
 * batch norm, bias gradients of affine layers) run on the calling thread.
 */
import { KERNEL_NAMES, type Kernels } from '../kernels.js';
import type { LinearMemory } from '../memory.js';
import type { WorkerPool } from './pool.js';

type Args = number[];
/** Splits a call's arguments into per-thread argument lists (one list: run unsplit). */
type Splitter = (a: Args, threads: number) => Args[];

/** Minimum elements per share of a memory-bound kernel (~64 KiB per operand). */
const MIN_ELEMS = 16384;
/** Minimum FLOPs per share of a compute-bound kernel. */
const MIN_FLOPS = 4e5;

/** Boundaries [0, b1, ..., n] of at most `threads` parts, each a multiple of `align` (but the last) and >= minPer. */
export function splitRange(n: number, threads: number, align: number, minPer: number): number[] {
  const parts = Math.max(1, Math.min(threads, Math.floor(n / Math.max(1, minPer)), Math.ceil(n / align)));
  if (parts <= 1) return [0, n];
  const chunk = Math.ceil(n / parts / align) * align;
  const b = [0];
  for (let s = chunk; s < n; s += chunk) b.push(s);
  b.push(n);
  return b;
}

/** Elementwise kernels: pointer argument indices, the index of n. */
function elementwise(ptrs: readonly number[], nIdx: number): Splitter {
  return (a, T) => {
    const n = a[nIdx];
    const b = splitRange(n, T, 16, MIN_ELEMS);
    const out: Args[] = [];
    for (let i = 0; i + 1 < b.length; i++) {
      const p = a.slice();
      for (const k of ptrs) p[k] = a[k] + b[i] * 4;
      p[nIdx] = b[i + 1] - b[i];
      out.push(p);
    }
    return out;
  };
}

/**
 * Kernels over independent blocks (planes, images, rows): `count` is the index of the block
 * count, `ptrs` pairs a pointer index with the bytes per block, `per` the elements per block.
 */
function blocks(count: number, ptrs: readonly (readonly [number, (a: Args) => number])[], per: (a: Args) => number, minWork = MIN_ELEMS): Splitter {
  return (a, T) => {
    const n = a[count];
    const b = splitRange(n, T, 1, Math.ceil(minWork / Math.max(1, per(a))));
    const out: Args[] = [];
    for (let i = 0; i + 1 < b.length; i++) {
      const p = a.slice();
      for (const [k, bytes] of ptrs) p[k] = a[k] + b[i] * bytes(a);
      p[count] = b[i + 1] - b[i];
      out.push(p);
    }
    return out;
  };
}

const outDim = (size: number, k: number, stride: number, pad: number) => {
  const span = size + 2 * pad - k;
  return span < 0 ? 0 : Math.floor(span / stride) + 1;
};

// pooling: (x, P, H, W, KH, KW, sH, sW, pH, pW, y[, argmax]) / bwd (dy, [argmax,] P, H, W, ..., dx)
const planeIn = (hIdx: number) => (a: Args) => a[hIdx] * a[hIdx + 1] * 4;
const planeOut = (hIdx: number) => (a: Args) =>
  outDim(a[hIdx], a[hIdx + 2], a[hIdx + 4], a[hIdx + 6]) * outDim(a[hIdx + 1], a[hIdx + 3], a[hIdx + 5], a[hIdx + 7]) * 4;

const SPLITTERS: Partial<Record<keyof Kernels, Splitter>> = {
  // (transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc)
  gemm_f32: (a, T) => {
    const [tA, tB, M, N, K] = a;
    const flops = 2 * M * N * K;
    if (flops < 2 * MIN_FLOPS || M <= 0 || N <= 0 || K <= 0) return [a];
    const dot = tA === 0 && tB !== 0;
    const alignN = dot ? 2 : 8;
    const byRows = M / 5 >= N / alignN;
    const out: Args[] = [];
    if (byRows) {
      const b = splitRange(M, T, 5, Math.ceil(MIN_FLOPS / (2 * N * K)));
      for (let i = 0; i + 1 < b.length; i++) {
        const p = a.slice();
        p[2] = b[i + 1] - b[i];
        p[6] = a[6] + (tA ? b[i] * 4 : b[i] * a[7] * 4);
        p[11] = a[11] + b[i] * a[12] * 4;
        out.push(p);
      }
    } else {
      const b = splitRange(N, T, alignN, Math.ceil(MIN_FLOPS / (2 * M * K)));
      for (let i = 0; i + 1 < b.length; i++) {
        const p = a.slice();
        p[3] = b[i + 1] - b[i];
        p[8] = a[8] + (tB ? b[i] * a[9] * 4 : b[i] * 4);
        p[11] = a[11] + b[i] * 4;
        out.push(p);
      }
    }
    return out;
  },

  // (x, N, C, H, W, w, FN, KH, KW, sH, sW, pH, pW, b, hasBias, y, col)
  conv_fwd_f32: (a, T) => {
    const [, N, C, H, W, , FN, KH, KW, sH, sW, pH, pW] = a;
    const OHW = outDim(H, KH, sH, pH) * outDim(W, KW, sW, pW);
    const CKK = C * KH * KW;
    const b = splitRange(N, T, 1, Math.ceil(MIN_FLOPS / Math.max(1, 2 * FN * OHW * CKK)));
    const out: Args[] = [];
    for (let i = 0; i + 1 < b.length; i++) {
      const p = a.slice();
      p[0] = a[0] + b[i] * C * H * W * 4;
      p[1] = b[i + 1] - b[i];
      p[15] = a[15] + b[i] * FN * OHW * 4;
      out.push(p);
    }
    return out;
  },

  // (dy, N, C, H, W, w, FN, KH, KW, sH, sW, pH, pW, dx, dcol)
  conv_bwd_data_f32: (a, T) => {
    const [, N, C, H, W, , FN, KH, KW, sH, sW, pH, pW] = a;
    const OHW = outDim(H, KH, sH, pH) * outDim(W, KW, sW, pW);
    const CKK = C * KH * KW;
    const b = splitRange(N, T, 1, Math.ceil(MIN_FLOPS / Math.max(1, 2 * FN * OHW * CKK)));
    const out: Args[] = [];
    for (let i = 0; i + 1 < b.length; i++) {
      const p = a.slice();
      p[0] = a[0] + b[i] * FN * OHW * 4;
      p[1] = b[i + 1] - b[i];
      p[13] = a[13] + b[i] * C * H * W * 4;
      out.push(p);
    }
    return out;
  },

  // (x, dy, N, C, H, W, FN, KH, KW, sH, sW, pH, pW, r0, r1, dw, col)
  conv_bwd_filter_f32: (a, T) => {
    const [, , N, , H, W, FN, KH, KW, sH, sW, pH, pW, r0, r1] = a;
    const OHW = outDim(H, KH, sH, pH) * outDim(W, KW, sW, pW);
    const perCol = Math.max(1, 2 * FN * OHW * N);
    const rows = r1 - r0;
    if (rows <= 0) return [a];
    // column shares start at even columns of the whole dW (the dot path's column pairs)
    const b = splitRange(rows, T, 2, Math.ceil(MIN_FLOPS / perCol));
    if (r0 % 2 !== 0) return [a];
    const out: Args[] = [];
    for (let i = 0; i + 1 < b.length; i++) {
      const p = a.slice();
      p[13] = r0 + b[i];
      p[14] = r0 + b[i + 1];
      out.push(p);
    }
    return out;
  },

  // (dy, N, C, HW, c0, c1, db)
  conv_bwd_bias_f32: (a, T) => {
    const [, N, , HW, c0, c1] = a;
    const b = splitRange(c1 - c0, T, 1, Math.ceil(MIN_ELEMS / Math.max(1, N * HW)));
    return b.slice(0, -1).map((s, i) => {
      const p = a.slice();
      p[4] = c0 + s;
      p[5] = c0 + b[i + 1];
      return p;
    });
  },

  maxpool_fwd_f32: blocks(1, [[0, planeIn(2)], [10, planeOut(2)], [11, planeOut(2)]], (a) => a[2] * a[3]),
  maxpool_bwd_f32: blocks(2, [[0, planeOut(3)], [1, planeOut(3)], [11, planeIn(3)]], (a) => a[3] * a[4]),
  avgpool_fwd_f32: blocks(1, [[0, planeIn(2)], [10, planeOut(2)]], (a) => a[2] * a[3]),
  avgpool_bwd_f32: blocks(1, [[0, planeOut(2)], [10, planeIn(2)]], (a) => a[2] * a[3]),

  // (y, b, N, C, HW): images
  bias_add_channels_f32: blocks(2, [[0, (a) => a[3] * a[4] * 4]], (a) => a[3] * a[4]),
  // (y, b, rows, cols): rows
  bias_add_rows_f32: blocks(2, [[0, (a) => a[3] * 4]], (a) => a[3]),
  // (x, y, N, C): rows, each row's softmax is independent
  softmax_f32: blocks(2, [[0, (a) => a[3] * 4], [1, (a) => a[3] * 4]], (a) => a[3] * 4),

  relu_fwd_f32: elementwise([0, 1], 2),
  relu_bwd_f32: elementwise([0, 1, 2], 3),
  sigmoid_fwd_f32: elementwise([0, 1], 2),
  sigmoid_bwd_f32: elementwise([0, 1, 2], 3),
  mul_f32: elementwise([0, 1, 2], 3),
  axpby_f32: elementwise([0, 1], 2),
  fill_f32: elementwise([0], 1),
  count_nonfinite_f32: elementwise([0], 1),
  sgd_f32: elementwise([0, 1], 2),
  momentum_f32: elementwise([0, 1, 2], 3),
  nesterov_f32: elementwise([0, 1, 2], 3),
  adagrad_f32: elementwise([0, 1, 2], 3),
  rmsprop_f32: elementwise([0, 1, 2], 3),
  adam_f32: elementwise([0, 1, 2, 3], 4),
};

/** Conv kernels' scratch: argument index and bytes one share needs; workers get blocks of their own. */
/** OH*OW of a conv call whose H, W, KH, KW, strideH, strideW, padH, padW are at the given argument indices. */
const convOHW = (a: Args, H: number, KH: number) =>
  outDim(a[H], a[KH], a[KH + 2], a[KH + 4]) * outDim(a[H + 1], a[KH + 1], a[KH + 3], a[KH + 5]);
const SCRATCH: Partial<Record<keyof Kernels, { arg: number; bytes: (a: Args) => number }>> = {
  // conv_fwd / conv_bwd_data: (ptr, N, C, H, W, w, FN, KH, KW, sH, sW, pH, pW, ...): CKK * OHW floats
  conv_fwd_f32: { arg: 16, bytes: (a) => a[2] * a[7] * a[8] * convOHW(a, 3, 7) * 4 },
  conv_bwd_data_f32: { arg: 14, bytes: (a) => a[2] * a[7] * a[8] * convOHW(a, 3, 7) * 4 },
  // conv_bwd_filter: (x, dy, N, C, H, W, FN, KH, KW, sH, sW, pH, pW, r0, r1, ...): (r1 - r0) * (OHW + FN) floats
  conv_bwd_filter_f32: { arg: 16, bytes: (a) => (a[14] - a[13]) * (convOHW(a, 4, 7) + a[6]) * 4 },
};

/** Kernels whose split results are added (the others return nothing). */
const SUMMED = new Set<string>(['count_nonfinite_f32']);

/** The kernel set a threaded Wasm backend exposes; `pool` is there for tests and diagnostics. */
export interface ThreadedKernels extends Kernels {
  readonly pool: WorkerPool;
  readonly threads: number;
}

/**
 * Wraps the calling thread's kernel exports: split calls dispatch to `pool`, the rest run
 * directly. `memory` provides the workers' conv scratch.
 */
export function createThreadedKernels(base: Kernels, pool: WorkerPool, memory: LinearMemory, threads: number): ThreadedKernels {
  const table: Record<string, unknown> = { pool, threads };
  // per-worker scratch blocks (col / dcol of the conv kernels), grown on demand, then reused
  const blocks: { ptr: number; bytes: number }[] = [];
  const workerScratch = (w: number, bytes: number): number => {
    let s = blocks[w];
    if (!s || s.bytes < bytes) {
      if (s) memory.release(s.ptr);
      s = { ptr: memory.alloc(Math.max(bytes, 4)), bytes };
      blocks[w] = s;
    }
    return s.ptr;
  };
  const names = pool.names;
  for (const name of KERNEL_NAMES) {
    const fn = base[name] as (...a: number[]) => unknown;
    const split = SPLITTERS[name];
    const index = names.indexOf(name);
    if (!split || index < 0) {
      table[name] = fn;
      continue;
    }
    const summed = SUMMED.has(name);
    const sc = SCRATCH[name];
    table[name] = (...a: number[]): unknown => {
      const parts = split(a, threads);
      if (parts.length <= 1) return fn(...a);
      // workers take shares 0..k-2, each with its own scratch; the calling thread the last,
      // with the scratch the caller passed
      const last = parts.length - 1;
      const jobs = parts.slice(0, last);
      if (sc) jobs.forEach((p, w) => { p[sc.arg] = workerScratch(w, sc.bytes(p)); });
      const mine = parts[last];
      const results = pool.run(index, jobs, () => fn(...mine));
      if (!summed) return undefined;
      let sum = 0;
      for (const r of results) sum += r;
      return sum;
    };
  }
  return table as unknown as ThreadedKernels;
}
