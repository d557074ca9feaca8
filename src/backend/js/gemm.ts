// gemm.ts — the plain-JS twin of assembly/gemm.ts: C = alpha * op(A) * op(B) + beta * C,
// f32 storage, row-major (shapes: src/backend/kernels.ts). It is the baseline the Wasm
// kernel is compared against, so it is a fair scalar implementation, not a naive one:
//
//  * everything runs in dot-product form, C[i][j] = sum_k opA[i][k] * opB[k][j], where both
//    operands are walked along k with unit stride: op(A) rows are A's rows (or, if transA,
//    the rows of a blocked transpose of A into a scratch array), op(B) columns are B's rows
//    when transB (or the rows of a blocked transpose of B otherwise). No inner loop is strided.
//  * a 4x4 register tile (16 independent f64 accumulators, 8 loads per 16 multiply-adds)
//    with 4x1 / 1x4 / 1x1 tails; the op(B) columns are processed in chunks of ~128 KiB so
//    the chunk stays in L2 while every row block of op(A) streams over it.
//  * sums are accumulated in f64 (JS numbers), so this twin is slightly more accurate than
//    the f32x4 kernel; the two agree within float rounding.
//
// beta == 0 never reads C; alpha == 0 or K == 0 only scales C. Measured on the build
// machine this runs at ~5-6 GFLOP/s against ~2 for a plain i-k-j loop and ~0.8 for a
// naive i-j-k triple loop.
import type { Heap } from './heap.js';
import type { Ptr } from '../kernels.js';

/** Transposed copies of op(A)/op(B); reused across calls, grown on demand (JS heap, not the kernel memory). */
let scratch = new Float32Array(0);

function scratchOf(n: number): Float32Array {
  if (scratch.length < n) scratch = new Float32Array(Math.max(n, Math.min(2 * scratch.length, n + (1 << 20))));
  return scratch;
}

const TB = 32; // transpose tile

/** src: (rows, cols) at src[off + r*ld + c] -> dst: (cols, rows) dense at dst[dOff + c*rows + r], in TB x TB tiles. */
function transposeInto(src: Float32Array, off: number, ld: number, rows: number, cols: number,
  dst: Float32Array, dOff: number): void {
  for (let r0 = 0; r0 < rows; r0 += TB) {
    const r1 = Math.min(rows, r0 + TB);
    for (let c0 = 0; c0 < cols; c0 += TB) {
      const c1 = Math.min(cols, c0 + TB);
      for (let r = r0; r < r1; r++) {
        const s = off + r * ld;
        for (let c = c0; c < c1; c++) dst[dOff + c * rows + r] = src[s + c];
      }
    }
  }
}

export function gemm_f32(h: Heap, transA: number, transB: number, M: number, N: number, K: number,
  alpha: number, A: Ptr, lda: number, B: Ptr, ldb: number, beta: number, C: Ptr, ldc: number): void {
  // A: (M, K) or (K, M) if transA, row stride lda; B: (K, N) or (N, K) if transB, row stride ldb; C: (M, N), row stride ldc
  if (M <= 0 || N <= 0) return;
  const f = h.f32;
  const al = Math.fround(alpha);
  const be = Math.fround(beta);
  const c = C >> 2;
  if (K <= 0 || al === 0) {
    scaleRows(f, M, N, be, c, ldc);
    return;
  }
  // op(A) rows: a[aOff + i*aLd + k]; op(B) columns: b[bOff + j*bLd + k]
  let a = f, aOff = A >> 2, aLd = lda;
  let b = f, bOff = B >> 2, bLd = ldb;
  const need = (transA ? M * K : 0) + (transB ? 0 : N * K);
  if (need > 0) {
    const s = scratchOf(need);
    if (transA) {
      transposeInto(f, A >> 2, lda, K, M, s, 0);
      a = s; aOff = 0; aLd = K;
    }
    if (!transB) {
      const o = transA ? M * K : 0;
      transposeInto(f, B >> 2, ldb, K, N, s, o);
      b = s; bOff = o; bLd = K;
    }
  }
  // chunks of op(B) columns of ~128 KiB (multiple of 4 columns)
  const nb = Math.max(4, Math.floor(32768 / K) & ~3);
  for (let jc = 0; jc < N; jc += nb) {
    const jEnd = Math.min(N, jc + nb);
    dotBlock(f, a, aOff, aLd, b, bOff, bLd, M, jc, jEnd, K, al, be, c, ldc);
  }
}

