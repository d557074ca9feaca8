// bias.ts — PLACEHOLDER, replaced by the real JS twins. Shapes: see src/backend/kernels.ts.
import type { Heap } from './heap.js';
import type { Ptr } from '../kernels.js';

export function bias_add_rows_f32(heap: Heap, y: Ptr, b: Ptr, rows: number, cols: number): void {
  throw new Error('bias_add_rows_f32: not implemented');
}

export function bias_add_channels_f32(heap: Heap, y: Ptr, b: Ptr, N: number, C: number, HW: number): void {
  throw new Error('bias_add_channels_f32: not implemented');
}

export function bias_grad_rows_f32(heap: Heap, dy: Ptr, db: Ptr, rows: number, cols: number): void {
  throw new Error('bias_grad_rows_f32: not implemented');
}

export function bias_grad_channels_f32(heap: Heap, dy: Ptr, db: Ptr, N: number, C: number, HW: number): void {
  throw new Error('bias_grad_channels_f32: not implemented');
}
