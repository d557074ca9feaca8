/**
 * The threaded kernel set: the same synchronous Kernels ABI, with the big calls split over
 * the calling thread and the pool's workers (pool.ts). Every split gives each thread a
 * disjoint set of OUTPUT elements and leaves the computation of each element unchanged, so
 * results are bit-identical for every thread count (tests/threads/):
 *
 *   elementwise, optimizers     ranges of n, boundaries at multiples of 16 elements (every
 *                               element keeps the same vector/scalar code path)
 *   pooling                     planes;  bias_add_channels: images;  bias_add_rows, softmax: rows
 *   gemm_f32, gemm_nt_dots_f32  rows of C at multiples of 5 (the micro-tile height) or columns
 *                               at multiples of 16 (of the 8-wide tile and of a cache line),
 *                               never K, so each element keeps its micro-kernel and k-order
 *   conv_fwd_f32, conv_bwd_data images, each thread with its own col scratch
 *   conv_bwd_filter_f32         columns of dW (rows of im2col) at even boundaries: each thread
 *                               sums all images, in order, into its own columns
 *   conv_bwd_bias_f32           channels
 *   wino_fwd_f32, wino4_fwd_f32 images, each thread with its own scratch
 *   wino(4)_grad_sums_f32       image partitions (WINO_PARTS, fixed by N): each thread sums
 *                               the groups of its partitions, in order, into their own sums
 *   conv_relu_pool_fwd_f32      images, each thread with its own col scratch
 *   wino5_relu_pool_fwd_f32     images, each thread with its own scratch
 *   count_nonfinite_f32         ranges of n, counts added
 *
 * A split call is cut into up to CHUNKS_PER_THREAD equal chunks per thread at the alignments
 * above, each worth at least ~20 us (compute-bound) or ~10 us (memory-bound) of work; calls
 * too small for two chunks run on the calling thread only (a dispatch costs ~1-50 us). The
 * calling thread and the workers take the chunks one at a time as each comes free (pool.ts):
 * which thread computes a chunk changes nothing in its results, and a thread that loses its
 * CPU for a while (a page's main thread rendering, another program on the same cores) delays
 * the call by at most one chunk. Workers' conv scratch comes from the backend's memory and is
 * kept (grown only for larger shapes), so steady-state training allocates nothing. Kernels
 * without a rule (im2col/col2im of one image, losses, batch norm, bias gradients of affine
 * layers) run on the calling thread.
 */
import {
  KERNEL_NAMES, WINO_PARTS, convDataScratch, convFilterScratch, wino4FwdScratch, wino4SumsScratch, wino5FwdScratch, winoFwdScratch,
  winoSumsScratch,
  type Kernels,
} from '../kernels.js';
import type { LinearMemory } from '../memory.js';
import type { WorkerPool } from './pool.js';
import { MAX_CHUNKS } from './protocol.js';

type Args = number[];
/** A call split into chunks: the argument list of each. */
interface Split { parts: Args[] }
/**
 * Splits a call's arguments into at most `parts` chunks; `weights` (one per part, summing
 * to 1; default equal) says how much of the work each should get. One part: run unsplit.
 */
type Splitter = (a: Args, parts: number, weights?: ArrayLike<number>) => Split;

/**
 * Chunks per thread of a split call. Threads take chunks as they come free (pool.ts), so a
 * thread that loses its CPU for a while holds up at most one chunk: more chunks, less waiting
 * behind a descheduled thread, but more per-chunk overhead (~1-2 us) and smaller GEMM blocks.
 * Measured in Chromium on 2 cores with the web app's page redrawing: 2, 4 and 8 gave the same
 * speed within noise, fixed per-thread shares ~10% less; 8 made the 100x100x4320 GEMM ~15% slower.
 */
const CHUNKS_PER_THREAD = 4;
/** Minimum elements per chunk of a memory-bound kernel (~128 KiB per operand, ~10 us). */
const MIN_ELEMS = 32768;
/** ... of the cheapest ones (one stream: fill, count). */
const MIN_ELEMS_CHEAP = 131072;
/** Minimum FLOPs per chunk of a compute-bound kernel (~20 us). */
const MIN_FLOPS = 1e6;

/**
 * Boundaries [0, b1, ..., n] of at most `threads` parts of at least `minPer` units, each
 * boundary a multiple of `align`, placed as near as alignment allows to the cumulative
 * `weights` (default: equal parts). With p < threads parts, the first p - 1 weights and the
 * last (the calling thread's) are used.
 */
