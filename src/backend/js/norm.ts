// norm.ts — plain-JS twins of assembly/norm.ts: batch normalization over the rows of x: (N, D)
// as in the course's BatchNormalization (biased variance, two-pass). The JS walks rows in
// memory order and keeps per-column sums in a reusable Float64Array (grown, never per call).
import type { Heap } from './heap.js';
import type { Ptr } from '../kernels.js';

let scratch = new Float64Array(256);
function cols(D: number, k: number): Float64Array {
  if (scratch.length < k * D) scratch = new Float64Array(Math.max(k * D, 2 * scratch.length));
  return scratch;
}

/** x: (N, D) -> mean, variance (biased): (D); xhat, y: (N, D); gamma, beta: (D). */
export function bn_fwd_train_f32(heap: Heap, x: Ptr, N: number, D: number, gamma: Ptr, beta: Ptr, eps: number,
  mean: Ptr, variance: Ptr, xhat: Ptr, y: Ptr): void {
  const f = heap.f32;
  const xi = x >> 2, gi = gamma >> 2, bi = beta >> 2, mi = mean >> 2, vi = variance >> 2, hi = xhat >> 2, yi = y >> 2;
  const s = cols(D, 2); // s[0..D): mean, s[D..2D): 1 / std
  s.fill(0, 0, 2 * D);
  // sums relative to the first row, as in the Wasm kernel (keeps the sums small when |mean| >> std)
  for (let r = 1, o = xi + D; r < N; r++, o += D) {
    for (let j = 0; j < D; j++) s[j] += f[o + j] - f[xi + j];
  }
  for (let j = 0; j < D; j++) s[j] = f[xi + j] + s[j] / N;
  for (let r = 0, o = xi; r < N; r++, o += D) {
    for (let j = 0; j < D; j++) {
      const d = f[o + j] - s[j];
      s[D + j] += d * d;
    }
  }
  for (let j = 0; j < D; j++) {
    const v = s[D + j] / N;
    f[mi + j] = s[j];
    f[vi + j] = v;
    s[D + j] = 1 / Math.sqrt(v + eps);
  }
  for (let r = 0, o = 0; r < N; r++, o += D) {
    for (let j = 0; j < D; j++) {
      const xh = (f[xi + o + j] - s[j]) * s[D + j];
      f[hi + o + j] = xh;
      f[yi + o + j] = f[gi + j] * xh + f[bi + j];
    }
  }
}

/** x: (N, D) -> y: (N, D) = gamma * (x - runMean) / sqrt(runVar + eps) + beta. y may equal x. */
export function bn_fwd_eval_f32(heap: Heap, x: Ptr, N: number, D: number, gamma: Ptr, beta: Ptr, eps: number,
  runMean: Ptr, runVar: Ptr, y: Ptr): void {
  const f = heap.f32;
  const xi = x >> 2, gi = gamma >> 2, bi = beta >> 2, mi = runMean >> 2, vi = runVar >> 2, yi = y >> 2;
  const s = cols(D, 1); // gamma / std
  for (let j = 0; j < D; j++) s[j] = f[gi + j] / Math.sqrt(f[vi + j] + eps);
  for (let r = 0, o = 0; r < N; r++, o += D) {
    for (let j = 0; j < D; j++) f[yi + o + j] = (f[xi + o + j] - f[mi + j]) * s[j] + f[bi + j];
  }
}

/**
 * dy, xhat: (N, D); variance, gamma: (D) -> dgamma, dbeta: (D), dx: (N, D). dx may equal dy.
 * dx = gamma / (N * sqrt(var + eps)) * (N * dy - dbeta - xhat * dgamma).
 */
export function bn_bwd_f32(heap: Heap, dy: Ptr, xhat: Ptr, variance: Ptr, gamma: Ptr, N: number, D: number, eps: number,
  dgamma: Ptr, dbeta: Ptr, dx: Ptr): void {
  const f = heap.f32;
  const di = dy >> 2, hi = xhat >> 2, vi = variance >> 2, gi = gamma >> 2, ggi = dgamma >> 2, bbi = dbeta >> 2, oi = dx >> 2;
  const s = cols(D, 3); // dbeta, dgamma, gamma / (N * std)
  s.fill(0, 0, 2 * D);
  for (let r = 0, o = 0; r < N; r++, o += D) {
    for (let j = 0; j < D; j++) {
      const d = f[di + o + j];
      s[j] += d;
      s[D + j] += d * f[hi + o + j];
    }
  }
  for (let j = 0; j < D; j++) {
    f[bbi + j] = s[j];
    f[ggi + j] = s[D + j];
    s[2 * D + j] = f[gi + j] / (N * Math.sqrt(f[vi + j] + eps));
  }
  for (let r = 0, o = 0; r < N; r++, o += D) {
    for (let j = 0; j < D; j++) {
      f[oi + o + j] = s[2 * D + j] * (N * f[di + o + j] - s[j] - f[hi + o + j] * s[D + j]);
    }
  }
}
