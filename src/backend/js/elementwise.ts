// elementwise.ts — plain-JS twins of assembly/elementwise.ts (same ABI, byte-offset pointers).
import type { Heap } from './heap.js';
import type { Ptr } from '../kernels.js';

/** a, b, y: (n). y = a * b. */
export function mul_f32(heap: Heap, a: Ptr, b: Ptr, y: Ptr, n: number): void {
  const f = heap.f32;
  const ai = a >> 2, bi = b >> 2, yi = y >> 2;
  for (let i = 0; i < n; i++) f[yi + i] = f[ai + i] * f[bi + i];
}

/** x, y: (n). y = a * x + b * y; b == 0 means y is not read (as in BLAS). */
export function axpby_f32(heap: Heap, x: Ptr, y: Ptr, n: number, a: number, b: number): void {
  const f = heap.f32;
  const xi = x >> 2, yi = y >> 2;
  // the Wasm kernel receives a and b as f32
  a = Math.fround(a);
  b = Math.fround(b);
  if (b === 0) {
    for (let i = 0; i < n; i++) f[yi + i] = a * f[xi + i];
  } else {
    for (let i = 0; i < n; i++) f[yi + i] = a * f[xi + i] + b * f[yi + i];
  }
}

/** y: (n) = v. */
export function fill_f32(heap: Heap, y: Ptr, n: number, v: number): void {
  if (n <= 0) return;
  const yi = y >> 2;
  heap.f32.fill(v, yi, yi + n);
}

/** x: (n). Number of elements that are NaN or +-Infinity. */
export function count_nonfinite_f32(heap: Heap, x: Ptr, n: number): number {
  const f = heap.f32;
  const xi = x >> 2;
  let count = 0;
  for (let i = 0; i < n; i++) {
    const v = f[xi + i];
    if (v - v !== 0) count++; // NaN - NaN and Inf - Inf are NaN; finite v - v is 0
  }
  return count;
}
