// optim.ts — PLACEHOLDER, replaced by the real JS twins. Shapes: see src/backend/kernels.ts.
import type { Heap } from './heap.js';
import type { Ptr } from '../kernels.js';

export function sgd_f32(heap: Heap, p: Ptr, g: Ptr, n: number, lr: number): void {
  throw new Error('sgd_f32: not implemented');
}

export function momentum_f32(heap: Heap, p: Ptr, g: Ptr, v: Ptr, n: number, lr: number, momentum: number): void {
  throw new Error('momentum_f32: not implemented');
}

export function nesterov_f32(heap: Heap, p: Ptr, g: Ptr, v: Ptr, n: number, lr: number, momentum: number): void {
  throw new Error('nesterov_f32: not implemented');
}

export function adagrad_f32(heap: Heap, p: Ptr, g: Ptr, h: Ptr, n: number, lr: number): void {
  throw new Error('adagrad_f32: not implemented');
}

export function rmsprop_f32(heap: Heap, p: Ptr, g: Ptr, h: Ptr, n: number, lr: number, decay: number): void {
  throw new Error('rmsprop_f32: not implemented');
}

export function adam_f32(heap: Heap, p: Ptr, g: Ptr, m: Ptr, v: Ptr, n: number, lrt: number, beta1: number, beta2: number): void {
  throw new Error('adam_f32: not implemented');
}
