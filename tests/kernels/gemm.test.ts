// gemm_f32 and gemm_nt_dots_f32: Wasm vs JS vs a naive triple loop (f64), property-based over random shapes
// (fast-check, seeded): M/N/K of 1, primes and non-multiples of 4 and of the micro-tiles,
// leading dimensions larger than the minimum (incl. 1 KiB multiples), alpha/beta values incl.
// beta = 0 over a NaN-filled C, all four transposes; plus the shapes of SimpleConvNet.
//
// Tolerance: an elementwise error bound, not a fixed epsilon. Any order of f32 summation of
// K products errs by at most ~K * 2^-24 * sum_k |a_k b_k| (plus the alpha/beta rounding), so
// each cell must satisfy |got - ref| <= (K + 8) * 2^-23 * (|alpha| sum|ab| + |beta c|) — loose
// enough for every blocking, tight enough that a dropped or doubled term is caught.
import { describe, it, expect, beforeAll } from 'vitest';
import fc from 'fast-check';
import { harness, randomF32, maxRelErr, type Harness } from '../helpers/harness.js';

const SEED = 20240611;
const GUARD = 7; // cells after C that the kernel must not touch
const SENTINEL = 4242.5; // padding columns of C and guard cells

let wasm: Harness;
let js: Harness;
beforeAll(async () => {
  wasm = await harness('wasm');
  js = await harness('js');
});

interface Case {
  tA: number; tB: number; M: number; N: number; K: number;
  alpha: number; beta: number; padA: number; padB: number; padC: number; seed: number;
  /** Through gemm_nt_dots_f32 (tA = 0, tB = 1) instead of gemm_f32. */
  dots?: boolean;
}

interface Inputs { A: Float32Array; lda: number; B: Float32Array; ldb: number; C: Float32Array; ldc: number }

function inputs(cs: Case): Inputs {
  const lda = (cs.tA ? cs.M : cs.K) + cs.padA;
  const ldb = (cs.tB ? cs.K : cs.N) + cs.padB;
  const ldc = cs.N + cs.padC;
  const A = randomF32((cs.tA ? cs.K : cs.M) * lda, cs.seed);
  const B = randomF32((cs.tB ? cs.N : cs.K) * ldb, cs.seed + 1);
  // beta == 0: C holds NaN (must not be read); otherwise random values. Padding: sentinels.
  const C = cs.beta === 0 ? new Float32Array(cs.M * ldc).fill(NaN) : randomF32(cs.M * ldc, cs.seed + 2);
  for (let i = 0; i < cs.M; i++) C.fill(SENTINEL, i * ldc + cs.N, (i + 1) * ldc);
  return { A, lda, B, ldb, C, ldc };
}

/** The naive triple loop in f64, and the per-cell error bound. */
function reference(cs: Case, x: Inputs): { C: Float64Array; bound: Float64Array } {
  const { M, N, K, tA, tB } = cs;
  const alpha = Math.fround(cs.alpha), beta = Math.fround(cs.beta);
  const C = new Float64Array(x.C.length);
  const bound = new Float64Array(x.C.length);
  const eps = (K + 8) * 2 ** -23;
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      let sabs = 0;
      for (let k = 0; k < K; k++) {
        const a = tA ? x.A[k * x.lda + i] : x.A[i * x.lda + k];
        const b = tB ? x.B[j * x.ldb + k] : x.B[k * x.ldb + j];
        s += a * b;
        sabs += Math.abs(a * b);
      }
      const idx = i * x.ldc + j;
      const c = x.C[idx];
      C[idx] = beta === 0 ? alpha * s : alpha * s + beta * c;
      bound[idx] = eps * (Math.abs(alpha) * sabs + (beta === 0 ? 0 : Math.abs(beta * c))) + 1e-30;
    }
  }
  return { C, bound };
}

