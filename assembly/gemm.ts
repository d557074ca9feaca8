// gemm.ts — PLACEHOLDER, replaced by the real kernels. Shapes: see src/backend/kernels.ts.

export function gemm_f32(transA: i32, transB: i32, M: i32, N: i32, K: i32, alpha: f32, A: usize, lda: i32, B: usize, ldb: i32, beta: f32, C: usize, ldc: i32): void { unreachable(); }
