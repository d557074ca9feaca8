// gemm_f32: hand-checked products and small odd shapes (micro-kernel tails, edge tiles)
// against a naive triple loop written here, for all four transposes; gemm_nt_dots_f32 (the dot
// path of the convolution's weight gradient): its tails, k-blocks and column blocks.
import { gemm_f32, gemm_nt_dots_f32 } from '../gemm';

function ptr<T>(a: StaticArray<T>): usize {
  return changetype<usize>(a);
}

function filled(n: i32, v: f32): StaticArray<f32> {
  const a = new StaticArray<f32>(n);
  for (let i = 0; i < n; i++) a[i] = v;
  return a;
}

/** Deterministic values in [-1, 1) (a small LCG), so every shape gets distinct inputs. */
function pseudo(n: i32, seed: u32): StaticArray<f32> {
  const a = new StaticArray<f32>(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = s * 1664525 + 1013904223;
    a[i] = <f32>(s >> 8) / <f32>(1 << 23) - 1;
  }
  return a;
}

/** Naive C = alpha * op(A) op(B) + beta * C in f64, C: (M, N) with row stride ldc. */
function naive(tA: i32, tB: i32, M: i32, N: i32, K: i32, alpha: f32, A: StaticArray<f32>, lda: i32,
  B: StaticArray<f32>, ldb: i32, beta: f32, C: StaticArray<f32>, ldc: i32): StaticArray<f32> {
  const out = new StaticArray<f32>(C.length);
  for (let i = 0; i < C.length; i++) out[i] = C[i];
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s: f64 = 0;
      for (let k = 0; k < K; k++) {
        const a = tA ? A[k * lda + i] : A[i * lda + k];
        const b = tB ? B[j * ldb + k] : B[k * ldb + j];
        s += <f64>a * <f64>b;
      }
      const c = <f64>C[i * ldc + j];
      out[i * ldc + j] = <f32>(beta == 0 ? <f64>alpha * s : <f64>alpha * s + <f64>beta * c);
    }
  }
  return out;
}

/** Runs one random case and checks every cell of C (padding columns must be untouched); `dots`: through gemm_nt_dots_f32 (NT only). */
function checkCase(tA: i32, tB: i32, M: i32, N: i32, K: i32, alpha: f32, beta: f32, pad: i32, seed: u32, dots: bool = false): void {
  const lda = (tA ? M : K) + pad;
  const ldb = (tB ? K : N) + pad;
  const ldc = N + pad;
  const A = pseudo((tA ? K : M) * lda, seed);
  const B = pseudo((tB ? N : K) * ldb, seed + 1);
  const C = beta == 0 ? filled(M * ldc, NaN) : pseudo(M * ldc, seed + 2);
  for (let i = 0; i < M; i++) for (let j = N; j < ldc; j++) C[i * ldc + j] = 777;
  const want = naive(tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  if (dots) gemm_nt_dots_f32(M, N, K, alpha, ptr(A), lda, ptr(B), ldb, beta, ptr(C), ldc);
  else gemm_f32(tA, tB, M, N, K, alpha, ptr(A), lda, ptr(B), ldb, beta, ptr(C), ldc);
  const tol: f32 = <f32>(K + 8) * 1.2e-7 * 4;
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < ldc; j++) {
      const got = C[i * ldc + j];
      const w = want[i * ldc + j];
      if (j >= N) {
        expect<f32>(got).toBe(777);
      } else {
        expect<bool>(isFinite<f32>(got)).toBe(true);
        expect<f32>(got).toBeCloseTo(w, 4);
        expect<bool>(Mathf.abs(got - w) <= tol * (1 + Mathf.abs(w))).toBe(true);
      }
    }
  }
}