export function splitRange(n: number, threads: number, align: number, minPer: number, weights?: ArrayLike<number>): number[] {
  const parts = Math.max(1, Math.min(threads, Math.floor(n / Math.max(1, minPer)), Math.ceil(n / align)));
  if (parts <= 1) return [0, n];
  const w: number[] = [];
  for (let i = 0; i < parts; i++) w.push(weights ? weights[i === parts - 1 ? threads - 1 : i] : 1);
  const total = w.reduce((x, y) => x + y, 0);
  const b = [0];
  let acc = 0;
  for (let i = 0; i < parts - 1; i++) {
    acc += w[i];
    const cut = Math.round((n * acc) / total / align) * align;
    b.push(Math.min(n, Math.max(b[b.length - 1], cut)));
  }
  b.push(n);
  // drop empty parts (tiny n with skewed weights)
  return b.filter((x, i) => i === 0 || x > b[i - 1]);
}

/** A Split from boundaries: `make(from, to)` gives the arguments of the part [from, to). */
function byBounds(b: number[], make: (from: number, to: number) => Args): Split {
  const parts: Args[] = [];
  for (let i = 0; i + 1 < b.length; i++) parts.push(make(b[i], b[i + 1]));
  return { parts };
}

const unsplit = (a: Args): Split => ({ parts: [a] });

/** Elementwise kernels: pointer argument indices, the index of n; `minPer`: elements worth a share. */
function elementwise(ptrs: readonly number[], nIdx: number, minPer = MIN_ELEMS): Splitter {
  return (a, T, w) => byBounds(splitRange(a[nIdx], T, 16, minPer, w), (from, to) => {
    const p = a.slice();
    for (const k of ptrs) p[k] = a[k] + from * 4;
    p[nIdx] = to - from;
    return p;
  });
}

/**
 * Kernels over independent blocks (planes, images, rows): `count` is the index of the block
 * count, `ptrs` pairs a pointer index with the bytes per block, `per` the elements per block.
 */
function blocks(count: number, ptrs: readonly (readonly [number, (a: Args) => number])[], per: (a: Args) => number, minWork = MIN_ELEMS): Splitter {
  return (a, T, w) => byBounds(splitRange(a[count], T, 1, Math.ceil(minWork / Math.max(1, per(a))), w), (from, to) => {
    const p = a.slice();
    for (const [k, bytes] of ptrs) p[k] = a[k] + from * bytes(a);
    p[count] = to - from;
    return p;
  });
}

const outDim = (size: number, k: number, stride: number, pad: number) => {
  const span = size + 2 * pad - k;
  return span < 0 ? 0 : Math.floor(span / stride) + 1;
};

// pooling: (x, P, H, W, KH, KW, sH, sW, pH, pW, y[, argmax]) / bwd (dy, [argmax,] P, H, W, ..., dx)
const planeIn = (hIdx: number) => (a: Args) => a[hIdx] * a[hIdx + 1] * 4;
const planeOut = (hIdx: number) => (a: Args) =>
  outDim(a[hIdx], a[hIdx + 2], a[hIdx + 4], a[hIdx + 6]) * outDim(a[hIdx + 1], a[hIdx + 3], a[hIdx + 5], a[hIdx + 7]) * 4;

/** OH*OW of a conv call whose H, W, KH, KW, strideH, strideW, padH, padW are at the given argument indices. */
const convOHW = (a: Args, H: number, KH: number) =>
  outDim(a[H], a[KH], a[KH + 2], a[KH + 4]) * outDim(a[H + 1], a[KH + 1], a[KH + 3], a[KH + 5]);

/** (OH, OW) of a Winograd call whose H, W and pad are at the given argument indices (OH = H + 2*pad - 2). */
const winoOut = (a: Args, H: number, pad: number) => [a[H] + 2 * a[pad] - 2, a[H + 1] + 2 * a[pad] - 2] as const;
/** OH*OW of such a call (0 for an empty output). */
const winoOHW = (a: Args, H: number, pad: number) => {
  const [OH, OW] = winoOut(a, H, pad);
  return Math.max(0, OH) * Math.max(0, OW);
};

/**
 * conv_fwd / conv_bwd_data, (src, N, C, H, W, w, FN, KH, KW, sH, sW, pH, pW, ...): images, each
 * thread with its own col scratch. `src` (argument 0) holds images of the input ('x': C*H*W
 * floats) or of the output ('y': FN*OH*OW floats); the result at argument `dst`, the other kind.
 */
