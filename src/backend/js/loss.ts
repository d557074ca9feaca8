// loss.ts — plain-JS twins of assembly/loss.ts (same ABI, byte-offset pointers).
// A label outside [0, C) makes its row's loss term (and its dx row) NaN, as in the Wasm kernels.
import type { Heap } from './heap.js';
import type { Ptr } from '../kernels.js';

/** f[yi .. yi+C) = softmax(f[xi .. xi+C)), stable (row max subtracted). yi may equal xi. */
function softmaxRow(f: Float32Array, xi: number, yi: number, C: number): void {
  let m = -Infinity;
  for (let j = 0; j < C; j++) {
    const v = f[xi + j];
    if (!(v <= m)) m = v; // also picks up NaN, so it propagates like f32.max
  }
  let s = 0;
  for (let j = 0; j < C; j++) {
    const e = Math.exp(f[xi + j] - m);
    f[yi + j] = e;
    s += e;
  }
  for (let j = 0; j < C; j++) f[yi + j] /= s;
}

/** x, y: (N, C). Row-wise numerically stable softmax. y may equal x. */
export function softmax_f32(heap: Heap, x: Ptr, y: Ptr, N: number, C: number): void {
  const f = heap.f32;
  const xi = x >> 2, yi = y >> 2;
  for (let i = 0; i < N; i++) softmaxRow(f, xi + i * C, yi + i * C, C);
}

/** x: (N, C), labels (i32): (N) -> y: (N, C); returns -sum_i log(y[i, t_i] + 1e-7) / N (0 when N == 0). */
export function softmax_xent_fwd_f32(heap: Heap, x: Ptr, labels: Ptr, y: Ptr, N: number, C: number): number {
  const f = heap.f32;
  const lab = heap.i32;
  const xi = x >> 2, yi = y >> 2, li = labels >> 2;
  let loss = 0;
  for (let i = 0; i < N; i++) {
    const row = yi + i * C;
    softmaxRow(f, xi + i * C, row, C);
    const t = lab[li + i];
    loss -= t >= 0 && t < C ? Math.log(f[row + t] + 1e-7) : NaN;
  }
  return N > 0 ? Math.fround(loss / N) : 0;
}

/** y: (N, C), labels (i32): (N) -> dx: (N, C) = (y - onehot(t)) / N. dx may equal y. */
export function softmax_xent_bwd_f32(heap: Heap, y: Ptr, labels: Ptr, dx: Ptr, N: number, C: number): void {
  if (N <= 0) return;
  const f = heap.f32;
  const lab = heap.i32;
  const yi = y >> 2, di = dx >> 2, li = labels >> 2;
  const inv = Math.fround(1 / N);
  for (let i = 0; i < N; i++) {
    const yr = yi + i * C, dr = di + i * C;
    const t = lab[li + i];
    const valid = t >= 0 && t < C;
    const yt = valid ? f[yr + t] : NaN; // read before dx (may alias y) is written
    for (let j = 0; j < C; j++) f[dr + j] = f[yr + j] * inv;
    if (valid) f[dr + t] = (yt - 1) * inv;
    else f.fill(NaN, dr, dr + C);
  }
}