describe('gemm_f32', () => {
  it('2x3 times 3x2, all four transposes, known result', () => {
    // op(A) = [[1, 2, 3], [4, 5, 6]], op(B) = [[7, 8], [9, 10], [11, 12]] -> [[58, 64], [139, 154]]
    const A = StaticArray.fromArray<f32>([1, 2, 3, 4, 5, 6]);
    const At = StaticArray.fromArray<f32>([1, 4, 2, 5, 3, 6]);
    const B = StaticArray.fromArray<f32>([7, 8, 9, 10, 11, 12]);
    const Bt = StaticArray.fromArray<f32>([7, 9, 11, 8, 10, 12]);
    for (let t = 0; t < 4; t++) {
      const tA = t & 1;
      const tB = t >> 1;
      const C = filled(4, NaN);
      gemm_f32(tA, tB, 2, 2, 3, 1, ptr(tA ? At : A), tA ? 2 : 3, ptr(tB ? Bt : B), tB ? 3 : 2, 0, ptr(C), 2);
      expect<f32>(C[0]).toBe(58);
      expect<f32>(C[1]).toBe(64);
      expect<f32>(C[2]).toBe(139);
      expect<f32>(C[3]).toBe(154);
    }
  });

  it('alpha and beta: C = 2 * A B - 1 * C', () => {
    const A = StaticArray.fromArray<f32>([1, 2, 3, 4]);
    const B = StaticArray.fromArray<f32>([5, 6, 7, 8]);
    const C = StaticArray.fromArray<f32>([1, 1, 1, 1]);
    gemm_f32(0, 0, 2, 2, 2, 2, ptr(A), 2, ptr(B), 2, -1, ptr(C), 2);
    // A B = [[19, 22], [43, 50]]
    expect<f32>(C[0]).toBe(37);
    expect<f32>(C[1]).toBe(43);
    expect<f32>(C[2]).toBe(85);
    expect<f32>(C[3]).toBe(99);
  });

  it('K == 0 and alpha == 0 only scale C; beta == 0 then writes zeros over NaN', () => {
    const A = filled(6, NaN);
    const B = filled(6, NaN);
    const C = StaticArray.fromArray<f32>([1, 2, 3, 4, 5, 6]);
    gemm_f32(0, 0, 2, 3, 0, 1, ptr(A), 1, ptr(B), 3, 0.5, ptr(C), 3);
    expect<f32>(C[5]).toBe(3);
    gemm_f32(1, 1, 2, 3, 1, 0, ptr(A), 2, ptr(B), 1, 2, ptr(C), 3);
    expect<f32>(C[5]).toBe(6);
    const D = filled(6, NaN);
    gemm_f32(0, 1, 2, 3, 1, 0, ptr(A), 1, ptr(B), 1, 0, ptr(D), 3);
    for (let i = 0; i < 6; i++) expect<f32>(D[i]).toBe(0);
  });

  it('M, N or K of 1: a dot product and an outer product', () => {
    checkCase(0, 0, 1, 1, 13, 1, 0, 0, 1);
    checkCase(0, 1, 1, 1, 13, 1, 0, 0, 2);
    checkCase(1, 0, 9, 11, 1, 1, 0, 0, 3);
    checkCase(1, 1, 9, 11, 1, 1, 0, 0, 4);
  });

  it('odd shapes hit every micro-kernel tail (rows % 5, columns % 8 and % 2, K % 4)', () => {
    let seed: u32 = 100;
    const dims: i32[] = [1, 2, 3, 4, 5, 6, 7, 9, 11, 13, 17];
    for (let t = 0; t < 4; t++) {
      for (let d = 0; d < dims.length; d++) {
        const M = dims[d];
        const N = dims[(d + 3) % dims.length];
        const K = dims[(d + 5) % dims.length];
        checkCase(t & 1, t >> 1, M, N, K, 1, 0, 0, seed++);
        checkCase(t & 1, t >> 1, N, K, M + 4, -0.5, 2, 3, seed++);
      }
    }
  });

  it('k-blocks of both paths (K > 256 and K > 512) accumulate with beta', () => {
    for (let t = 0; t < 4; t++) {
      checkCase(t & 1, t >> 1, 7, 10, 530, 1, 0.5, 1, 200 + t);
      checkCase(t & 1, t >> 1, 6, 3, 257, 1, 0, 0, 210 + t);
    }
  });

  it('row strides that are multiples of 1 KiB (packed op(B) in place of a strided read)', () => {
    // ldb = 256 floats = 1 KiB: the non-transposed B is packed instead of read in place
    checkCase(0, 0, 12, 20, 70, 1, 0, 256 - 20, 300);
    checkCase(1, 0, 12, 20, 70, 1, 1, 256 - 20, 301);
  });
});

describe('gemm_nt_dots_f32', () => {
  it('odd shapes hit every dot tail (rows % 5, an odd last column, K % 4), and a short k goes to gemm_f32', () => {
    let seed: u32 = 400;
    const dims: i32[] = [1, 2, 3, 4, 5, 6, 7, 9, 11, 13, 17];
    const ks: i32[] = [32, 33, 34, 35, 45, 100, 5, 31];
    for (let d = 0; d < dims.length; d++) {
      for (let q = 0; q < ks.length; q++) {
        const M = dims[d];
        const N = dims[(d + q + 3) % dims.length];
        checkCase(0, 1, M, N, ks[q], 1, 0, q % 3, seed++, true);
        checkCase(0, 1, N, M, ks[q], -0.5, 2, 1, seed++, true);
      }
    }
  });

  it('k-blocks (K > 512) accumulate with beta; column blocks (N * kc * 4 > 192 KiB)', () => {
    checkCase(0, 1, 7, 10, 530, 1, 0.5, 1, 500, true);
    checkCase(0, 1, 12, 101, 530, -1, 0, 0, 501, true);
    checkCase(0, 1, 30, 25, 576, 1, 1, 2, 502, true); // the weight gradient of a 30x5x5 convolution on 28x28
  });

  it('alpha == 0 only scales C, and M or N of 0 writes nothing', () => {
    const A = filled(64, NaN);
    const B = filled(64, NaN);
    const C = StaticArray.fromArray<f32>([1, 2, 3, 4]);
    gemm_nt_dots_f32(2, 2, 32, 0, ptr(A), 32, ptr(B), 32, 2, ptr(C), 2);
    expect<f32>(C[3]).toBe(8);
    gemm_nt_dots_f32(0, 2, 32, 1, ptr(A), 32, ptr(B), 32, 0, ptr(C), 2);
    gemm_nt_dots_f32(2, 0, 32, 1, ptr(A), 32, ptr(B), 32, 0, ptr(C), 2);
    expect<f32>(C[0]).toBe(2);
  });
});
