// loss.ts — PLACEHOLDER, replaced by the real JS twins. Shapes: see src/backend/kernels.ts.
import type { Heap } from './heap.js';
import type { Ptr } from '../kernels.js';

export function softmax_f32(heap: Heap, x: Ptr, y: Ptr, N: number, C: number): void {
  throw new Error('softmax_f32: not implemented');
}

export function softmax_xent_fwd_f32(heap: Heap, x: Ptr, labels: Ptr, y: Ptr, N: number, C: number): number {
  throw new Error('softmax_xent_fwd_f32: not implemented');
}

export function softmax_xent_bwd_f32(heap: Heap, y: Ptr, labels: Ptr, dx: Ptr, N: number, C: number): void {
  throw new Error('softmax_xent_bwd_f32: not implemented');
}