/** Runs the case on one backend; returns C (M * ldc cells), the guard cells, and A/B as read back. */
function run(h: Harness, cs: Case, x: Inputs) {
  try {
    const pa = h.putF32(x.A);
    const pb = h.putF32(x.B);
    const pc = h.alloc(x.C.length + GUARD);
    new Float32Array(h.backend.memory.buffer, pc, x.C.length).set(x.C);
    new Float32Array(h.backend.memory.buffer, pc + x.C.length * 4, GUARD).fill(SENTINEL);
    if (cs.dots) h.k.gemm_nt_dots_f32(cs.M, cs.N, cs.K, cs.alpha, pa, x.lda, pb, x.ldb, cs.beta, pc, x.ldc);
    else h.k.gemm_f32(cs.tA, cs.tB, cs.M, cs.N, cs.K, cs.alpha, pa, x.lda, pb, x.ldb, cs.beta, pc, x.ldc);
    return {
      C: h.getF32(pc, x.C.length),
      guard: h.getF32(pc + x.C.length * 4, GUARD),
      A: h.getF32(pa, x.A.length),
      B: h.getF32(pb, x.B.length),
    };
  } finally {
    h.reset();
  }
}

/** Index of the first cell that breaks the bound (or padding/guard/input that changed), -1 if none. */
function firstBad(cs: Case, x: Inputs, got: ReturnType<typeof run>, ref: ReturnType<typeof reference>, slack = 1): string | null {
  for (let i = 0; i < cs.M; i++) {
    for (let j = 0; j < x.ldc; j++) {
      const idx = i * x.ldc + j;
      const g = got.C[idx];
      if (j >= cs.N) {
        if (g !== SENTINEL) return `padding C[${i}][${j}] changed to ${g}`;
      } else if (!(Math.abs(g - ref.C[idx]) <= slack * ref.bound[idx])) {
        return `C[${i}][${j}] = ${g}, want ${ref.C[idx]} (bound ${ref.bound[idx]})`;
      }
    }
  }
  if (!got.guard.every((v) => v === SENTINEL)) return 'wrote past the end of C';
  if (!got.A.every((v, i) => Object.is(v, x.A[i]))) return 'A changed';
  if (!got.B.every((v, i) => Object.is(v, x.B[i]))) return 'B changed';
  return null;
}

/** Both backends against the reference, and against each other. */
function checkBoth(cs: Case): void {
  const x = inputs(cs);
  const ref = reference(cs, x);
  const w = run(wasm, cs, x);
  const j = run(js, cs, x);
  const what = JSON.stringify(cs);
  expect(firstBad(cs, x, w, ref), `wasm ${what}`).toBeNull();
  expect(firstBad(cs, x, j, ref), `js ${what}`).toBeNull();
  // wasm vs js: each is within the bound of the reference, so within twice the bound of each other
  const jAsRef = { C: Float64Array.from(j.C), bound: ref.bound };
  expect(firstBad(cs, x, w, jAsRef, 2), `wasm vs js ${what}`).toBeNull();
}

const dim = fc.oneof(
  fc.constantFrom(1, 2, 3, 4, 5, 7, 8, 9, 11, 13, 16, 17, 31, 41),
  fc.integer({ min: 1, max: 64 }),
);
const kdim = fc.oneof(
  fc.constantFrom(1, 2, 3, 4, 5, 7, 8, 9, 25, 31, 33),
  fc.integer({ min: 1, max: 120 }),
  fc.integer({ min: 250, max: 620 }), // crosses the k-blocks (256 broadcast and narrow)
);
const pad = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 1, max: 9 }));
const caseArb: fc.Arbitrary<Case> = fc.record({
  tA: fc.constantFrom(0, 1),
  tB: fc.constantFrom(0, 1),
  M: dim,
  N: dim,
  K: kdim,
  alpha: fc.constantFrom(1, 1, -1, 0.5, 2.5, 0),
  beta: fc.constantFrom(0, 0, 1, -0.5, 2),
  padA: pad,
  padB: pad,
  padC: pad,
  seed: fc.integer({ min: 1, max: 1 << 30 }),
});

