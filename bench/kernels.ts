/**
 * Kernel figures of a wasm-cnn backend (Wasm or plain JS), calling the kernel ABI directly
 * on buffers in the backend's memory (no tensor or layer overhead):
 *
 *   GEMM NN/NT/TN/TT at 128..1024, and the GEMMs SimpleConvNet runs at batch 100
 *   (conv 30x5x5 on 1x28x28 as per-image im2col GEMMs; affine 4320->100 and 100->10);
 *   im2col / col2im, max / avg pooling forward and backward, ReLU and the Adam update at
 *   the network's shapes (x (100,1,28,28); relu/pool over (100,30,24,24), 2x2 stride 2);
 *   the fused inference convolution 5x5 + bias + ReLU + 2x2 max-pool by both algorithms
 *   (conv_relu_pool_fwd_f32, Winograd F(4x4, 5x5)) at SimpleConvNet's conv1 and a few more shapes.
 *
 * GEMM figures are GFLOP/s (2*M*N*K per call); the rest are GB/s of compulsory traffic
 * (bytes every call must read and write at least once).
 */
import type { Backend } from '../src/backend/backend.js';
import { convDataScratch, wino5FilterFloats, wino5FwdScratch } from '../src/backend/kernels.js';
import { Random } from '../src/random.js';
import { figure, measureAuto, errorMessage, type Budget } from './timing.js';
import type { Failure, Figure, Impl, Unit } from './types.js';

export interface GemmShape {
  /** Row name (shared across implementations). */
  name: string;
  transA: boolean;
  transB: boolean;
  M: number;
  N: number;
  K: number;
  /** beta of the call (1 where the network accumulates, e.g. conv dW over the images of a batch). */
  beta?: number;
  /** Timed through gemm_nt_dots_f32 (NT as dot products), as the network computes it, instead of gemm_f32. */
  dots?: boolean;
}

export const VARIANTS: [boolean, boolean][] = [[false, false], [false, true], [true, false], [true, true]];

export function variantName(transA: boolean, transB: boolean): string {
  return `${transA ? 'T' : 'N'}${transB ? 'T' : 'N'}`;
}

/** Square GEMMs in all four transpose variants. */
export function squareGemms(quick: boolean): GemmShape[] {
  const sizes = quick ? [128, 256] : [128, 256, 512, 1024];
  const out: GemmShape[] = [];
  for (const n of sizes) {
    for (const [transA, transB] of VARIANTS) {
      out.push({ name: `gemm ${variantName(transA, transB)} ${n}`, transA, transB, M: n, N: n, K: n });
    }
  }
  return out;
}

/** SimpleConvNet's shapes: batch 100, conv 30 filters 5x5 on (1,28,28) -> (30,24,24), pool 2x2 -> 4320, affine 100, 10. */
export const NET = {
  N: 100, C: 1, H: 28, W: 28, FN: 30, KH: 5, KW: 5, OH: 24, OW: 24, PH: 12, PW: 12, hidden: 100, classes: 10,
} as const;

/** The GEMMs of one SimpleConvNet training step (conv ones per image, as src/ops/conv.ts runs them). */
export function networkGemms(): GemmShape[] {
  const CKK = NET.C * NET.KH * NET.KW; // 25
  const OHW = NET.OH * NET.OW; // 576
  const flat = NET.FN * NET.PH * NET.PW; // 4320
  const B = NET.N;
  return [
    { name: 'conv fwd W*col (per image)', transA: false, transB: false, M: NET.FN, N: OHW, K: CKK },
    { name: 'conv dW dy*col^T (per image)', transA: false, transB: true, M: NET.FN, N: CKK, K: OHW, beta: 1, dots: true },
    { name: 'conv dcol W^T*dy (per image)', transA: true, transB: false, M: CKK, N: OHW, K: NET.FN },
    { name: 'affine1 fwd x*W', transA: false, transB: false, M: B, N: NET.hidden, K: flat },
    { name: 'affine1 dW x^T*dout', transA: true, transB: false, M: flat, N: NET.hidden, K: B },
    { name: 'affine1 dx dout*W^T', transA: false, transB: true, M: B, N: flat, K: NET.hidden },
    { name: 'affine2 fwd x*W', transA: false, transB: false, M: B, N: NET.classes, K: NET.hidden },
    { name: 'affine2 dW x^T*dout', transA: true, transB: false, M: NET.hidden, N: NET.classes, K: B },
    { name: 'affine2 dx dout*W^T', transA: false, transB: true, M: B, N: NET.hidden, K: NET.classes },
  ];
}

