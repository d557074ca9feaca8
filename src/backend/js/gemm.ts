// gemm.ts — PLACEHOLDER, replaced by the real JS twins. Shapes: see src/backend/kernels.ts.
import type { Heap } from './heap.js';
import type { Ptr } from '../kernels.js';

export function gemm_f32(heap: Heap, transA: number, transB: number, M: number, N: number, K: number, alpha: number, A: Ptr, lda: number, B: Ptr, ldb: number, beta: number, C: Ptr, ldc: number): void {
  throw new Error('gemm_f32: not implemented');
}