function convImages(src: 'x' | 'y', dst: number): Splitter {
  const dstKind = src === 'x' ? 'y' : 'x';
  return (a, T, w) => {
    const [, N, C, H, W, , FN, KH, KW] = a;
    const OHW = convOHW(a, 3, 7);
    const floats = { x: C * H * W, y: FN * OHW };
    const perImage = Math.max(1, 2 * FN * OHW * C * KH * KW);
    return byBounds(splitRange(N, T, 1, Math.ceil(MIN_FLOPS / perImage), w), (from, to) => {
      const p = a.slice();
      p[0] = a[0] + from * floats[src] * 4;
      p[1] = to - from;
      p[dst] = a[dst] + from * floats[dstKind] * 4;
      return p;
    });
  };
}

/**
 * wino_fwd_f32, wino4_fwd_f32 (x, N, C, H, W, u, FN, pad, b, hasBias, y, scratch): x images -> y
 * images, each thread with its own scratch; `flopsPerOutput`: GEMM FLOP per output and channel.
 */
function winoImages(flopsPerOutput: number): Splitter {
  return (a, T, w) => {
    const [, N, C, H, W, , FN] = a;
    const OHW = winoOHW(a, 3, 7);
    const perImage = Math.max(1, flopsPerOutput * FN * OHW * C);
    return byBounds(splitRange(N, T, 1, Math.ceil(MIN_FLOPS / perImage), w), (from, to) => {
      const p = a.slice();
      p[0] = a[0] + from * C * H * W * 4;
      p[1] = to - from;
      p[10] = a[10] + from * FN * OHW * 4;
      return p;
    });
  };
}

/**
 * wino_grad_sums_f32, wino4_grad_sums_f32 (x, dy, N, C, H, W, FN, pad, p0, p1, sums, scratch):
 * image partitions p0..p1-1, each thread with its own scratch; `flopsPerOutput` as in winoImages.
 */
function winoPartitions(flopsPerOutput: number): Splitter {
  return (a, T, w) => {
    const N = a[2], FN = a[6], p0 = a[8], p1 = a[9];
    const perPart = Math.max(1, (flopsPerOutput * FN * winoOHW(a, 4, 7) * a[3] * N) / WINO_PARTS);
    return byBounds(splitRange(p1 - p0, T, 1, Math.ceil(MIN_FLOPS / perPart), w), (from, to) => {
      const p = a.slice();
      p[8] = p0 + from;
      p[9] = p0 + to;
      return p;
    });
  };
}

/** gemm_f32, (transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc): rows or columns of C. */
const gemmSplit: Splitter = (a, T, w) => {
  const [tA, tB, M, N, K] = a;
  if (2 * M * N * K < 2 * MIN_FLOPS || M <= 0 || N <= 0 || K <= 0) return unsplit(a);
  // column shares start at multiples of 16 columns: a multiple of the micro-tile width (8)
  // and of a 64-byte cache line, so shares do not write the same lines;
  // a last share of 9-12 columns takes the narrow path, which sums every element in the
  // same order as the broadcast path would (assembly/gemm.ts, "Summation order")
  const alignN = 16;
  if (M / 5 >= N / alignN) {
    return byBounds(splitRange(M, T, 5, Math.ceil(MIN_FLOPS / (2 * N * K)), w), (from, to) => {
      const p = a.slice();
      p[2] = to - from;
      p[6] = a[6] + (tA ? from * 4 : from * a[7] * 4);
      p[11] = a[11] + from * a[12] * 4;
      return p;
    });
  }
  return byBounds(splitRange(N, T, alignN, Math.ceil(MIN_FLOPS / (2 * M * K)), w), (from, to) => {
    const p = a.slice();
    p[3] = to - from;
    p[8] = a[8] + (tB ? from * a[9] * 4 : from * 4);
    p[11] = a[11] + from * 4;
    return p;
  });
};