export function gemmShapeLabel(g: GemmShape): string {
  return `${variantName(g.transA, g.transB)}${g.dots ? ' dots' : ''} (${g.M},${g.N},${g.K})`;
}

export function gemmFlops(g: GemmShape): number {
  return 2 * g.M * g.N * g.K;
}

/** SimpleConvNet's parameter count (W1 30x1x5x5, b1 30, W2 4320x100, b2 100, W3 100x10, b3 10). */
export const NET_PARAMS = NET.FN * NET.C * NET.KH * NET.KW + NET.FN
  + NET.FN * NET.PH * NET.PW * NET.hidden + NET.hidden + NET.hidden * NET.classes + NET.classes;

interface Case {
  name: string;
  shape: string;
  unit: Unit;
  work: number;
  /** Allocates and fills the buffers; returns the timed call. */
  setup: () => () => void;
}

/** Buffers in a backend's memory, freed together. */
class Buffers {
  private ptrs: number[] = [];
  constructor(private readonly backend: Backend, private readonly rng: Random) {}

  /** n f32 values uniform in [-1, 1). */
  f32(n: number): number {
    const ptr = this.backend.memory.alloc(n * 4);
    this.ptrs.push(ptr);
    const v = new Float32Array(this.backend.memory.buffer, ptr, n);
    for (let i = 0; i < n; i++) v[i] = this.rng.next() * 2 - 1;
    return ptr;
  }

  /** n f32 values uniform in [0, 1) (Adam's second moment must be non-negative). */
  f32pos(n: number): number {
    const ptr = this.f32(n);
    const v = new Float32Array(this.backend.memory.buffer, ptr, n);
    for (let i = 0; i < n; i++) v[i] = Math.abs(v[i]);
    return ptr;
  }

  /** n 4-byte values left as they are (outputs, i32 argmax). */
  raw(n: number): number {
    const ptr = this.backend.memory.alloc(n * 4);
    this.ptrs.push(ptr);
    return ptr;
  }

  free(): void {
    for (const p of this.ptrs) this.backend.memory.release(p);
    this.ptrs = [];
  }
}

function gemmCase(backend: Backend, bufs: Buffers, g: GemmShape): Case {
  return {
    name: g.name,
    shape: gemmShapeLabel(g),
    unit: 'GFLOP/s',
    work: gemmFlops(g),
    setup: () => {
      const k = backend.kernels;
      const { M, N, K } = g;
      const A = bufs.f32(M * K);
      const B = bufs.f32(K * N);
      const beta = g.beta ?? 0;
      const C = beta ? bufs.f32(M * N) : bufs.raw(M * N);
      const lda = g.transA ? M : K;
      const ldb = g.transB ? K : N;
      const tA = +g.transA;
      const tB = +g.transB;
      if (g.dots && (tA || !tB)) throw new Error(`${g.name}: gemm_nt_dots_f32 is NT only`);
      const call = g.dots
        ? (alpha: number) => k.gemm_nt_dots_f32(M, N, K, alpha, A, lda, B, ldb, beta, C, N)
        : (alpha: number) => k.gemm_f32(tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, C, N);
      if (beta) {
        // accumulating calls: keep C bounded by alternating the sign of alpha
        let alpha = 1;
        return () => {
          call(alpha);
          alpha = -alpha;
        };
      }
      return () => call(1);
    },
  };
}

/** Shapes of the fused inference convolution rows: [label, N, C, H (= W), FN, pad], 5x5 filters, 2x2 stride-2 max-pool. */
const FUSED_SHAPES: [string, number, number, number, number, number][] = [
  ['SimpleConvNet conv1', 100, 1, 28, 30, 0],
  ['4 filters', 100, 1, 28, 4, 0],
  ['3 channels, pad 2', 100, 3, 32, 32, 2],
  ['16 channels, pad 2', 100, 16, 14, 32, 2],
];

/** Name prefix of the fused inference convolution rows (bench/report.ts gives them a table of their own). */
export const FUSED_PREFIX = 'fused conv5x5';