describe('gemm_f32 (wasm and js) vs a naive triple loop', () => {
  it('random shapes, strides, alpha/beta and transposes', () => {
    fc.assert(fc.property(caseArb, (cs) => checkBoth(cs)), { seed: SEED, numRuns: 400 });
  });

  it('gemm_nt_dots_f32 (the dot path for few columns over a long k): random shapes, strides, alpha/beta', () => {
    const dotsArb = caseArb.map((cs) => ({ ...cs, tA: 0, tB: 1, dots: true }));
    fc.assert(fc.property(dotsArb, (cs) => checkBoth(cs)), { seed: SEED + 1, numRuns: 300 });
    // the shape of SimpleConvNet's weight gradient, and several k-blocks (K > 512) and column blocks
    checkBoth({ tA: 0, tB: 1, M: 30, N: 25, K: 576, alpha: 1, beta: 1, padA: 0, padB: 0, padC: 0, seed: 77, dots: true });
    checkBoth({ tA: 0, tB: 1, M: 12, N: 101, K: 1100, alpha: -1, beta: 0, padA: 3, padB: 1, padC: 2, seed: 78, dots: true });
  });

  it('every transpose on odd sizes around the 5x8 tile', () => {
    const sizes = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13];
    let seed = 1;
    for (let t = 0; t < 4; t++) {
      for (const M of sizes) {
        for (const N of [1, 3, 8, 9, 17]) {
          checkBoth({ tA: t & 1, tB: t >> 1, M, N, K: [1, 3, 4, 6, 13][(M + N) % 5], alpha: 1, beta: 0, padA: 0, padB: 1, padC: 2, seed: seed++ });
        }
      }
    }
  });

  it('narrow N (9..12, the 3x12 tile of the narrow path) on every transpose, with leftover rows and k-blocks', () => {
    // M covers full 3-row tiles, partial ones, and the 1 or 2 rows left after the last 5-row
    // block (M % 5 of 1, 2), which the narrow path sums like the broadcast path's row kernel
    let seed = 700;
    for (let t = 0; t < 4; t++) {
      for (const N of [9, 10, 11, 12]) {
        for (const M of [1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 13, 16, 17, 100]) {
          const K = [1, 3, 10, 31, 100, 300][(M + N + t) % 6];
          const beta = [0, 1, -0.5][(M + t) % 3];
          checkBoth({ tA: t & 1, tB: t >> 1, M, N, K, alpha: M % 2 ? 1 : -0.75, beta, padA: M % 3, padB: N % 2, padC: (M + N) % 4, seed: seed++ });
        }
      }
    }
  });

  it('NT with a short k (K < 32), through the broadcast and narrow paths', () => {
    let seed = 900;
    for (const K of [1, 2, 5, 10, 16, 31, 32, 33]) {
      for (const [M, N] of [[100, 100], [7, 13], [1, 10], [12, 4], [42, 26], [5, 8]]) {
        checkBoth({ tA: 0, tB: 1, M, N, K, alpha: 1.5, beta: K % 2 ? 0 : 0.5, padA: K % 3, padB: 1, padC: N % 3, seed: seed++ });
      }
    }
  });

  it('4-row tiles and 4-column edges (the Winograd shapes: FN of 16 to 64 rows, 98 or 100 tile columns)', () => {
    // M % 5 = 4 runs micro_4x8 into C; N % 8 = 4 reads the edge in place when no tile of the row
    // block has 1 or 2 rows (M % 5 = 0, 3, 4), else packs it; k past one KC block, both betas
    let seed = 1300;
    for (const M of [4, 9, 14, 16, 32, 64, 84]) {
      for (const N of [4, 20, 98, 100]) {
        for (const K of [16, 64, 300]) {
          checkBoth({ tA: 0, tB: 0, M, N, K, alpha: seed % 2 ? 1 : -1.5, beta: seed % 3 ? 0 : 0.5, padA: 0, padB: M % 3, padC: 1, seed: seed++ });
        }
      }
    }
  });

  it('row strides that are multiples of 1 KiB, several row blocks (M > 40) and k-blocks', () => {
    for (let t = 0; t < 4; t++) {
      const tA = t & 1, tB = t >> 1;
      // ldb = 256 floats (1 KiB): a non-transposed B is packed rather than read in place
      checkBoth({ tA, tB, M: 43, N: 21, K: 300, alpha: 1, beta: 0.5, padA: tA ? 256 - 43 : 0, padB: tB ? 0 : 256 - 21, padC: 3, seed: 50 + t });
      // several k-blocks (K > 512) and column panels
      checkBoth({ tA, tB, M: 12, N: 101, K: 530, alpha: -1, beta: 0, padA: 1, padB: 0, padC: 0, seed: 60 + t });
    }
  });

  it('K == 0, alpha == 0, M == 0 and N == 0', () => {
    for (const h of [wasm, js]) {
      try {
        const A = h.putF32([NaN, NaN, NaN, NaN]);
        const B = h.putF32([NaN, NaN, NaN, NaN]);
        const C = h.putF32([1, 2, 3, 4]);
        h.k.gemm_f32(0, 0, 2, 2, 0, 1, A, 1, B, 2, 0.5, C, 2); // K == 0: C = beta * C
        expect(Array.from(h.getF32(C, 4))).toEqual([0.5, 1, 1.5, 2]);
        h.k.gemm_f32(1, 1, 2, 2, 2, 0, A, 2, B, 2, 2, C, 2); // alpha == 0: A, B not read
        expect(Array.from(h.getF32(C, 4))).toEqual([1, 2, 3, 4]);
        const D = h.alloc(4); // NaN
        h.k.gemm_f32(0, 1, 2, 2, 2, 0, A, 2, B, 2, 0, D, 2); // alpha == beta == 0: zeros
        expect(Array.from(h.getF32(D, 4))).toEqual([0, 0, 0, 0]);
        h.k.gemm_f32(0, 0, 0, 2, 2, 1, A, 2, B, 2, 0, D, 2); // M == 0: nothing
        h.k.gemm_f32(0, 0, 2, 0, 2, 1, A, 2, B, 2, 0, D, 2); // N == 0: nothing
        expect(Array.from(h.getF32(D, 4))).toEqual([0, 0, 0, 0]);
      } finally {
        h.reset();
      }
    }
  });

  // SimpleConvNet, batch 100: conv 30 filters 5x5 over 1x28x28 (col: 25 x 576 per image),
  // affine 4320 -> 100 -> 10. Forward, and the two backward products of each layer.
  const network: [string, number, number, number, number, number][] = [
    ['conv forward  W(30,25) col(25,576)', 0, 0, 30, 576, 25],
    ['conv dW       dY(30,576) col^T', 0, 1, 30, 25, 576],
    ['conv dcol     W^T dY(30,576)', 1, 0, 25, 576, 30],
    ['affine fwd    x(100,4320) W(4320,100)', 0, 0, 100, 100, 4320],
    ['affine dW     x^T(4320,100) dY(100,100)', 1, 0, 4320, 100, 100],
    ['affine dx     dY(100,100) W^T', 0, 1, 100, 4320, 100],
    ['affine2 fwd   x(100,100) W(100,10)', 0, 0, 100, 10, 100],
    ['affine2 dW    x^T(100,100) dY(100,10)', 1, 0, 100, 10, 100],
    ['affine2 dx    dY(100,10) W^T', 0, 1, 100, 100, 10],
  ];
  for (const [name, tA, tB, M, N, K] of network) {
    it(`network shape: ${name} (M=${M}, N=${N}, K=${K})`, () => {
      checkBoth({ tA, tB, M, N, K, alpha: 1, beta: 0, padA: 0, padB: 0, padC: 0, seed: M * 7 + N * 13 + K });
      // accumulate into an existing gradient (beta = 1)
      const cs = { tA, tB, M, N, K, alpha: 1, beta: 1, padA: 0, padB: 0, padC: 0, seed: M + N + K };
      const x = inputs(cs);
      const ref = reference(cs, x);
      const w = run(wasm, cs, x);
      expect(firstBad(cs, x, w, ref)).toBeNull();
      expect(maxRelErr(w.C, ref.C)).toBeLessThan(1e-4);
    });
  }
});
