// bias.ts — plain-JS twins of assembly/bias.ts (same ABI, byte-offset pointers).
import type { Heap } from './heap.js';
import type { Ptr } from '../kernels.js';

/** y: (rows, cols) += b: (cols). */
export function bias_add_rows_f32(heap: Heap, y: Ptr, b: Ptr, rows: number, cols: number): void {
  const f = heap.f32;
  const bi = b >> 2;
  let yi = y >> 2;
  for (let r = 0; r < rows; r++, yi += cols) {
    for (let j = 0; j < cols; j++) f[yi + j] += f[bi + j];
  }
}

/** y: (N, C, HW) += b: (C). */
export function bias_add_channels_f32(heap: Heap, y: Ptr, b: Ptr, N: number, C: number, HW: number): void {
  const f = heap.f32;
  const bi = b >> 2;
  let yi = y >> 2;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++, yi += HW) {
      const s = f[bi + c];
      for (let i = 0; i < HW; i++) f[yi + i] += s;
    }
  }
}

/** dy: (rows, cols) -> db: (cols) = column sums (overwritten). */
export function bias_grad_rows_f32(heap: Heap, dy: Ptr, db: Ptr, rows: number, cols: number): void {
  const f = heap.f32;
  const oi = db >> 2;
  let di = dy >> 2;
  // row-major: accumulate each row into db (zeroed first), so dy is read sequentially
  f.fill(0, oi, oi + cols);
  for (let r = 0; r < rows; r++, di += cols) {
    for (let j = 0; j < cols; j++) f[oi + j] += f[di + j];
  }
}

/** dy: (N, C, HW) -> db: (C) = sums over N and HW (overwritten). */
export function bias_grad_channels_f32(heap: Heap, dy: Ptr, db: Ptr, N: number, C: number, HW: number): void {
  const f = heap.f32;
  const oi = db >> 2;
  f.fill(0, oi, oi + C);
  let di = dy >> 2;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++, di += HW) {
      let s = 0;
      for (let i = 0; i < HW; i++) s += f[di + i];
      f[oi + c] += s;
    }
  }
}