/** C = alpha * A * B^T + beta * C: gemm_f32 NT (this twin has one path, already in dot-product form). */
export function gemm_nt_dots_f32(h: Heap, M: number, N: number, K: number, alpha: number, A: Ptr, lda: number,
  B: Ptr, ldb: number, beta: number, C: Ptr, ldc: number): void {
  // A: (M, K) row stride lda; B: (N, K) row stride ldb; C: (M, N) row stride ldc
  gemm_f32(h, 0, 1, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

/** C: (M, N) = beta * C; beta == 0 writes zeros without reading C. */
function scaleRows(f: Float32Array, M: number, N: number, beta: number, c: number, ldc: number): void {
  for (let i = 0; i < M; i++) {
    const r = c + i * ldc;
    if (beta === 0) f.fill(0, r, r + N);
    else for (let j = 0; j < N; j++) f[r + j] *= beta;
  }
}

/** C[i][j] for all i < M and jc <= j < jEnd, as 4x4 tiles of dot products plus tails. */
function dotBlock(f: Float32Array, a: Float32Array, aOff: number, aLd: number, b: Float32Array, bOff: number,
  bLd: number, M: number, jc: number, jEnd: number, K: number, al: number, be: number, c: number, ldc: number): void {
  // a: (M, K) row stride aLd; b: (N, K) row stride bLd (b row j = op(B) column j); C: (M, N) row stride ldc
  const bz = be === 0;
  let i = 0;
  for (; i + 4 <= M; i += 4) {
    const a0 = aOff + i * aLd, a1 = a0 + aLd, a2 = a1 + aLd, a3 = a2 + aLd;
    const c0 = c + i * ldc, c1 = c0 + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
    let j = jc;
    for (; j + 4 <= jEnd; j += 4) {
      const b0 = bOff + j * bLd, b1 = b0 + bLd, b2 = b1 + bLd, b3 = b2 + bLd;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      for (let k = 0; k < K; k++) {
        const y0 = b[b0 + k], y1 = b[b1 + k], y2 = b[b2 + k], y3 = b[b3 + k];
        let x = a[a0 + k];
        s00 += x * y0; s01 += x * y1; s02 += x * y2; s03 += x * y3;
        x = a[a1 + k];
        s10 += x * y0; s11 += x * y1; s12 += x * y2; s13 += x * y3;
        x = a[a2 + k];
        s20 += x * y0; s21 += x * y1; s22 += x * y2; s23 += x * y3;
        x = a[a3 + k];
        s30 += x * y0; s31 += x * y1; s32 += x * y2; s33 += x * y3;
      }
      let p = c0 + j;
      f[p] = bz ? al * s00 : al * s00 + be * f[p]; p++;
      f[p] = bz ? al * s01 : al * s01 + be * f[p]; p++;
      f[p] = bz ? al * s02 : al * s02 + be * f[p]; p++;
      f[p] = bz ? al * s03 : al * s03 + be * f[p];
      p = c1 + j;
      f[p] = bz ? al * s10 : al * s10 + be * f[p]; p++;
      f[p] = bz ? al * s11 : al * s11 + be * f[p]; p++;
      f[p] = bz ? al * s12 : al * s12 + be * f[p]; p++;
      f[p] = bz ? al * s13 : al * s13 + be * f[p];
      p = c2 + j;
      f[p] = bz ? al * s20 : al * s20 + be * f[p]; p++;
      f[p] = bz ? al * s21 : al * s21 + be * f[p]; p++;
      f[p] = bz ? al * s22 : al * s22 + be * f[p]; p++;
      f[p] = bz ? al * s23 : al * s23 + be * f[p];
      p = c3 + j;
      f[p] = bz ? al * s30 : al * s30 + be * f[p]; p++;
      f[p] = bz ? al * s31 : al * s31 + be * f[p]; p++;
      f[p] = bz ? al * s32 : al * s32 + be * f[p]; p++;
      f[p] = bz ? al * s33 : al * s33 + be * f[p];
    }
    for (; j < jEnd; j++) {
      // 4x1 tail column
      const b0 = bOff + j * bLd;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let k = 0; k < K; k++) {
        const y = b[b0 + k];
        s0 += a[a0 + k] * y; s1 += a[a1 + k] * y; s2 += a[a2 + k] * y; s3 += a[a3 + k] * y;
      }
      let p = c0 + j;
      f[p] = bz ? al * s0 : al * s0 + be * f[p];
      p = c1 + j;
      f[p] = bz ? al * s1 : al * s1 + be * f[p];
      p = c2 + j;
      f[p] = bz ? al * s2 : al * s2 + be * f[p];
      p = c3 + j;
      f[p] = bz ? al * s3 : al * s3 + be * f[p];
    }
  }
  for (; i < M; i++) {
    // 1x4 tail rows
    const a0 = aOff + i * aLd;
    const c0 = c + i * ldc;
    let j = jc;
    for (; j + 4 <= jEnd; j += 4) {
      const b0 = bOff + j * bLd, b1 = b0 + bLd, b2 = b1 + bLd, b3 = b2 + bLd;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let k = 0; k < K; k++) {
        const x = a[a0 + k];
        s0 += x * b[b0 + k]; s1 += x * b[b1 + k]; s2 += x * b[b2 + k]; s3 += x * b[b3 + k];
      }
      let p = c0 + j;
      f[p] = bz ? al * s0 : al * s0 + be * f[p]; p++;
      f[p] = bz ? al * s1 : al * s1 + be * f[p]; p++;
      f[p] = bz ? al * s2 : al * s2 + be * f[p]; p++;
      f[p] = bz ? al * s3 : al * s3 + be * f[p];
    }
    for (; j < jEnd; j++) {
      const b0 = bOff + j * bLd;
      let s = 0;
      for (let k = 0; k < K; k++) s += a[a0 + k] * b[b0 + k];
      const p = c0 + j;
      f[p] = bz ? al * s : al * s + be * f[p];
    }
  }
}
