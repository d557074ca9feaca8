// activation.ts — PLACEHOLDER, replaced by the real JS twins. Shapes: see src/backend/kernels.ts.
import type { Heap } from './heap.js';
import type { Ptr } from '../kernels.js';

export function relu_fwd_f32(heap: Heap, x: Ptr, y: Ptr, n: number): void {
  throw new Error('relu_fwd_f32: not implemented');
}

export function relu_bwd_f32(heap: Heap, y: Ptr, dy: Ptr, dx: Ptr, n: number): void {
  throw new Error('relu_bwd_f32: not implemented');
}

export function sigmoid_fwd_f32(heap: Heap, x: Ptr, y: Ptr, n: number): void {
  throw new Error('sigmoid_fwd_f32: not implemented');
}

export function sigmoid_bwd_f32(heap: Heap, y: Ptr, dy: Ptr, dx: Ptr, n: number): void {
  throw new Error('sigmoid_bwd_f32: not implemented');
}
