// pool.ts — PLACEHOLDER, replaced by the real JS twins. Shapes: see src/backend/kernels.ts.
import type { Heap } from './heap.js';
import type { Ptr } from '../kernels.js';

export function maxpool_fwd_f32(heap: Heap, x: Ptr, P: number, H: number, W: number, KH: number, KW: number, strideH: number, strideW: number, padH: number, padW: number, y: Ptr, argmax: Ptr): void {
  throw new Error('maxpool_fwd_f32: not implemented');
}

export function maxpool_bwd_f32(heap: Heap, dy: Ptr, argmax: Ptr, P: number, H: number, W: number, KH: number, KW: number, strideH: number, strideW: number, padH: number, padW: number, dx: Ptr): void {
  throw new Error('maxpool_bwd_f32: not implemented');
}

export function avgpool_fwd_f32(heap: Heap, x: Ptr, P: number, H: number, W: number, KH: number, KW: number, strideH: number, strideW: number, padH: number, padW: number, y: Ptr): void {
  throw new Error('avgpool_fwd_f32: not implemented');
}

export function avgpool_bwd_f32(heap: Heap, dy: Ptr, P: number, H: number, W: number, KH: number, KW: number, strideH: number, strideW: number, padH: number, padW: number, dx: Ptr): void {
  throw new Error('avgpool_bwd_f32: not implemented');
}
