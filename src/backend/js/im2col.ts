// im2col.ts — PLACEHOLDER, replaced by the real JS twins. Shapes: see src/backend/kernels.ts.
import type { Heap } from './heap.js';
import type { Ptr } from '../kernels.js';

export function im2col_f32(heap: Heap, x: Ptr, C: number, H: number, W: number, KH: number, KW: number, strideH: number, strideW: number, padH: number, padW: number, col: Ptr): void {
  throw new Error('im2col_f32: not implemented');
}

export function col2im_f32(heap: Heap, col: Ptr, C: number, H: number, W: number, KH: number, KW: number, strideH: number, strideW: number, padH: number, padW: number, x: Ptr): void {
  throw new Error('col2im_f32: not implemented');
}
