// elementwise.ts — PLACEHOLDER, replaced by the real JS twins. Shapes: see src/backend/kernels.ts.
import type { Heap } from './heap.js';
import type { Ptr } from '../kernels.js';

export function mul_f32(heap: Heap, a: Ptr, b: Ptr, y: Ptr, n: number): void {
  throw new Error('mul_f32: not implemented');
}

export function axpby_f32(heap: Heap, x: Ptr, y: Ptr, n: number, a: number, b: number): void {
  throw new Error('axpby_f32: not implemented');
}

export function fill_f32(heap: Heap, y: Ptr, n: number, v: number): void {
  throw new Error('fill_f32: not implemented');
}

export function count_nonfinite_f32(heap: Heap, x: Ptr, n: number): number {
  throw new Error('count_nonfinite_f32: not implemented');
}