const SPLITTERS: Partial<Record<keyof Kernels, Splitter>> = {
  gemm_f32: gemmSplit,

  // (M, N, K, alpha, A, lda, B, ldb, beta, C, ldc): split as gemm_f32 NT splits (rows at
  // multiples of 5 or columns at multiples of 16, so the dot path's 5-row tiles and column
  // pairs stay the same)
  gemm_nt_dots_f32: (a, T, w) => ({ parts: gemmSplit([0, 1, ...a], T, w).parts.map((p) => p.slice(2)) }),

  // (x, N, C, H, W, w, FN, KH, KW, sH, sW, pH, pW, b, hasBias, y, col): x images -> y images
  conv_fwd_f32: convImages('x', 15),
  // (dy, N, C, H, W, w, FN, KH, KW, sH, sW, pH, pW, dx, dcol): dy images -> dx images
  conv_bwd_data_f32: convImages('y', 13),

  // (x, dy, N, C, H, W, FN, KH, KW, sH, sW, pH, pW, r0, r1, dw, col)
  conv_bwd_filter_f32: (a, T, w) => {
    const N = a[2], FN = a[6], r0 = a[13], r1 = a[14];
    const OHW = convOHW(a, 4, 7);
    // column shares start at even columns of the whole dW (the column pairs of its dot path, assembly/gemm.ts gemm_nt_dots_f32)
    if (r1 <= r0 || r0 % 2 !== 0) return unsplit(a);
    return byBounds(splitRange(r1 - r0, T, 2, Math.ceil(MIN_FLOPS / Math.max(1, 2 * FN * OHW * N)), w), (from, to) => {
      const p = a.slice();
      p[13] = r0 + from;
      p[14] = r0 + to;
      return p;
    });
  },

  // (x, N, C, H, W, u, FN, pad, b, hasBias, y, scratch): x images -> y images
  wino_fwd_f32: winoImages(8), // 16 products per 2x2 tile and channel: 8 FLOP per output
  wino4_fwd_f32: winoImages(4.5), // 36 per 4x4 tile
  // (x, dy, N, C, H, W, FN, pad, p0, p1, sums, scratch): ranges of image partitions
  wino_grad_sums_f32: winoPartitions(8),
  wino4_grad_sums_f32: winoPartitions(4.5),

  // (x, N, C, H, W, u, FN, pad, b, hasBias, y, scratch): x images -> pooled y images (FN * PH * PW floats each)
  wino5_relu_pool_fwd_f32: (a, T, w) => {
    const [, N, C, H, W, , FN, pad] = a;
    const PH = Math.floor((H + 2 * pad - 4) / 2), PW = Math.floor((W + 2 * pad - 4) / 2);
    // the direct convolution's 200 FLOP per pooled output and channel, over F(4x4, 5x5)'s ~1.6x speed (bench kernels)
    const perImage = Math.max(1, 125 * FN * C * PH * PW);
    return byBounds(splitRange(N, T, 1, Math.ceil(MIN_FLOPS / perImage), w), (from, to) => {
      const p = a.slice();
      p[0] = a[0] + from * C * H * W * 4;
      p[1] = to - from;
      p[10] = a[10] + from * FN * PH * PW * 4;
      return p;
    });
  },

  // (x, N, C, H, W, w, FN, KH, KW, sH, sW, pH, pW, b, hasBias, PK, PS, PP, y, col): x images ->
  // pooled y images (FN * PH * PW floats each)
  conv_relu_pool_fwd_f32: (a, T, w) => {
    const [, N, C, H, W, , FN, KH, KW] = a;
    const OH = outDim(H, KH, a[9], a[11]);
    const OW = outDim(W, KW, a[10], a[12]);
    const yFloats = FN * outDim(OH, a[15], a[16], a[17]) * outDim(OW, a[15], a[16], a[17]);
    const perImage = Math.max(1, 2 * FN * OH * OW * C * KH * KW);
    return byBounds(splitRange(N, T, 1, Math.ceil(MIN_FLOPS / perImage), w), (from, to) => {
      const p = a.slice();
      p[0] = a[0] + from * C * H * W * 4;
      p[1] = to - from;
      p[18] = a[18] + from * yFloats * 4;
      return p;
    });
  },

  // (dy, N, C, HW, c0, c1, db)
  conv_bwd_bias_f32: (a, T, w) => {
    const [, N, , HW, c0, c1] = a;
    return byBounds(splitRange(c1 - c0, T, 1, Math.ceil(MIN_ELEMS / Math.max(1, N * HW)), w), (from, to) => {
      const p = a.slice();
      p[4] = c0 + from;
      p[5] = c0 + to;
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
  fill_f32: elementwise([0], 1, MIN_ELEMS_CHEAP),
  count_nonfinite_f32: elementwise([0], 1, MIN_ELEMS_CHEAP),
  sgd_f32: elementwise([0, 1], 2),
  momentum_f32: elementwise([0, 1, 2], 3),
  nesterov_f32: elementwise([0, 1, 2], 3),
  adagrad_f32: elementwise([0, 1, 2], 3),
  rmsprop_f32: elementwise([0, 1, 2], 3),
  adam_f32: elementwise([0, 1, 2, 3], 4),
};

/** Conv kernels' scratch: argument index and bytes one share needs; workers get blocks of their own. */
const SCRATCH: Partial<Record<keyof Kernels, { arg: number; bytes: (a: Args) => number }>> = {
  // conv_fwd / conv_bwd_data: (ptr, N, C, H, W, w, FN, KH, KW, sH, sW, pH, pW, ...): convDataScratch
  // floats for the whole N (a share's group is never wider)
  conv_fwd_f32: { arg: 16, bytes: (a) => convDataScratch(a[1], a[2] * a[7] * a[8], a[6], convOHW(a, 3, 7)) * 4 },
  conv_bwd_data_f32: { arg: 14, bytes: (a) => convDataScratch(a[1], a[2] * a[7] * a[8], a[6], convOHW(a, 3, 7)) * 4 },
  wino5_relu_pool_fwd_f32: { arg: 11, bytes: (a) => wino5FwdScratch(a[2], a[3], a[4], a[7]) * 4 },
  conv_relu_pool_fwd_f32: { arg: 19, bytes: (a) => convDataScratch(a[1], a[2] * a[7] * a[8], a[6], convOHW(a, 3, 7)) * 4 },
  // conv_bwd_filter: (x, dy, N, C, H, W, FN, KH, KW, sH, sW, pH, pW, r0, r1, ...): convFilterScratch floats
  conv_bwd_filter_f32: { arg: 16, bytes: (a) => convFilterScratch(a[2], a[14] - a[13], a[6], convOHW(a, 4, 7)) * 4 },
  // wino_fwd: (x, N, C, H, W, u, FN, pad, ...); wino_grad_sums: (x, dy, N, C, H, W, FN, pad, p0, p1, ...)
  wino_fwd_f32: { arg: 11, bytes: (a) => winoFwdScratch(a[1], a[2], a[6], ...winoOut(a, 3, 7)) * 4 },
  wino4_fwd_f32: { arg: 11, bytes: (a) => wino4FwdScratch(a[1], a[2], a[6], ...winoOut(a, 3, 7)) * 4 },
  wino_grad_sums_f32: { arg: 11, bytes: (a) => winoSumsScratch(a[2], a[3], a[6], ...winoOut(a, 4, 7)) * 4 },
  wino4_grad_sums_f32: { arg: 11, bytes: (a) => wino4SumsScratch(a[2], a[3], a[6], ...winoOut(a, 4, 7)) * 4 },
};

/** Kernels whose split results are added (the others return nothing). */
const SUMMED = new Set<string>(['count_nonfinite_f32']);

/** The kernel set a threaded Wasm backend exposes; `pool` is there for tests and diagnostics. */
export interface ThreadedKernels extends Kernels {
  readonly pool: WorkerPool;
  readonly threads: number;
  /** Test hook: split every call into one chunk per thread by these weights (the calling thread last) instead of into CHUNKS_PER_THREAD equal chunks per thread. */
  fixedWeights: number[] | null;
}

/**
 * Wraps the calling thread's kernel exports: split calls dispatch to `pool`, the rest run
 * directly. `memory` provides the workers' conv scratch.
 */
export function createThreadedKernels(base: Kernels, pool: WorkerPool, memory: LinearMemory, threads: number): ThreadedKernels {
  const table: Record<string, unknown> & { fixedWeights: number[] | null } = { pool, threads, fixedWeights: null };
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
  const scratchPtrs: number[] = new Array(threads - 1).fill(0);
  const names = pool.names;
  const chunksPerCall = Math.min(MAX_CHUNKS, threads * CHUNKS_PER_THREAD);
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
    const call = (args: readonly number[]) => fn(...args);
    table[name] = (...a: number[]): unknown => {
      const fixed = table.fixedWeights;
      const { parts } = fixed && fixed.length === threads && threads <= MAX_CHUNKS ? split(a, threads, fixed) : split(a, chunksPerCall);
      if (parts.length <= 1) return fn(...a);
      // the calling thread's chunks use the scratch the caller passed (sized for the whole
      // call); each worker gets a block of its own, sized for the largest chunk
      let scratch: { arg: number; workers: readonly number[] } | undefined;
      if (sc) {
        let bytes = 0;
        for (const p of parts) bytes = Math.max(bytes, sc.bytes(p));
        for (let w = 0; w < threads - 1; w++) scratchPtrs[w] = workerScratch(w, bytes);
        scratch = { arg: sc.arg, workers: scratchPtrs };
      }
      const results = pool.runChunks(index, parts, call, scratch);
      if (!summed) return undefined;
      let sum = 0;
      for (const r of results) sum += r;
      return sum;
    };
  }
  return table as unknown as ThreadedKernels;
}