/**
 * conv 5x5 + bias + ReLU + 2x2/2 max-pool at each FUSED_SHAPES shape by both algorithms, at "effective"
 * GFLOP/s: the direct convolution's 2 N FN OH OW C 25 FLOP over the call's time (filter transform included).
 */
function fusedCases(backend: Backend, bufs: Buffers): Case[] {
  const k = backend.kernels;
  return FUSED_SHAPES.flatMap(([label, N, C, H, FN, pad]): Case[] => {
    const O = H + 2 * pad - 4, P = O >> 1;
    const shape = `x (${N},${C},${H},${H}), ${FN} filters, pad ${pad} -> (${N},${FN},${P},${P})`;
    const work = 2 * N * FN * O * O * C * 25;
    return [
      {
        name: `${FUSED_PREFIX} ${label}: direct (conv_relu_pool)`, shape, unit: 'GFLOP/s', work,
        setup: () => {
          const x = bufs.f32(N * C * H * H), w = bufs.f32(FN * C * 25), b = bufs.f32(FN);
          const y = bufs.raw(N * FN * P * P), col = bufs.raw(convDataScratch(N, C * 25, FN, O * O));
          return () => k.conv_relu_pool_fwd_f32(x, N, C, H, H, w, FN, 5, 5, 1, 1, pad, pad, b, 1, 2, 2, 0, y, col);
        },
      },
      {
        name: `${FUSED_PREFIX} ${label}: F(4x4, 5x5) (wino5)`, shape, unit: 'GFLOP/s', work,
        setup: () => {
          const x = bufs.f32(N * C * H * H), w = bufs.f32(FN * C * 25), b = bufs.f32(FN);
          const u = bufs.raw(wino5FilterFloats(FN, C)), y = bufs.raw(N * FN * P * P), scratch = bufs.raw(wino5FwdScratch(C, H, H, pad));
          return () => {
            k.wino5_filter_f32(w, FN, C, u);
            k.wino5_relu_pool_fwd_f32(x, N, C, H, H, u, FN, pad, b, 1, y, scratch);
          };
        },
      },
    ];
  });
}

