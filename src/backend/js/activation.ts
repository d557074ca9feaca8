// activation.ts — plain-JS twins of assembly/activation.ts (same ABI, byte-offset pointers).
import type { Heap } from './heap.js';
import type { Ptr } from '../kernels.js';

/** x, y: (n). y = max(x, 0) with the course's mask (x <= 0 -> 0; NaN passes). y may equal x. */
export function relu_fwd_f32(heap: Heap, x: Ptr, y: Ptr, n: number): void {
  const f = heap.f32;
  const xi = x >> 2, yi = y >> 2;
  for (let i = 0; i < n; i++) {
    const v = f[xi + i];
    f[yi + i] = v <= 0 ? 0 : v;
  }
}

/** y (forward output), dy, dx: (n). dx = y > 0 ? dy : 0. dx may equal dy. */
export function relu_bwd_f32(heap: Heap, y: Ptr, dy: Ptr, dx: Ptr, n: number): void {
  const f = heap.f32;
  const yi = y >> 2, di = dy >> 2, oi = dx >> 2;
  for (let i = 0; i < n; i++) f[oi + i] = f[yi + i] > 0 ? f[di + i] : 0;
}

/** x, y: (n). y = 1 / (1 + exp(-x)). y may equal x. */
export function sigmoid_fwd_f32(heap: Heap, x: Ptr, y: Ptr, n: number): void {
  const f = heap.f32;
  const xi = x >> 2, yi = y >> 2;
  for (let i = 0; i < n; i++) f[yi + i] = 1 / (1 + Math.exp(-f[xi + i]));
}

/** y (forward output), dy, dx: (n). dx = dy * y * (1 - y). dx may equal dy. */
export function sigmoid_bwd_f32(heap: Heap, y: Ptr, dy: Ptr, dx: Ptr, n: number): void {
  const f = heap.f32;
  const yi = y >> 2, di = dy >> 2, oi = dx >> 2;
  for (let i = 0; i < n; i++) {
    const s = f[yi + i];
    f[oi + i] = f[di + i] * s * (1 - s);
  }
}
