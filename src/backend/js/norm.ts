// norm.ts — PLACEHOLDER, replaced by the real JS twins. Shapes: see src/backend/kernels.ts.
import type { Heap } from './heap.js';
import type { Ptr } from '../kernels.js';

export function bn_fwd_train_f32(heap: Heap, x: Ptr, N: number, D: number, gamma: Ptr, beta: Ptr, eps: number, mean: Ptr, variance: Ptr, xhat: Ptr, y: Ptr): void {
  throw new Error('bn_fwd_train_f32: not implemented');
}

export function bn_fwd_eval_f32(heap: Heap, x: Ptr, N: number, D: number, gamma: Ptr, beta: Ptr, eps: number, runMean: Ptr, runVar: Ptr, y: Ptr): void {
  throw new Error('bn_fwd_eval_f32: not implemented');
}

export function bn_bwd_f32(heap: Heap, dy: Ptr, xhat: Ptr, variance: Ptr, gamma: Ptr, N: number, D: number, eps: number, dgamma: Ptr, dbeta: Ptr, dx: Ptr): void {
  throw new Error('bn_bwd_f32: not implemented');
}