function otherCases(backend: Backend, bufs: Buffers): Case[] {
  const k = backend.kernels;
  const { N, C, H, W, FN, KH, KW, OH, OW, PH, PW } = NET;
  const CKK = C * KH * KW;
  const OHW = OH * OW;
  const xImg = C * H * W;
  const P = N * FN; // pooling planes
  const act = N * FN * OH * OW; // conv output elements
  const pooled = N * FN * PH * PW;
  const F = 4;
  return [
    {
      name: 'im2col 5x5 (batch 100)', shape: `x (${N},${C},${H},${W}) -> col (${CKK},${OHW})/image`, unit: 'GB/s',
      work: N * (xImg + CKK * OHW) * F,
      setup: () => {
        const x = bufs.f32(N * xImg);
        const col = bufs.raw(CKK * OHW);
        return () => {
          for (let n = 0; n < N; n++) k.im2col_f32(x + n * xImg * F, C, H, W, KH, KW, 1, 1, 0, 0, col);
        };
      },
    },
    {
      name: 'col2im 5x5 (batch 100)', shape: `col (${CKK},${OHW})/image -> dx (${N},${C},${H},${W})`, unit: 'GB/s',
      work: N * (xImg + CKK * OHW) * F,
      setup: () => {
        const col = bufs.f32(CKK * OHW);
        const dx = bufs.raw(N * xImg);
        return () => {
          for (let n = 0; n < N; n++) k.col2im_f32(col, C, H, W, KH, KW, 1, 1, 0, 0, dx + n * xImg * F);
        };
      },
    },
    {
      name: 'maxpool fwd 2x2/2', shape: `(${N},${FN},${OH},${OW}) -> (${N},${FN},${PH},${PW})`, unit: 'GB/s',
      work: (act + 2 * pooled) * F,
      setup: () => {
        const x = bufs.f32(act);
        const y = bufs.raw(pooled);
        const am = bufs.raw(pooled);
        return () => k.maxpool_fwd_f32(x, P, OH, OW, 2, 2, 2, 2, 0, 0, y, am);
      },
    },
    {
      name: 'maxpool bwd 2x2/2', shape: `(${N},${FN},${PH},${PW}) -> (${N},${FN},${OH},${OW})`, unit: 'GB/s',
      work: (act + 2 * pooled) * F,
      setup: () => {
        const x = bufs.f32(act);
        const y = bufs.raw(pooled);
        const am = bufs.raw(pooled);
        k.maxpool_fwd_f32(x, P, OH, OW, 2, 2, 2, 2, 0, 0, y, am); // a valid argmax
        const dy = bufs.f32(pooled);
        const dx = bufs.raw(act);
        return () => k.maxpool_bwd_f32(dy, am, P, OH, OW, 2, 2, 2, 2, 0, 0, dx);
      },
    },
    {
      name: 'avgpool fwd 2x2/2', shape: `(${N},${FN},${OH},${OW}) -> (${N},${FN},${PH},${PW})`, unit: 'GB/s',
      work: (act + pooled) * F,
      setup: () => {
        const x = bufs.f32(act);
        const y = bufs.raw(pooled);
        return () => k.avgpool_fwd_f32(x, P, OH, OW, 2, 2, 2, 2, 0, 0, y);
      },
    },
    {
      name: 'avgpool bwd 2x2/2', shape: `(${N},${FN},${PH},${PW}) -> (${N},${FN},${OH},${OW})`, unit: 'GB/s',
      work: (act + pooled) * F,
      setup: () => {
        const dy = bufs.f32(pooled);
        const dx = bufs.raw(act);
        return () => k.avgpool_bwd_f32(dy, P, OH, OW, 2, 2, 2, 2, 0, 0, dx);
      },
    },
    {
      name: 'relu fwd', shape: `(${N},${FN},${OH},${OW})`, unit: 'GB/s',
      work: 2 * act * F,
      setup: () => {
        const x = bufs.f32(act);
        const y = bufs.raw(act);
        return () => k.relu_fwd_f32(x, y, act);
      },
    },
    {
      name: 'relu bwd', shape: `(${N},${FN},${OH},${OW})`, unit: 'GB/s',
      work: 3 * act * F,
      setup: () => {
        const y = bufs.f32(act);
        const dy = bufs.f32(act);
        const dx = bufs.raw(act);
        return () => k.relu_bwd_f32(y, dy, dx, act);
      },
    },
    {
      name: 'adam update (all params)', shape: `${NET_PARAMS} floats`, unit: 'GB/s',
      work: 7 * NET_PARAMS * F, // reads p, g, m, v; writes p, m, v
      setup: () => {
        const n = NET_PARAMS;
        const p = bufs.f32(n);
        const g = bufs.f32(n);
        const m = bufs.f32(n);
        const v = bufs.f32pos(n);
        // a tiny step size keeps p stable over thousands of calls
        return () => k.adam_f32(p, g, m, v, n, 1e-9, 0.9, 0.999);
      },
    },
  ];
}

export interface KernelRun {
  figures: Figure[];
  failures: Failure[];
}

/**
 * Every kernel case on one backend (`gemmOnly`: the GEMMs, e.g. for the relaxed-SIMD build,
 * whose other kernels are the plain build's). A case that throws becomes a Failure; the
 * others still run.
 */
export function runKernels(backend: Backend, impl: Impl, b: { fast: Budget; slow: Budget }, quick: boolean,
  log: (s: string) => void, gemmOnly = false): KernelRun {
  const rng = new Random(1234);
  const bufs = new Buffers(backend, rng);
  const cases = [
    ...[...squareGemms(quick), ...networkGemms()].map((g) => gemmCase(backend, bufs, g)),
    ...(gemmOnly ? [] : [...otherCases(backend, bufs), ...fusedCases(backend, bufs)]),
  ];
  const figures: Figure[] = [];
  const failures: Failure[] = [];
  for (const c of cases) {
    try {
      const fn = c.setup();
      const timing = measureAuto(fn, b);
      const f = figure({ group: 'kernels', name: c.name, shape: c.shape, impl, unit: c.unit, work: c.work }, timing);
      figures.push(f);
      log(`kernels ${impl}: ${c.name} ${f.value.toFixed(2)} ${c.unit}`);
    } catch (e) {
      failures.push({ group: 'kernels', name: c.name, impl, error: errorMessage(e) });
      log(`kernels ${impl}: ${c.name} FAILED: ${errorMessage(e)}`);
    } finally {
      bufs.free();
    }
  }
  return { figures, failures };
}
